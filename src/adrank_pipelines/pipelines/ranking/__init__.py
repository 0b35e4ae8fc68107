"""ranking: retrieved candidates -> features as served, pCTR / pCVR per model, multi-objective order."""

from adrank_pipelines.pipelines.ranking.pipeline import create_pipeline

__all__ = ["create_pipeline"]
