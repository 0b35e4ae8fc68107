"""The ``clicklog_ingest`` pipeline: a click-log file -> the parsed log and its summary."""

from adrank_pipelines.pipelines.clicklog_ingest.pipeline import create_pipeline

__all__ = ["create_pipeline"]
