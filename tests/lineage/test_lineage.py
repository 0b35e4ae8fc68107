"""Fingerprints, the manifest store with its set-aside writes, and the verdict on an input."""

from __future__ import annotations

import os
from pathlib import Path

from adrank_pipelines.lineage import LineageEntry, LineageStore, fingerprint, stale_input_reason


def _entry(dataset: str, fp: str, inputs: dict[str, str] | None = None) -> LineageEntry:
    return LineageEntry(dataset, fp, "run-1", f"write_{dataset}", "2026-01-01T00:00:00+00:00", inputs or {})


def test_a_fingerprint_changes_when_a_file_is_written_again_and_covers_every_file_of_a_folder(tmp_path: Path):
    file = tmp_path / "table.parquet"
    assert fingerprint(file) is None
    file.write_bytes(b"abc")
    first = fingerprint(file)
    assert first == fingerprint(file)
    os.utime(file, ns=(1, 1))
    assert fingerprint(file) != first
    folder = tmp_path / "index"
    (folder / "v1").mkdir(parents=True)
    (folder / "v1" / "index.faiss").write_bytes(b"x")
    before = fingerprint(folder)
    (folder / "v2").mkdir()
    (folder / "v2" / "index.faiss").write_bytes(b"x")
    assert fingerprint(folder) != before


def test_entries_round_trip_and_a_set_aside_write_is_restored_over_a_partial_one(tmp_path: Path):
    store = LineageStore(tmp_path / "lineage")
    assert store.get("users") is None
    store.put([_entry("users", "f1", {"params:marketplace": "p"})])
    assert store.get("users") == _entry("users", "f1", {"params:marketplace": "p"})
    table = tmp_path / "users.parquet"
    table.write_text("complete")
    store.set_aside(table)
    table.write_text("partial")
    assert store.restore_previous(table)
    assert table.read_text() == "complete" and not store.previous_write(table).exists()
    assert not store.restore_previous(table), "nothing set aside, nothing to restore"
    store.set_aside(table)
    table.write_text("new")
    store.discard_previous(table)
    assert table.read_text() == "new" and not store.previous_write(table).exists()


def test_an_input_is_accepted_only_if_it_and_its_parents_are_what_was_last_written_successfully():
    entries = {"users": _entry("users", "u2"), "validated_users": _entry("validated_users", "v1", {"users": "u1"})}
    files = {"users": "u2", "validated_users": "v1"}

    def lookup(name: str) -> tuple[LineageEntry | None, str | None]:
        return entries.get(name), files.get(name)

    assert stale_input_reason("own_log", "x", None, lookup) is None, "a file no tracked run wrote is taken as is"
    assert stale_input_reason("users", "u2", entries["users"], lookup) is None
    reason = stale_input_reason("validated_users", "v1", entries["validated_users"], lookup)
    assert reason is not None and "made from an older 'users'" in reason
    assert "failed or interrupted" in (stale_input_reason("users", "u3", entries["users"], lookup) or "")
    entries["validated_users"] = _entry("validated_users", "v2", {"users": "u2"})
    files["validated_users"], files["users"] = "v2", "edited by hand"
    reason = stale_input_reason("validated_users", "v2", entries["validated_users"], lookup)
    assert reason is not None and "which has changed since" in reason
