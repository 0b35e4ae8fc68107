"""Read a delimited click log (plain or gzip) into a frame, refusing malformed lines by number.

One physical line is one row (no quoting, blank lines kept), so the frame's index is the file's
1-based line number and every error can name the line a person has to look at (or the byte offset
where there is no line yet: an empty, binary or damaged gzip file). Text columns come back as pandas
categoricals (the ids of a 40M-row log fit in memory that way), integer columns as nullable
``Int64``; an empty field is missing.
"""

from __future__ import annotations

import gzip
import io
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pydantic import BaseModel, ConfigDict, Field, model_validator

LINE_INDEX = "line"
# ``DataFrame.attrs`` key holding the file a frame was read from, so later stages can name it.
SOURCE_ATTR = "click_log_file"
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_WBITS = 31  # zlib's window bits for a stream with a gzip header and trailer
_INTEGER_PATTERN = "^-?[0-9]+$"
_BLOCK_BYTES = 16 << 20
# Enough of the start to tell a text file from a binary one, and to hold any real header line.
_SNIFF_BYTES = 64 << 10
_SCAN_BYTES = 64 << 10
_SHOWN_LINES = 5
# pyarrow's message for a text field that is not UTF-8: the column's position in the file, and its
# row number, which is the file's line (header and blank lines count, as no rows are dropped).
_INVALID_UTF8 = re.compile(r"In CSV column #(\d+): Row #(\d+): CSV conversion error to string: invalid UTF8")


class ClickLogFormatError(ValueError):
    """A line of a click-log file breaks the file's layout; the message names the file and the line."""


