"""Columns of a frame as one NumPy matrix, chosen by how many columns are read.

``frame[names].to_numpy()`` builds a column index and a new frame first: a fixed cost of about a
millisecond (pandas 3, Arrow-backed column names) that dominates on the request path, where frames
hold a few hundred rows and a model reads a dozen columns. Reading column by column costs per
column instead, so a wide selection (a behaviour sequence's hundred slot columns) is still cheaper
through one frame selection. The crossover measured at about 30 columns.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

COLUMN_BY_COLUMN_LIMIT = 24


def column_matrix(frame: pd.DataFrame, columns: Iterable[str], dtype: type[np.generic]) -> np.ndarray:
    """(len(frame), len(columns)) array of ``columns`` in order, as ``dtype``, writable and C-contiguous."""
    names = list(columns)
    if len(names) > COLUMN_BY_COLUMN_LIMIT:
        # Arrow-backed frames hand out read-only arrays; callers (torch) need memory they may write to.
        selected = frame[names].to_numpy(dtype=dtype).reshape(len(frame), len(names))
        return np.require(selected, requirements=["W", "C"])
    matrix = np.empty((len(frame), len(names)), dtype=dtype)
    for position, name in enumerate(names):
        matrix[:, position] = frame[name].to_numpy(dtype=dtype)
    return matrix
