"""The feature recipe: everything the features pipeline built its model inputs with, as one typed artifact.

Ranking (and the online service) build candidate features from this artifact alone, never from
``params:features.*``: an override of those parameters after the features pipeline ran cannot make
scoring features differ from the features the models were trained on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from adrank_pipelines.features.candidates import FeatureRecipe
from adrank_pipelines.features.params import CrossParams, SequenceParams, TargetStatParams
from adrank_pipelines.features.vocabulary import vocabularies_from_json


class FeatureRecipeArtifact(BaseModel):
    """Vocabularies, hashed crosses, sequence lengths, past-only statistics settings and column roles (the spec)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    vocabularies: dict[str, dict[str, Any]]  # as vocabularies_to_json writes them
    crosses: CrossParams
    sequences: SequenceParams
    target_stats: TargetStatParams
    spec: dict[str, Any]  # the feature spec: which column is categorical / numeric / sequence, and sizes

    def candidate_recipe(self) -> FeatureRecipe:
        """What candidate featurisation reads: vocabularies decoded, cross pairs, organic views counted."""
        return FeatureRecipe(
            vocabularies_from_json(self.vocabularies),
            self.crosses.pairs,
            self.crosses.n_hash_buckets,
            self.sequences.browse_length,
        )


def feature_recipe(
    vocabularies: Mapping[str, Mapping[str, Any]],
    spec: Mapping[str, Any],
    crosses: CrossParams,
    sequences: SequenceParams,
    target_stats: TargetStatParams,
) -> FeatureRecipeArtifact:
    return FeatureRecipeArtifact(
        vocabularies={name: dict(entry) for name, entry in vocabularies.items()},
        crosses=crosses,
        sequences=sequences,
        target_stats=target_stats,
        spec=dict(spec),
    )
