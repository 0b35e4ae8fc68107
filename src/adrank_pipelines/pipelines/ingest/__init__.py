"""ingest: simulate the marketplace (or point the raw catalog entries at your own logs)."""

from adrank_pipelines.pipelines.ingest.pipeline import create_pipeline

__all__ = ["create_pipeline"]
