"""Reading click-log files: plain or gzip alike, rows indexed by line, malformed lines named."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.clicklogs.reader import ClickLogFormatError, FileLayout, read_click_log
from adrank_pipelines.clicklogs.synthetic import SyntheticLog, avazu_like, criteo_like
from tests.clicklogs.environments import file_layout

GENERATORS = {"avazu": avazu_like, "criteo": criteo_like}


def _write_lines(path: Path, lines: list[str]) -> Path:
    text = "".join(f"{line}\n" for line in lines)
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def _lines_of(log: SyntheticLog, tmp_path: Path) -> list[str]:
    return log.write(tmp_path / "source.txt").read_text().splitlines()


@pytest.mark.parametrize("env", ["avazu", "criteo"])
def test_plain_and_gzip_files_give_the_same_typed_rows_indexed_by_line_number(tmp_path: Path, env: str):
    log = GENERATORS[env](300, seed=3)
    layout = file_layout(env)
    plain = read_click_log(log.write(tmp_path / "log.txt"), layout)
    compressed = read_click_log(log.write(tmp_path / "log.txt.gz"), layout)
    pd.testing.assert_frame_equal(plain, compressed)

    first_line = 2 if layout.header else 1  # the header is line 1
    assert plain.index.tolist() == list(range(first_line, first_line + 300))
    assert list(plain.columns) == list(log.frame.columns)
    for name in layout.integer_columns:
        assert plain[name].dtype == "Int64"
        expected = pd.array(log.frame[name], dtype="Int64")
        assert plain[name].isna().tolist() == pd.isna(expected).tolist()
        assert plain[name].dropna().tolist() == expected[~pd.isna(expected)].tolist()
    text_columns = [name for name in plain.columns if name not in layout.integer_columns]
    for name in text_columns:
        assert isinstance(plain[name].dtype, pd.CategoricalDtype)
        # An empty field is missing, never an empty string.
        assert plain[name].isna().sum() == log.frame[name].isna().sum()


def test_gzip_is_recognised_by_content_whatever_the_file_name(tmp_path: Path):
    log = criteo_like(50, seed=1)
    named_plain = tmp_path / "train.txt"
    named_plain.write_bytes(gzip.compress(log.write(tmp_path / "plain.txt").read_bytes()))
    assert len(read_click_log(named_plain, file_layout("criteo"))) == 50


def test_max_rows_reads_the_first_rows_and_skipped_columns_are_not_returned(tmp_path: Path):
    path = avazu_like(200, seed=2).write(tmp_path / "avazu.csv")
    frame = read_click_log(path, file_layout("avazu"), max_rows=25, skip_columns=["id"])
    assert frame.index.tolist() == list(range(2, 27))
    assert "id" not in frame.columns


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_a_line_with_too_many_fields_is_named_with_its_file_and_number(tmp_path: Path, suffix: str):
    lines = _lines_of(avazu_like(20, seed=0), tmp_path)
    lines[6] += ",surplus"  # line 7 of the file
    path = _write_lines(tmp_path / f"avazu{suffix}", lines)
    with pytest.raises(ClickLogFormatError, match=r"line 7: 25 field\(s\), expected 24") as error:
        read_click_log(path, file_layout("avazu"))
    assert str(path) in str(error.value)


def test_a_line_with_too_few_fields_is_named_with_its_number(tmp_path: Path):
    lines = _lines_of(criteo_like(20, seed=0), tmp_path)
    lines[11] = lines[11].rsplit("\t", 3)[0]  # line 12 loses its last three fields
    path = _write_lines(tmp_path / "criteo.txt", lines)
    with pytest.raises(ClickLogFormatError, match=r"criteo.txt, line 12: 37 field\(s\), expected 40"):
        read_click_log(path, file_layout("criteo"))


@pytest.mark.parametrize("suffix", [".txt", ".txt.gz"])
def test_a_non_integer_in_an_integer_field_is_named_with_line_column_and_value(tmp_path: Path, suffix: str):
    lines = _lines_of(criteo_like(20, seed=0), tmp_path)
    fields = lines[8].split("\t")
    fields[5] = "12x"  # I5 of line 9
    lines[8] = "\t".join(fields)
    path = _write_lines(tmp_path / f"criteo{suffix}", lines)
    with pytest.raises(ClickLogFormatError, match=r"line 9: column 'I5' must hold integers") as error:
        read_click_log(path, file_layout("criteo"))
    assert "line 9: '12x'" in str(error.value)
    assert str(path) in str(error.value)


def test_an_empty_line_inside_the_file_is_malformed(tmp_path: Path):
    lines = _lines_of(avazu_like(10, seed=0), tmp_path)
    path = _write_lines(tmp_path / "avazu.csv", [*lines[:4], "", *lines[4:]])
    with pytest.raises(ClickLogFormatError, match=r"line 5: empty \(no value in any column read\)"):
        read_click_log(path, file_layout("avazu"))


def test_a_header_unlike_the_layout_is_refused_naming_both(tmp_path: Path):
    lines = _lines_of(avazu_like(10, seed=0), tmp_path)
    lines[0] = lines[0].replace("banner_pos", "position")
    path = _write_lines(tmp_path / "avazu.csv", lines)
    with pytest.raises(ClickLogFormatError, match=r"line 1: the header names .*'position'"):
        read_click_log(path, file_layout("avazu"))


def test_a_layout_without_header_needs_column_names_and_a_missing_file_is_named(tmp_path: Path):
    with pytest.raises(ValueError, match="needs column_names"):
        FileLayout(header=False)
    with pytest.raises(FileNotFoundError, match=r"nowhere\.csv"):
        read_click_log(tmp_path / "nowhere.csv", FileLayout())


def test_values_beyond_int64_are_read_as_text_when_not_declared_integer(tmp_path: Path):
    path = _write_lines(tmp_path / "log.csv", ["id,click", "10000174058809263569,1", "17,0"])
    frame = read_click_log(path, FileLayout(integer_columns=["click"]))
    assert frame["id"].astype(str).tolist() == ["10000174058809263569", "17"]
    assert frame["click"].to_numpy(dtype=np.int64).tolist() == [1, 0]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", r"empty\.csv: the file is empty \(0 bytes\)"),
        ("empty.csv.gz", gzip.compress(b""), r"empty\.csv\.gz: the file is empty once decompressed \(0 bytes\)"),
        ("blank.csv", b"\n", r"blank\.csv, line 1: the header line is empty"),
        ("header.csv", b"click,site\n", r"header\.csv: no data rows after the header \(line 1\)"),
    ],
)
def test_an_empty_file_is_called_empty(tmp_path: Path, name: str, content: bytes, message: str):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ClickLogFormatError, match=message):
        read_click_log(path, FileLayout(integer_columns=["click"]))


def test_an_empty_file_without_a_header_is_called_empty(tmp_path: Path):
    path = tmp_path / "train.txt"
    path.write_bytes(b"")
    with pytest.raises(ClickLogFormatError, match=r"train\.txt: the file is empty \(0 bytes\)"):
        read_click_log(path, file_layout("criteo"))


def _truncated_gzip(tmp_path: Path, text: bytes, keep: int) -> Path:
    path = tmp_path / "train.gz"
    path.write_bytes(gzip.compress(text)[:keep])
    return path


@pytest.mark.parametrize("rows", [200, 20_000])  # damage within the first 64 KiB of text, and past it
def test_a_truncated_gzip_file_is_named_with_the_last_complete_line(tmp_path: Path, rows: int):
    text = avazu_like(rows, seed=4).write(tmp_path / "source.csv").read_bytes()
    compressed_size = len(gzip.compress(text))
    path = _truncated_gzip(tmp_path, text, compressed_size // 2)
    with pytest.raises(ClickLogFormatError, match="truncated or corrupt gzip file") as error:
        read_click_log(path, file_layout("avazu"), skip_columns=["id"])
    found = re.search(
        r"stops at byte offset (\d+) of the text; the last complete line read is line (\d+)", str(error.value)
    )
    assert found is not None, str(error.value)
    offset, line = int(found[1]), int(found[2])
    assert str(path) in str(error.value)
    # Everything up to the offset decompressed, and the line is the last one that ended before it.
    assert 0 < offset < len(text)
    assert line == text[:offset].count(b"\n") and 1 < line < rows + 1


def test_a_gzip_file_cut_inside_its_header_has_no_complete_line(tmp_path: Path):
    path = _truncated_gzip(tmp_path, b"click,site\n0,a\n", keep=12)
    with pytest.raises(
        ClickLogFormatError,
        match=r"truncated or corrupt gzip file .* byte offset \d+ of the text; no complete line was read",
    ):
        read_click_log(path, FileLayout())


def test_a_gzip_file_with_a_broken_checksum_is_corrupt(tmp_path: Path):
    text = b"click,site\n" + b"0,a\n1,b\n" * 50
    compressed = gzip.compress(text)
    path = tmp_path / "log.csv.gz"
    path.write_bytes(compressed[:-8] + bytes(4) + compressed[-4:])  # zero the CRC32 of the trailer
    with pytest.raises(ClickLogFormatError, match=r"corrupt data: .*incorrect data check.*line 101"):
        read_click_log(path, FileLayout())


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_a_binary_file_is_not_a_utf8_text_csv_with_its_byte_offset(tmp_path: Path, suffix: str):
    path = tmp_path / f"image{suffix}"
    content = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    path.write_bytes(gzip.compress(content) if suffix == ".csv.gz" else content)
    with pytest.raises(ClickLogFormatError, match=r"not a UTF-8 text CSV: byte 0x89 is not UTF-8 .* at byte offset 0"):
        read_click_log(path, FileLayout())
    with pytest.raises(ClickLogFormatError, match=r"not a UTF-8 text CSV.* at byte offset 0"):
        read_click_log(path, file_layout("criteo"))


def test_a_nul_byte_or_bad_utf8_early_in_the_file_is_named_by_byte_offset_and_line(tmp_path: Path):
    path = tmp_path / "log.csv"
    path.write_bytes(b"click,site\n0,a\n1,\x00\x00\n")
    with pytest.raises(
        ClickLogFormatError, match=r"log\.csv: not a UTF-8 text CSV: a NUL byte.* byte offset 17 \(line 3\)"
    ):
        read_click_log(path, FileLayout())
    path.write_bytes(b"click,site\n0,a\n1,caf\xe9\n")  # Latin-1, not UTF-8
    with pytest.raises(ClickLogFormatError, match=r"byte 0xe9 is not UTF-8 .* byte offset 20 \(line 3\)"):
        read_click_log(path, FileLayout())


def test_bad_utf8_past_the_start_of_the_file_is_named_by_line_and_column(tmp_path: Path):
    lines = ["click,site", *(f"{i % 2},site{i}" for i in range(20_000))]
    path = _write_lines(tmp_path / "log.csv", lines)
    content = path.read_bytes().replace(b"site15000\n", b"caf\xe9\n")  # line 15002, well past the first 64 KiB
    path.write_bytes(content)
    with pytest.raises(ClickLogFormatError, match=r"log\.csv, line 15002: not a UTF-8 text CSV: column 'site'"):
        read_click_log(path, FileLayout(integer_columns=["click"]))


def test_a_multibyte_character_across_the_sniffed_start_is_text(tmp_path: Path):
    # The padded second line puts the two bytes of an "é" on either side of the first 64 KiB.
    path = _write_lines(tmp_path / "log.csv", ["click,site", "0,xxxx", *(["1,é", "0,é"] * 10_000)])
    with pytest.raises(UnicodeDecodeError, match="unexpected end of data"):
        path.read_bytes()[: 64 << 10].decode("utf-8")
    frame = read_click_log(path, FileLayout(integer_columns=["click"]))
    assert len(frame) == 20_001
    assert frame["site"].iloc[1:].eq("é").all()
