"""The ``ctr`` pipeline: the click-log graph in order (``kedro run --env avazu --pipelines ctr``)."""

from adrank_pipelines.pipelines.ctr.pipeline import create_pipeline

__all__ = ["create_pipeline"]
