"""An in-memory dataset for pipeline tests that read a run's outputs afterwards."""

from __future__ import annotations

from kedro.io import MemoryDataset


class KeptDataset(MemoryDataset):
    """Keeps its data after the run, even for outputs that later nodes read (the runner releases those)."""

    def _release(self) -> None:
        pass
