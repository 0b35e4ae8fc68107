"""Data contracts of the raw marketplace tables: pandera models, cross-table and time-window
rules, the Great Expectations plausibility suites, and the one error that reports them all.

No Kedro import anywhere below this package (enforced by import-linter). Modules are imported
directly (``adrank_pipelines.schemas.<module>``); importing this package loads nothing, so that
pandera-only users never pay for the Great Expectations import.
"""
