"""The ``clicklog_features`` pipeline: the validated click log -> splits, vocabularies, model inputs, spec."""

from adrank_pipelines.pipelines.clicklog_features.pipeline import create_pipeline

__all__ = ["create_pipeline"]
