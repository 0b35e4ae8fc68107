"""The ``clicklog_training`` pipeline: click-log model inputs -> field-attention and LightGBM models,
calibrated scores and a report judged on the observed clicks (a public log has no oracle)."""

from adrank_pipelines.pipelines.clicklog_training.pipeline import create_pipeline

__all__ = ["create_pipeline"]
