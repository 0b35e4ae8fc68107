"""Whether a persisted input may be used: it must be what its producer last wrote successfully, and it
must have been made from the inputs that are current now (else a stage would mix two runs)."""

from __future__ import annotations

from collections.abc import Callable

from adrank_pipelines.lineage.store import LineageEntry


class StaleInputError(RuntimeError):
    """A node was about to read an input that is stale or left behind by a failed run."""


def stale_input_reason(
    dataset: str,
    current: str | None,
    entry: LineageEntry | None,
    lookup: Callable[[str], tuple[LineageEntry | None, str | None]],
) -> str | None:
    """Why ``dataset`` (whose file is now ``current``) must not be read, or None if it may be.

    ``lookup(name)`` gives the lineage entry of an upstream dataset and the fingerprint of its file now.
    A dataset without an entry was not written by a tracked run (a user's own file): it is taken as is.
    """
    if entry is None:
        return None
    if current != entry.fingerprint:
        return (
            f"'{dataset}' is not what node '{entry.node}' last wrote successfully (run {entry.run_id} at "
            f"{entry.written_at}): it was changed since by a failed or interrupted run, or by hand"
        )
    for parent, used in sorted(entry.inputs.items()):
        parent_entry, parent_now = lookup(parent)
        if parent_entry is not None and parent_entry.fingerprint != used:
            return (
                f"'{dataset}' was made from an older '{parent}'; '{parent}' was written since by node "
                f"'{parent_entry.node}' (run {parent_entry.run_id} at {parent_entry.written_at})"
            )
        if parent_entry is not None and parent_now != parent_entry.fingerprint:
            return f"'{dataset}' was made from '{parent}', which has changed since (a failed run, or by hand)"
    return None
