"""auction_eval: replay the evaluation day through every mechanism x model, and an A/B readout."""

from adrank_pipelines.pipelines.auction_eval.pipeline import create_pipeline

__all__ = ["create_pipeline"]
