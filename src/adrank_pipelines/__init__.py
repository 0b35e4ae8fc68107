"""adrank_pipelines: an end-to-end ad ranking system as one Kedro graph."""

__version__ = "0.1.0"
