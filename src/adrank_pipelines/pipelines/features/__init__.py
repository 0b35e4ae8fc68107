"""The ``features`` pipeline: validated tables -> model inputs, vocabularies, sequences, feature spec."""

from adrank_pipelines.pipelines.features.pipeline import create_pipeline

__all__ = ["create_pipeline"]
