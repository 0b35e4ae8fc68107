"""A read click-log file -> the parsed log: the mapped columns under the project's names and types.

The parsed log has ``impression_id`` (the row's line number in the file, so any row can be found
again), ``event_time`` (when the mapping names a time column), ``click`` (the label, int64),
every categorical column as a pandas categorical of text values, every numeric column as float64.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from adrank_pipelines.clicklogs.config import CLICK, EVENT_TIME, IMPRESSION_ID, ColumnMapping, TimeColumn

_SHOWN_VALUES = 5


def _fail_on(bad: np.ndarray, values: pd.Series, what: str) -> None:
    """Raise naming the first offending lines (the index of ``values``) when ``bad`` holds any row."""
    if not bad.any():
        return
    offending = values[bad].head(_SHOWN_VALUES)
    shown = ", ".join(f"line {line}: '{value}'" for line, value in offending.items())
    raise ValueError(f"{what}: {int(bad.sum())} row(s), first {shown}")


def _parse_distinct(values: pd.Series, parse: Callable[[pd.Index], pd.Index], dtype: str) -> np.ndarray:
    """``parse`` applied to each distinct value once (a log repeats a few hundred hours millions of
    times); missing values stay missing (NaN / NaT)."""
    codes, uniques = pd.factorize(values)
    parsed = np.asarray(parse(pd.Index(np.asarray(uniques, dtype=object))), dtype=dtype)
    # Code -1 (a missing value) picks the appended missing slot.
    return np.append(parsed, np.array([np.nan]).astype(dtype))[codes]


def _to_numbers(uniques: pd.Index) -> pd.Index:
    # pandas maps an Index to an Index (NaN where a value is not a number).
    numbers: pd.Index = pd.to_numeric(uniques, errors="coerce")  # type: ignore[call-overload]  # stubs lack Index input
    return numbers


def _times(values: pd.Series, time: TimeColumn) -> np.ndarray:
    def parse(uniques: pd.Index) -> pd.Index:
        if time.epoch_unit is not None:
            return pd.to_datetime(_to_numbers(uniques), unit=time.epoch_unit)
        return pd.to_datetime(uniques.astype(str), format=time.format, errors="coerce")

    times = _parse_distinct(values, parse, "datetime64[ns]")
    how = f"epoch {time.epoch_unit}" if time.epoch_unit else f"format {time.format!r}"
    _fail_on(np.isnat(times), values, f"clicklog_columns.time: column '{time.column}' has no time in {how}")
    return times


def _numbers(values: pd.Series, parameter: str, name: str) -> np.ndarray:
    numbers = _parse_distinct(values, _to_numbers, "float64")
    _fail_on(np.isnan(numbers) & values.notna().to_numpy(), values, f"{parameter}: column '{name}' is not numeric")
    return numbers


def _labels(values: pd.Series, name: str) -> np.ndarray:
    labels = _numbers(values, "clicklog_columns.label", name)
    _fail_on(np.isnan(labels), values, f"clicklog_columns.label: column '{name}' is empty")
    return labels.astype(np.int64)


def _categorical(values: pd.Series) -> pd.Categorical:
    """Text categories in sorted order (numerically for integer columns), missing values left missing.

    Text, because Parquet keeps a categorical of strings as a dictionary column but writes integer
    categories back as plain numbers.
    """
    codes, uniques = pd.factorize(values, sort=True)
    return pd.Categorical.from_codes(codes, categories=pd.Index(uniques.astype(str), dtype="str"))


def click_events(raw: pd.DataFrame, mapping: ColumnMapping) -> pd.DataFrame:
    """The parsed log of a read file (index = line number), columns renamed and typed by ``mapping``.

    Raises:
        ValueError: naming the parameter, the column and the first offending lines when a mapped
            column is absent, a time does not parse, a label is empty or a value is not numeric.
    """
    missing = [name for name in mapping.source_columns if name not in raw.columns]
    if missing:
        raise ValueError(
            f"clicklog_columns names {missing}, which the click-log file lacks (its columns: {list(raw.columns)})"
        )
    columns: dict[str, object] = {IMPRESSION_ID: raw.index.to_numpy(dtype=np.int64)}
    if mapping.time is not None:
        columns[EVENT_TIME] = _times(raw[mapping.time.column], mapping.time)
    columns[CLICK] = _labels(raw[mapping.label], mapping.label)
    columns |= {name: _categorical(raw[name]) for name in mapping.categorical}
    columns |= {name: _numbers(raw[name], "clicklog_columns.numeric", name) for name in mapping.numeric}
    return pd.DataFrame(columns)
