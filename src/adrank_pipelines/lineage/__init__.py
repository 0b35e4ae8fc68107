"""Lineage of persisted stage outputs: what each was made from, and whether an input is still current."""

from adrank_pipelines.lineage.fingerprint import fingerprint
from adrank_pipelines.lineage.store import LineageEntry, LineageStore
from adrank_pipelines.lineage.verdict import StaleInputError, stale_input_reason

__all__ = ["LineageEntry", "LineageStore", "StaleInputError", "fingerprint", "stale_input_reason"]
