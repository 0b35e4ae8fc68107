"""FaissIndexDataset: the catalog's ad_index round-trips identical search results, versions, atomic saves."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest
import yaml
from kedro.io import DataCatalog, DatasetError, Version

from adrank_pipelines.datasets.faiss_index import FaissIndexDataset
from adrank_pipelines.retrieval.config import IndexSpec
from adrank_pipelines.retrieval.index import build_index, index_ad_ids, search
from tests.conftest import PROJECT_ROOT
from tests.retrieval.vector_fixtures import clustered_ads, queries


def _catalog(tmp_path: Path) -> DataCatalog:
    """The project's ``ad_index`` entry, writing under ``tmp_path``."""
    entry = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "catalog_indexing.yml").read_text())["ad_index"]
    return DataCatalog.from_config({"ad_index": {**entry, "filepath": str(tmp_path / "ad_index.faiss")}})


@pytest.mark.parametrize(
    "spec",
    [
        IndexSpec(factory="IVF16,Flat", nprobe=3),
        IndexSpec(factory="HNSW16", ef_search=40),
        IndexSpec(factory="IVF16,Flat", nprobe=3, mips_to_l2=True),
    ],
)
def test_round_trip_through_the_catalog_returns_identical_results(tmp_path: Path, spec: IndexSpec):
    ads = clustered_ads()
    index = build_index(spec, ads.vectors, ads.ad_ids).index
    catalog = _catalog(tmp_path)
    catalog.save("ad_index", index)
    loaded = catalog.load("ad_index")
    for original, restored in zip(search(index, queries(), 30), search(loaded, queries(), 30), strict=True):
        np.testing.assert_array_equal(original, restored)
    np.testing.assert_array_equal(index_ad_ids(loaded), ads.ad_ids)  # the id mapping travels with the index


def test_each_save_is_a_new_version_and_the_latest_is_loaded(tmp_path: Path):
    ads = clustered_ads(n=300)
    assert not FaissIndexDataset(filepath=str(tmp_path / "ad_index.faiss"), version=Version(None, None)).exists()
    first = FaissIndexDataset(
        filepath=str(tmp_path / "ad_index.faiss"), version=Version(None, "2026-01-01T00.00.00.000Z")
    )
    first.save(build_index(IndexSpec(factory="Flat"), ads.vectors, ads.ad_ids).index)
    second = FaissIndexDataset(
        filepath=str(tmp_path / "ad_index.faiss"), version=Version(None, "2026-01-02T00.00.00.000Z")
    )
    second.save(build_index(IndexSpec(factory="Flat"), ads.vectors[:100], ads.ad_ids[:100]).index)
    latest = FaissIndexDataset(filepath=str(tmp_path / "ad_index.faiss"), version=Version(None, None))
    assert latest.exists() and latest.load().ntotal == 100
    pinned = FaissIndexDataset(
        filepath=str(tmp_path / "ad_index.faiss"), version=Version("2026-01-01T00.00.00.000Z", None)
    )
    assert pinned.load().ntotal == 300


def test_a_failed_save_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    ads = clustered_ads(n=300)
    index = build_index(IndexSpec(factory="Flat"), ads.vectors, ads.ad_ids).index
    catalog = _catalog(tmp_path)

    def failing_write(*args, **kwargs) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(faiss, "write_index", failing_write)
    with pytest.raises(DatasetError, match="disk full"):
        catalog.save("ad_index", index)
    assert not any(path.is_file() for path in tmp_path.rglob("*"))
    assert list((tmp_path / "ad_index.faiss").iterdir()) == []  # no empty version folder either


def test_an_index_without_its_ad_ids_is_refused_and_a_missing_one_named(tmp_path: Path):
    bare = faiss.IndexFlatIP(4)
    dataset = FaissIndexDataset(filepath=str(tmp_path / "bare.faiss"))
    with pytest.raises(DatasetError, match="does not carry its ad ids"):
        dataset.save(bare)
    with pytest.raises(DatasetError, match="no saved FAISS index"):
        dataset.load()
