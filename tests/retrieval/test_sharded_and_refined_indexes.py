"""Sharded indexes, product-quantised indexes with a refine stage, and their saved files."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest
from pydantic import ValidationError

from adrank_pipelines.datasets.faiss_index import SHARDS_HEADER, FaissIndexDataset
from adrank_pipelines.retrieval.config import IndexSpec
from adrank_pipelines.retrieval.index import build_index, index_ad_ids, index_bytes, index_shards, search
from tests.retrieval.vector_fixtures import brute_force_top_k, clustered_ads, queries

# 4-bit codes: 16 centroids per sub-quantizer train on the fixtures' 2,000 ads without FAISS warnings.
PQ_REFINED = "IVF16,PQ17x4,RFlat"  # 16-d fixtures + the L2 lift = 17 dimensions, one per sub-quantizer


@pytest.mark.parametrize("mips_to_l2", [False, True])
def test_a_sharded_flat_index_answers_as_the_unsharded_one(mips_to_l2: bool):
    ads = clustered_ads()
    whole = build_index(IndexSpec(factory="Flat", mips_to_l2=mips_to_l2), ads.vectors, ads.ad_ids).index
    sharded = build_index(IndexSpec(factory="Flat", mips_to_l2=mips_to_l2, shards=3), ads.vectors, ads.ad_ids).index
    assert len(index_shards(sharded)) == 3 and sharded.ntotal == len(ads.ad_ids)
    whole_scores, whole_ids = search(whole, queries(), 40)
    sharded_scores, sharded_ids = search(sharded, queries(), 40)
    np.testing.assert_array_equal(sharded_ids, whole_ids)
    np.testing.assert_allclose(sharded_scores, whole_scores, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(sharded_ids, brute_force_top_k(queries(), ads, 40))
    np.testing.assert_array_equal(index_ad_ids(sharded), ads.ad_ids)  # shard after shard, in insertion order


def test_search_parameters_reach_every_shard():
    ads = clustered_ads()
    spec = IndexSpec(factory="IVF16,Flat", nprobe=16, shards=2, mips_to_l2=True)  # every list probed: exact
    index = build_index(spec, ads.vectors, ads.ad_ids).index
    assert [faiss.extract_index_ivf(part).nprobe for part in index_shards(index)] == [16, 16]
    np.testing.assert_array_equal(search(index, queries(), 30)[1], brute_force_top_k(queries(), ads, 30))


@pytest.mark.parametrize("mips_to_l2", [False, True])
def test_a_refine_stage_over_every_candidate_is_exact(mips_to_l2: bool):
    ads = clustered_ads()
    factory = PQ_REFINED if mips_to_l2 else "IVF16,PQ16x4,RFlat"
    # All 16 lists probed and k_factor x k = every ad re-ranked by its full vector: exact search.
    spec = IndexSpec(factory=factory, nprobe=16, k_factor=len(ads.ad_ids) / 10, mips_to_l2=mips_to_l2, train_size=800)
    index = build_index(spec, ads.vectors, ads.ad_ids).index
    np.testing.assert_array_equal(search(index, queries(), 10)[1], brute_force_top_k(queries(), ads, 10))
    np.testing.assert_array_equal(index_ad_ids(index), ads.ad_ids)


@pytest.mark.parametrize("shards", [1, 2])
def test_a_pq_refine_index_round_trips_through_the_dataset(tmp_path: Path, shards: int):
    ads = clustered_ads()
    spec = IndexSpec(factory=PQ_REFINED, nprobe=4, k_factor=3, mips_to_l2=True, shards=shards)
    index = build_index(spec, ads.vectors, ads.ad_ids).index
    dataset = FaissIndexDataset(filepath=str(tmp_path / "ad_index.faiss"))
    dataset.save(index)
    loaded = dataset.load()
    for original, restored in zip(search(index, queries(), 30), search(loaded, queries(), 30), strict=True):
        np.testing.assert_array_equal(original, restored)
    np.testing.assert_array_equal(index_ad_ids(loaded), ads.ad_ids)
    parts = index_shards(loaded)
    assert len(parts) == shards
    assert all(faiss.extract_index_ivf(part).nprobe == 4 for part in parts)  # search parameters saved too
    saved = (tmp_path / "ad_index.faiss").stat().st_size
    header = 0 if shards == 1 else len(SHARDS_HEADER) + 4
    assert saved == index_bytes(index) + header


def test_the_structure_of_a_spec_leaves_out_its_search_parameters():
    spec = IndexSpec(factory=PQ_REFINED, nprobe=4, k_factor=3, shards=2, train_size=800, mips_to_l2=True)
    assert spec.structure == IndexSpec(factory=PQ_REFINED, shards=2, train_size=800, mips_to_l2=True)
    assert spec.name == f"{PQ_REFINED} nprobe=4 k_factor=3 shards=2 train=800 MIPS->L2"


@pytest.mark.parametrize(
    ("fields", "parameter"),
    [({"shards": 0}, "shards"), ({"k_factor": 0.5}, "k_factor"), ({"train_size": 0}, "train_size")],
)
def test_out_of_range_spec_values_fail_naming_the_parameter(fields: dict, parameter: str):
    with pytest.raises(ValidationError, match=parameter):
        IndexSpec(factory="IVF16,Flat", **fields)


def test_k_factor_on_an_index_without_a_refine_stage_fails_naming_it():
    ads = clustered_ads(n=500)
    with pytest.raises(ValueError, match="k_factor in its index spec"):
        build_index(IndexSpec(factory="IVF8,Flat", k_factor=4), ads.vectors, ads.ad_ids)
