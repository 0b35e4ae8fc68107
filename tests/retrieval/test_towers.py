"""Retrieval vectors come from the CTR model's own towers: their dot product is the model's relevance."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import torch

from adrank_pipelines.retrieval.towers import ad_tower_vectors, user_tower_vectors
from tests.models.transformer_fixtures import (  # noqa: F401 - world is a fixture
    SyntheticWorld,
    batch_of,
    built_model,
    tabular_spec,
    tiny_params,
    tiny_tabular_params,
    world,
)


@pytest.fixture(scope="module")
def built(world: SyntheticWorld):
    return built_model(world, tiny_params())


def _top_slot_rows(model_input: pd.DataFrame) -> pd.DataFrame:
    """One logged row per request, its top slot: a query's user and context features."""
    ordered = model_input.sort_values(["request_id", "position"], kind="stable")
    return ordered.drop_duplicates("request_id").reset_index(drop=True)


def test_ad_vectors_are_the_ad_tower_of_every_ad(world: SyntheticWorld, built):
    ad_ids, vectors = ad_tower_vectors(built.model, world.ad_features, built.text_embeddings, batch_size=7)
    np.testing.assert_array_equal(ad_ids, world.ad_features["ad_id"].to_numpy())
    rows = torch.from_numpy(built.ads.index.rows(ad_ids))
    with torch.inference_mode():
        expected = built.model.ad_vectors(built.ads.tensors, rows).numpy()
    np.testing.assert_allclose(vectors, expected, rtol=1e-5, atol=1e-6)
    assert vectors.shape == (len(world.ad_features), built.model.params.relevance_dim)


def test_user_vector_dot_ad_vector_is_the_models_relevance_term(world: SyntheticWorld, built):
    queries = _top_slot_rows(world.valid).head(40)
    users = user_tower_vectors(built.model, queries, world.sequences, world.ad_features, built.text_embeddings, 16)
    ad_ids, ads = ad_tower_vectors(built.model, world.ad_features, built.text_embeddings, batch_size=64)
    # With the click head silenced, the model's click logit is its relevance term user . ad / sqrt(d) alone.
    silenced = copy.deepcopy(built.model)
    with torch.no_grad():
        silenced.heads.ctr.weight.zero_()
        silenced.heads.ctr.bias.zero_()
    with torch.inference_mode():
        logits = silenced(batch_of(built, queries)).ctr_logit.numpy()
    ad_of_query = pd.Index(ad_ids).get_indexer(queries["ad_id"])
    relevance = (users * ads[ad_of_query]).sum(axis=1) / math.sqrt(built.model.params.relevance_dim)
    np.testing.assert_allclose(relevance, logits, rtol=1e-4, atol=1e-5)
    assert relevance.std() > 0


def test_the_query_does_not_depend_on_the_impressions_ad(world: SyntheticWorld, built):
    queries = _top_slot_rows(world.valid).head(20)
    other_ads = queries.assign(ad_id=np.roll(queries["ad_id"].to_numpy(), 1))
    arguments = (world.sequences, world.ad_features, built.text_embeddings, 8)
    np.testing.assert_allclose(
        user_tower_vectors(built.model, queries, *arguments), user_tower_vectors(built.model, other_ads, *arguments)
    )


def test_a_model_without_towers_is_refused(world: SyntheticWorld):
    tabular = built_model(world, tiny_tabular_params(), spec=tabular_spec())
    with pytest.raises(ValueError, match="two-tower transformer"):
        ad_tower_vectors(tabular.model, world.ad_features, None, batch_size=8)
