"""Timestamps as plain integers, so ordering and time differences run in numpy."""

from __future__ import annotations

import numpy as np
import pandas as pd

NANOSECONDS_PER_HOUR = 3_600 * 10**9


def epoch_nanoseconds(times: pd.Series) -> np.ndarray:
    """int64 nanoseconds since the epoch; Parquet may hand back other resolutions, so fix ns first."""
    return times.to_numpy(dtype="datetime64[ns]").view(np.int64)