class FileLayout(BaseModel):
    """How the file is laid out: delimiter, header line or given names, and which columns hold integers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    delimiter: str = Field(default=",", min_length=1, max_length=1)
    header: bool = True  # the first line names the columns
    # Required without a header; with one, the header must match them.
    column_names: list[str] | None = None
    integer_columns: list[str] = Field(default_factory=list)  # may be empty, never non-numeric

    @model_validator(mode="after")
    def _names_known(self) -> FileLayout:
        if not self.header and not self.column_names:
            raise ValueError("a click-log file without a header line needs column_names")
        return self


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(2) == _GZIP_MAGIC


def _decompress(decompressor: zlib._Decompress, chunk: bytes) -> tuple[bytes, str | None]:
    """The text ``chunk`` decodes to; where it is damaged, the text before the damage and the error."""
    before = decompressor.copy()
    try:
        return decompressor.decompress(chunk), None
    except zlib.error:
        pass
    # zlib drops the text of a call that fails: decode the chunk again a byte at a time to keep it.
    text = bytearray()
    for start in range(len(chunk)):
        try:
            text += before.decompress(chunk[start : start + 1])
        except zlib.error as error:
            return bytes(text), f"corrupt data: {error}"
    return bytes(text), "corrupt data"


def _gzip_extent(path: Path) -> tuple[int, int, str | None]:
    """How far a gzip file decompresses: text bytes, complete lines, and why it stops (None: it does not).

    Only a failed read pays for this scan; it keeps every byte zlib can decode, so the counts are
    exact up to the damage.
    """
    size = lines = 0
    in_member = False
    decompressor = zlib.decompressobj(_GZIP_WBITS)
    with path.open("rb") as handle:
        while chunk := handle.read(_SCAN_BYTES):
            while chunk:
                text, damage = _decompress(decompressor, chunk)
                size, lines = size + len(text), lines + text.count(b"\n")
                if damage is not None:
                    return size, lines, damage
                in_member = not decompressor.eof
                chunk = b""
                if decompressor.eof:
                    # A gzip file may hold several members one after another.
                    chunk = decompressor.unused_data
                    decompressor = zlib.decompressobj(_GZIP_WBITS)
    return size, lines, "the compressed data stops before its end marker" if in_member else None


def _damaged(path: Path, compressed: bool, error: BaseException) -> ClickLogFormatError:
    if not compressed:
        return ClickLogFormatError(f"{path}: cannot be read: {error}")
    size, lines, cause = _gzip_extent(path)
    if cause is None:
        return ClickLogFormatError(f"{path}: the gzip stream cannot be read: {error}")
    last = f"the last complete line read is line {lines}" if lines else "no complete line was read"
    return ClickLogFormatError(
        f"{path}: truncated or corrupt gzip file ({cause}): decompression stops at byte offset {size} "
        f"of the text; {last}"
    )


def _read_start(path: Path, compressed: bool, read: Callable[[io.BufferedIOBase], bytes]) -> bytes:
    try:
        with gzip.open(path, "rb") if compressed else path.open("rb") as handle:
            return read(handle)
    except (OSError, EOFError, zlib.error) as error:
        raise _damaged(path, compressed, error) from error


def _first_non_text(data: bytes, cut: bool) -> tuple[int, str] | None:
    """Byte offset and description of the first byte no UTF-8 text holds (``cut``: ``data`` may end
    inside a character, which is not an error)."""
    nul = data.find(b"\x00")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        if not (cut and error.reason == "unexpected end of data") and not 0 <= nul < error.start:
            return error.start, f"byte 0x{data[error.start]:02x} is not UTF-8 ({error.reason})"
    return (nul, "a NUL byte, which text never holds") if nul >= 0 else None


def _check_text(path: Path, compressed: bool, data: bytes, cut: bool) -> None:
    found = _first_non_text(data, cut)
    if found is not None:
        offset, cause = found
        of_text = " of the decompressed text" if compressed else ""
        line = data.count(b"\n", 0, offset) + 1
        raise ClickLogFormatError(
            f"{path}: not a UTF-8 text CSV: {cause}, at byte offset {offset}{of_text} (line {line})"
        )


def _text_start(path: Path, compressed: bool) -> bytes:
    """The start of the (decompressed) text; an empty or binary file is refused before pyarrow sees it."""
    head = _read_start(path, compressed, lambda handle: handle.read(_SNIFF_BYTES))
    if not head:
        raise ClickLogFormatError(f"{path}: the file is empty{' once decompressed' if compressed else ''} (0 bytes)")
    _check_text(path, compressed, head, cut=len(head) == _SNIFF_BYTES)
    return head


def _header_names(path: Path, compressed: bool, head: bytes, delimiter: str) -> list[str]:
    line, newline, _ = head.partition(b"\n")
    if not newline and len(head) == _SNIFF_BYTES:
        # The header goes on past the sniffed start (a file with thousands of columns).
        line = _read_start(path, compressed, lambda handle: handle.readline())
        _check_text(path, compressed, line, cut=False)
    names = line.decode("utf-8").rstrip("\r\n").split(delimiter)
    if names == [""]:
        raise ClickLogFormatError(f"{path}, line 1: the header line is empty")
    return names


def _column_names(path: Path, compressed: bool, head: bytes, layout: FileLayout) -> list[str]:
    if not layout.header:
        assert layout.column_names is not None  # guaranteed by FileLayout
        return list(layout.column_names)
    names = _header_names(path, compressed, head, layout.delimiter)
    if layout.column_names is not None and names != layout.column_names:
        raise ClickLogFormatError(f"{path}, line 1: the header names {names}, the layout expects {layout.column_names}")
    unknown = sorted(set(layout.integer_columns) - set(names))
    if unknown:
        raise ClickLogFormatError(f"{path}: integer_columns {unknown} are not columns of the file ({names})")
    return names


class _FirstInvalidRow:
    """pyarrow's invalid-row handler: remember the first line with the wrong field count and stop."""

    def __init__(self) -> None:
        self.message: str | None = None

    def __call__(self, row: pacsv.InvalidRow) -> str:
        self.message = (
            f"line {row.number}: {row.actual_columns} field(s), expected {row.expected_columns}: {row.text[:200]!r}"
        )
        return "error"


def _parse_error(
    path: Path, names: list[str], invalid: _FirstInvalidRow, error: pa.ArrowInvalid
) -> ClickLogFormatError:
    if invalid.message is not None:
        return ClickLogFormatError(f"{path}, {invalid.message}")
    utf8 = _INVALID_UTF8.search(str(error))
    if utf8 is not None:
        position, line = int(utf8[1]), int(utf8[2])
        column = names[position] if position < len(names) else f"#{position + 1}"
        return ClickLogFormatError(
            f"{path}, line {line}: not a UTF-8 text CSV: column '{column}' holds bytes that are not UTF-8"
        )
    return ClickLogFormatError(f"{path}: {error}")


