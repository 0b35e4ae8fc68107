"""A read click-log file -> the parsed log: the mapped columns under the project's names and types.

The parsed log has ``impression_id`` (the row's line number in the file, so any row can be found
again), ``event_time`` (when the mapping names a time column), ``click`` (the label, int64),
every categorical column as a pandas categorical of text values, every numeric column as float64.
A value the mapping cannot take is reported by file (when the read frame names it), line and column.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from adrank_pipelines.clicklogs.config import CLICK, EVENT_TIME, IMPRESSION_ID, ColumnMapping, TimeColumn
from adrank_pipelines.clicklogs.reader import SOURCE_ATTR

_SHOWN_VALUES = 5


def _text(value: object) -> str:
    return repr(str(value))


def _fail_on(
    bad: np.ndarray, values: pd.Series, parameter: str, cause: str, shown: Callable[[object], str] = _text
) -> None:
    """Raise naming the first offending line (the index of ``values``), its column and value, when
    ``bad`` holds any row; ``shown`` writes a present value into the message."""
    if not bad.any():
        return
    examples = values[bad].head(_SHOWN_VALUES)
    texts = [
        "an empty field" if missing else shown(value) for value, missing in zip(examples, examples.isna(), strict=True)
    ]
    listed = ", ".join(f"line {line}: {text}" for line, text in zip(examples.index, texts, strict=True))
    count = int(bad.sum())
    where = f"{parameter}; {count} lines in all, first {listed}" if count > 1 else parameter
    source = values.attrs.get(SOURCE_ATTR)
    raise ValueError(
        f"{f'{source}, ' if source else ''}line {examples.index[0]}: column '{values.name}' {cause}, "
        f"got {texts[0]} ({where})"
    )


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
    _fail_on(np.isnat(times), values, "clicklog_columns.time", f"has no time in {how}")
    return times


def _numbers(values: pd.Series, parameter: str) -> np.ndarray:
    numbers = _parse_distinct(values, _to_numbers, "float64")
    _fail_on(np.isnan(numbers) & values.notna().to_numpy(), values, parameter, "is not numeric")
    return numbers


def _label_value(value: object) -> str:
    try:
        number = float(str(value))
    except ValueError:
        return _text(value)
    return str(int(number)) if number.is_integer() else str(number)


def _labels(values: pd.Series) -> np.ndarray:
    labels = _numbers(values, "clicklog_columns.label")
    # Checked here, where the file's line is known, rather than left to the contract: a cast to
    # int64 would silently turn 0.5 into 0, and a missing label into garbage.
    valid = (labels == 0.0) | (labels == 1.0)
    _fail_on(~valid, values, "clicklog_columns.label", "must be 0 or 1", _label_value)
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
        ValueError: naming the file, the first offending line, the column, its value and the parameter
            when a mapped column is absent, a time does not parse, a label is not 0 or 1 (or empty) or
            a value is not numeric.
    """
    missing = [name for name in mapping.source_columns if name not in raw.columns]
    if missing:
        source = raw.attrs.get(SOURCE_ATTR, "the click-log file")
        raise ValueError(f"clicklog_columns names {missing}, which {source} lacks (its columns: {list(raw.columns)})")
    columns: dict[str, object] = {IMPRESSION_ID: raw.index.to_numpy(dtype=np.int64)}
    if mapping.time is not None:
        columns[EVENT_TIME] = _times(raw[mapping.time.column], mapping.time)
    columns[CLICK] = _labels(raw[mapping.label])
    columns |= {name: _categorical(raw[name]) for name in mapping.categorical}
    columns |= {name: _numbers(raw[name], "clicklog_columns.numeric") for name in mapping.numeric}
    return pd.DataFrame(columns)
