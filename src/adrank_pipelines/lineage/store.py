"""The lineage manifest: one small JSON file per persisted dataset, written only when its node succeeded.

A node's outputs are committed together after its last save, so an entry always describes a whole,
successful write. Before a dataset is overwritten its previous file is moved aside; the move is undone
if the run fails or is interrupted, so the last complete output stays in place.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

_PREVIOUS_SUFFIX = ".previous-write"


@dataclass(frozen=True)
class LineageEntry:
    """What the last successful write of ``dataset`` was made from."""

    dataset: str
    fingerprint: str
    run_id: str
    node: str
    written_at: str
    inputs: dict[str, str] = field(default_factory=dict)  # tracked input -> its fingerprint when loaded
    parameters: str = ""  # hash of the node's parameter inputs


class LineageStore:
    """Entries under ``folder`` (``<dataset>.json``), and the set-aside previous writes of datasets."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _entry_path(self, dataset: str) -> Path:
        return self.folder / f"{dataset}.json"

    def get(self, dataset: str) -> LineageEntry | None:
        path = self._entry_path(dataset)
        if not path.exists():
            return None
        return LineageEntry(**json.loads(path.read_text()))

    def put(self, entries: Iterable[LineageEntry]) -> None:
        """Write each entry atomically: a reader sees the old entry or the new one, never half of one."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for entry in entries:
            target = self._entry_path(entry.dataset)
            partial = target.with_suffix(".json.partial")
            partial.write_text(json.dumps(asdict(entry), indent=1, sort_keys=True))
            os.replace(partial, target)

    @staticmethod
    def previous_write(path: Path) -> Path:
        return path.with_name(path.name + _PREVIOUS_SUFFIX)

    def set_aside(self, path: Path) -> None:
        """Move the current file (or folder) at ``path`` aside before it is overwritten."""
        if path.exists():
            os.replace(path, self.previous_write(path))

    def discard_previous(self, path: Path) -> None:
        _remove(self.previous_write(path))

    def restore_previous(self, path: Path) -> bool:
        """Put the set-aside write back in place of a partial one; True if there was one to restore."""
        previous = self.previous_write(path)
        if not previous.exists():
            return False
        _remove(path)
        os.replace(previous, path)
        return True


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