def _batches(
    path: Path, compressed: bool, names: list[str], kept: list[str], layout: FileLayout
) -> Iterator[pa.RecordBatch]:
    invalid = _FirstInvalidRow()
    options = {
        "read_options": pacsv.ReadOptions(
            use_threads=False, block_size=_BLOCK_BYTES, column_names=names, skip_rows=int(layout.header)
        ),
        "parse_options": pacsv.ParseOptions(
            delimiter=layout.delimiter, quote_char=False, ignore_empty_lines=False, invalid_row_handler=invalid
        ),
        # Every column as text: a bad integer then fails our check (with its line), not pyarrow's.
        "convert_options": pacsv.ConvertOptions(
            column_types={name: pa.string() for name in names},
            include_columns=kept,
            strings_can_be_null=True,
            null_values=[""],
        ),
    }
    try:
        # Opening already parses the first block, so it can fail on a bad line too.
        yield from pacsv.open_csv(pa.input_stream(str(path), compression="gzip" if compressed else None), **options)
    except pa.ArrowInvalid as error:
        raise _parse_error(path, names, invalid, error) from error
    except OSError as error:  # pyarrow's decompression errors (a truncated or corrupt gzip file)
        raise _damaged(path, compressed, error) from error


def _lines(mask: np.ndarray, first_line: int) -> list[int]:
    lines: list[int] = (np.flatnonzero(mask)[:_SHOWN_LINES] + first_line).tolist()
    return lines


def _check_batch(batch: pa.RecordBatch, first_line: int, integer_columns: list[str], path: Path) -> None:
    if batch.num_columns > 1:
        # A blank line parses as one row of empty fields.
        blank = np.logical_and.reduce([column.is_null().to_numpy(zero_copy_only=False) for column in batch.columns])
        if blank.any():
            line = _lines(blank, first_line)[0]
            raise ClickLogFormatError(f"{path}, line {line}: empty (no value in any column read)")
    for name in integer_columns:
        column = batch.column(name)
        matches = pc.match_substring_regex(column, _INTEGER_PATTERN).fill_null(True)
        bad = ~matches.to_numpy(zero_copy_only=False)
        if bad.any():
            lines = _lines(bad, first_line)
            values = pc.filter(column, pa.array(bad)).to_pylist()[:_SHOWN_LINES]
            shown = ", ".join(f"line {line}: {value!r}" for line, value in zip(lines, values, strict=True))
            raise ClickLogFormatError(
                f"{path}, line {lines[0]}: column '{name}' must hold integers; {int(bad.sum())} of lines "
                f"{first_line}..{first_line + batch.num_rows - 1} do not ({shown})"
            )


def _typed(batch: pa.RecordBatch, integer_columns: list[str]) -> pa.RecordBatch:
    columns = [
        pc.cast(batch.column(name), pa.int64()) if name in integer_columns else pc.dictionary_encode(batch.column(name))
        for name in batch.schema.names
    ]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def read_click_log(
    path: str | Path, layout: FileLayout, max_rows: int | None = None, skip_columns: Sequence[str] = ()
) -> pd.DataFrame:
    """The rows of the file (the first ``max_rows`` when given), indexed by line number, without the
    ``skip_columns`` (e.g. a unique row id: millions of distinct strings nobody reads); text columns
    categorical, integer columns ``Int64``. Skipped columns still count when fields are counted.

    Raises:
        ClickLogFormatError: naming the file and the first offending line: a wrong number of fields,
            an empty line, a non-integer in an integer column, a field that is not UTF-8, or a header
            that differs from the layout; or, with the byte offset where no line is known, an empty
            or binary file and a truncated or corrupt gzip file (with its last complete line).
        FileNotFoundError: when there is no file at ``path``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no click-log file at {path}")
    compressed = _is_gzip(path)
    names = _column_names(path, compressed, _text_start(path, compressed), layout)
    unknown = sorted(set(skip_columns) - set(names))
    if unknown:
        raise ClickLogFormatError(f"{path}: skip_columns {unknown} are not columns of the file ({names})")
    kept = [name for name in names if name not in skip_columns]
    integer_columns = [name for name in layout.integer_columns if name in kept]
    first_data_line = 1 + int(layout.header)
    typed: list[pa.RecordBatch] = []
    n_rows = 0
    for batch in _batches(path, compressed, names, kept, layout):
        if max_rows is not None:
            batch = batch.slice(0, max_rows - n_rows)
        _check_batch(batch, first_data_line + n_rows, integer_columns, path)
        typed.append(_typed(batch, integer_columns))
        n_rows += batch.num_rows
        if max_rows is not None and n_rows >= max_rows:
            break
    if not typed:
        raise ClickLogFormatError(f"{path}: no data rows{' after the header (line 1)' if layout.header else ''}")
    table = pa.Table.from_batches(typed).unify_dictionaries()
    frame: pd.DataFrame = table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
    frame.index = pd.RangeIndex(first_data_line, first_data_line + len(frame), name=LINE_INDEX)
    frame.attrs[SOURCE_ATTR] = str(path)
    return frame
