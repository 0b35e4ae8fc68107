"""A click-log text file (Avazu CSV, Criteo TSV or your own), plain or gzip, as a read-only dataset.

Loading reads and checks every line (``adrank_pipelines.clicklogs.reader``): a line with the wrong
number of fields or a non-integer in an integer column stops the load with the file and line named.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
from kedro.io import AbstractDataset, DatasetError

from adrank_pipelines.clicklogs.reader import FileLayout, read_click_log


class ClickLogDataset(AbstractDataset[None, pd.DataFrame]):
    """``type: adrank_pipelines.datasets.click_log.ClickLogDataset``.

    Args:
        filepath: the file; gzip is recognised by its content, whatever the name.
        layout: ``delimiter``, ``header``, ``column_names``, ``integer_columns`` (see ``FileLayout``).
        max_rows: read only the first rows (a quick run on a large log).
        skip_columns: columns never read (still counted when a line's fields are counted).
    """

    def __init__(
        self,
        filepath: str,
        layout: dict[str, Any] | None = None,
        max_rows: int | None = None,
        skip_columns: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self._filepath = Path(filepath)
        self._layout = FileLayout.model_validate(layout or {})
        self._max_rows = max_rows
        self._skip_columns = list(skip_columns or [])
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {
            "filepath": str(PurePosixPath(self._filepath)),
            "delimiter": self._layout.delimiter,
            "header": self._layout.header,
            "max_rows": self._max_rows,
        }

    def _exists(self) -> bool:
        return self._filepath.is_file()

    def load(self) -> pd.DataFrame:
        return read_click_log(self._filepath, self._layout, self._max_rows, self._skip_columns)

    def save(self, data: None) -> None:
        raise DatasetError(f"{self._filepath} is a click-log input; no node writes it")
