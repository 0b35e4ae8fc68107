"""drift: data, prediction, label, calibration and performance drift of later windows against training."""

from adrank_pipelines.pipelines.drift.pipeline import create_pipeline

__all__ = ["create_pipeline"]
