"""The ``clicklog_validate`` pipeline: the parsed click log -> the validated log (its pandera contract)."""

from adrank_pipelines.pipelines.clicklog_validate.pipeline import create_pipeline

__all__ = ["create_pipeline"]
