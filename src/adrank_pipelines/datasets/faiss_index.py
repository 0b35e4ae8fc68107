"""A FAISS index in the catalog: one ``faiss.write_index`` file that also holds the ad-id mapping.

The index must hold an ``IndexIDMap`` / ``IndexIDMap2`` (as every index of
:func:`adrank_pipelines.retrieval.index.build_index` does) so its search answers with ad ids and the
mapping is saved inside the same file; search-time parameters set on the index (nprobe, efSearch)
are saved with it. A save writes a temporary file beside the target and renames it into place, so a
failed save never leaves a half-written index where the catalog looks. Versioning follows Kedro's
``versioned: true`` (``<filepath>/<version>/<name>``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import faiss
from kedro.io import AbstractVersionedDataset, DatasetError, Version

from adrank_pipelines.retrieval.index import id_map


class FaissIndexDataset(AbstractVersionedDataset[faiss.Index, faiss.Index]):
    """``type: adrank_pipelines.datasets.faiss_index.FaissIndexDataset`` with a file ``filepath``."""

    def __init__(self, filepath: str, version: Version | None = None, metadata: dict[str, Any] | None = None) -> None:
        super().__init__(PurePosixPath(filepath), version)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "version": self._version, "format": "faiss.write_index + id map"}

    def _exists(self) -> bool:
        return Path(self._get_load_path()).is_file()

    def load(self) -> faiss.Index:
        path = Path(self._get_load_path())
        if not path.is_file():
            raise DatasetError(f"no saved FAISS index at {path}")
        return faiss.read_index(str(path))

    def save(self, data: faiss.Index) -> None:
        if id_map(data) is None:
            raise DatasetError(
                f"{type(data).__name__} does not carry its ad ids: wrap it in faiss.IndexIDMap2 before saving"
            )
        path = Path(self._get_save_path())
        new_folder = not path.parent.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, staging = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        os.close(handle)
        try:
            faiss.write_index(data, staging)
            os.replace(staging, path)
        except BaseException:
            Path(staging).unlink(missing_ok=True)
            if new_folder:  # a version folder made for this save only: leave no empty version behind
                path.parent.rmdir()
            raise
