"""``kedro run --pipeline validate``: raw tables in, contract-checked tables out, or a clear error."""

from adrank_pipelines.pipelines.validate.pipeline import create_pipeline

__all__ = ["create_pipeline"]
