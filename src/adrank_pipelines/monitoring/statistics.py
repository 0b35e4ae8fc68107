"""The drift statistics table: one row per (window, group, subject, statistic), whatever computed it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from typing import Literal, TypedDict

import pandas as pd

Group = Literal["feature", "prediction", "label", "calibration", "performance"]

NAN = float("nan")


class ComparedWindows(TypedDict):
    """The fields of a :class:`DriftStatistic` that name the two windows compared and their sizes."""

    window: str
    reference_window: str
    n_reference: int
    n_current: int


@dataclass(frozen=True)
class DriftStatistic:
    """One comparison of a current window against its reference window.

    ``value`` is the drift magnitude alert rules compare with their thresholds (larger is worse);
    ``reference_value`` / ``current_value`` are the figures it came from where there are two (CTRs,
    AUCs, unseen shares), ``p_value`` the chance of a gap this large without a shift, where a test exists.
    """

    window: str
    group: Group
    subject: str
    statistic: str
    value: float
    reference_window: str
    n_reference: int
    n_current: int
    reference_value: float = NAN
    current_value: float = NAN
    p_value: float = NAN
    source: str = ""
    alerting: bool = True


STATISTIC_COLUMNS = [field.name for field in fields(DriftStatistic)]


def statistics_frame(rows: Iterable[DriftStatistic]) -> pd.DataFrame:
    """The rows as a table with a stable column order (empty, with its columns, when there are none)."""
    return pd.DataFrame([asdict(row) for row in rows], columns=STATISTIC_COLUMNS)
