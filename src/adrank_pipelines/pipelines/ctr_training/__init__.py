"""ctr_training: the transformer CTR model, LightGBM, their hybrid, calibration and the oracle-referenced report."""

from adrank_pipelines.pipelines.ctr_training.pipeline import create_pipeline

__all__ = ["create_pipeline"]
