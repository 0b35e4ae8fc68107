"""indexing: the CTR model's ad vectors in a FAISS index, top-K eligible candidates per request, and the report."""

from adrank_pipelines.pipelines.indexing.pipeline import create_pipeline

__all__ = ["create_pipeline"]
