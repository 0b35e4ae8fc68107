"""A FAISS index in the catalog: one ``faiss.write_index`` file that also holds the ad-id mapping.

The index must hold an ``IndexIDMap`` / ``IndexIDMap2`` (as every index of
:func:`adrank_pipelines.retrieval.index.build_index` does) so its search answers with ad ids and the
mapping is saved inside the same file; search-time parameters set on the index (nprobe, efSearch,
k_factor) are saved with it. A save writes a temporary file beside the target and renames it into
place, so a failed save never leaves a half-written index where the catalog looks. Versioning follows Kedro's
``versioned: true`` (``<filepath>/<version>/<name>``).

FAISS cannot serialise a sharded index (``faiss.IndexShards``), so one is saved as
:data:`SHARDS_HEADER`, the shard count, then each shard as ``faiss.write_index`` writes it, back to
back in the one file (still one atomic rename); an unsharded index's file is plain FAISS.
"""

from __future__ import annotations

import os
import struct
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import faiss
from kedro.io import AbstractVersionedDataset, DatasetError, Version

from adrank_pipelines.retrieval.index import carries_ad_ids, combine_shards, index_shards

SHARDS_HEADER = b"adrank FAISS shards\n"
_COUNT = struct.Struct("<I")


def _write(index: faiss.Index, path: str) -> None:
    parts = index_shards(index)
    if len(parts) == 1:
        faiss.write_index(parts[0], path)
        return
    with open(path, "wb") as file:
        file.write(SHARDS_HEADER + _COUNT.pack(len(parts)))
        writer = faiss.PyCallbackIOWriter(file.write)  # type: ignore[attr-defined]  # stubs lack the callback IO
        for part in parts:
            faiss.write_index(part, writer)


def _read(path: Path) -> faiss.Index:
    with path.open("rb") as file:
        if file.read(len(SHARDS_HEADER)) != SHARDS_HEADER:
            return faiss.read_index(str(path))
        (count,) = _COUNT.unpack(file.read(_COUNT.size))
        # FAISS reads exactly the bytes of one index from the reader, leaving it at the next shard.
        reader = faiss.PyCallbackIOReader(file.read)  # type: ignore[attr-defined]  # stubs lack the callback IO
        return combine_shards([faiss.read_index(reader) for _ in range(count)])


class FaissIndexDataset(AbstractVersionedDataset[faiss.Index, faiss.Index]):
    """``type: adrank_pipelines.datasets.faiss_index.FaissIndexDataset`` with a file ``filepath``."""

    def __init__(self, filepath: str, version: Version | None = None, metadata: dict[str, Any] | None = None) -> None:
        super().__init__(PurePosixPath(filepath), version)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": str(self._filepath),
            "version": self._version,
            "format": "faiss.write_index + id map (shards back to back)",
        }

    def _exists(self) -> bool:
        return Path(self._get_load_path()).is_file()

    def load(self) -> faiss.Index:
        path = Path(self._get_load_path())
        if not path.is_file():
            raise DatasetError(f"no saved FAISS index at {path}")
        return _read(path)

    def save(self, data: faiss.Index) -> None:
        if not carries_ad_ids(data):
            raise DatasetError(
                f"{type(data).__name__} does not carry its ad ids: wrap it in faiss.IndexIDMap2 before saving"
            )
        path = Path(self._get_save_path())
        new_folder = not path.parent.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(handle)
        try:
            _write(data, staging)
            os.replace(staging, path)
        except BaseException:
            Path(staging).unlink(missing_ok=True)
            if new_folder:  # a version folder made for this save only: leave no empty version behind
                path.parent.rmdir()
            raise
