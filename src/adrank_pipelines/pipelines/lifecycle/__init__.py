"""lifecycle: simulated days of serving, drift checks, retraining, gated rollout and rollback, judged by the truth."""

from adrank_pipelines.pipelines.lifecycle.pipeline import create_pipeline

__all__ = ["create_pipeline"]
