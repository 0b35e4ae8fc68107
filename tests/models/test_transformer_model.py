"""The transformer CTR model and its field-attention fallback: shapes, masking, no label leak."""

from __future__ import annotations

import numpy as np
import torch

from adrank_pipelines.models.layout import input_layout
from adrank_pipelines.models.training import ctr_losses, make_optimizers
from adrank_pipelines.models.zoo.field_attention.network import FieldAttentionCtrModel
from adrank_pipelines.models.zoo.transformer.network import TransformerCtrModel
from tests.models.transformer_fixtures import (
    BROWSE_LENGTH,
    LENGTH,
    SyntheticWorld,
    batch_of,
    built_model,
    tabular_spec,
    tiny_params,
    tiny_tabular_params,
    world,  # noqa: F401 - pytest fixture
)


def _ctr_logits(model: torch.nn.Module, batch) -> np.ndarray:
    with torch.no_grad():
        return model(batch).ctr_logit.numpy()


def test_outputs_and_tower_vectors_have_the_documented_shapes(world: SyntheticWorld) -> None:
    params = tiny_params()
    built = built_model(world, params)
    frame = world.valid.head(50)
    batch = batch_of(built, frame)
    with torch.no_grad():
        outputs = built.model(batch)
        user_vectors = built.model.user_vectors(batch)
        ad_vectors = built.model.ad_vectors(built.ads.tensors)
    assert isinstance(built.model, TransformerCtrModel)
    assert outputs.ctr_logit.shape == outputs.cvr_logit.shape == (50,)
    assert user_vectors.shape == (50, params.relevance_dim)
    assert ad_vectors.shape == (len(world.ad_features) + 1, params.relevance_dim)  # + the unknown-ad row
    assert torch.isfinite(outputs.ctr_logit).all()


def test_values_at_padded_positions_never_change_the_outputs(world: SyntheticWorld) -> None:
    built = built_model(world, tiny_params())
    frame = world.valid.head(200)
    before = _ctr_logits(built.model, batch_of(built, frame))

    sequences = world.sequences.copy()
    padded = np.arange(LENGTH)[None, :] < (LENGTH - sequences["seq_len"].to_numpy())[:, None]
    rng = np.random.default_rng(1)
    for field in ["ad_id", "category", "click", "age_hours"]:
        columns = [f"hist_{field}_{slot:02d}" for slot in range(LENGTH)]
        values = sequences[columns].to_numpy()
        noise = {"ad_id": world.ad_features["ad_id"].to_numpy(), "category": [2, 3], "click": [1], "age_hours": [7.0]}[
            field
        ]
        sequences[columns] = np.where(padded, rng.choice(noise, values.shape), values).astype(values.dtype)
    browse_padded = (
        np.arange(BROWSE_LENGTH)[None, :] < (BROWSE_LENGTH - sequences["browse_seq_len"].to_numpy())[:, None]
    )
    for field, noise in {"browse_category": [2, 3, 4], "browse_age_hours": [9.0, 90.0]}.items():
        columns = [f"hist_{field}_{slot:02d}" for slot in range(BROWSE_LENGTH)]
        values = sequences[columns].to_numpy()
        sequences[columns] = np.where(browse_padded, rng.choice(noise, values.shape), values).astype(values.dtype)
    assert padded.any() and browse_padded.any()
    changed = built_model_with_sequences(built, world, sequences)
    np.testing.assert_allclose(_ctr_logits(built.model, batch_of(changed, frame)), before, rtol=1e-5, atol=1e-6)


def test_organic_views_change_the_outputs(world: SyntheticWorld) -> None:
    built = built_model(world, tiny_params())
    frame = world.valid.head(200)
    sequences = world.sequences.copy()
    columns = [f"hist_browse_category_{slot:02d}" for slot in range(BROWSE_LENGTH)]
    sequences[columns] = np.where(sequences[columns].to_numpy() > 0, 5, 0).astype(np.int32)
    changed = built_model_with_sequences(built, world, sequences)
    difference = _ctr_logits(built.model, batch_of(changed, frame)) - _ctr_logits(built.model, batch_of(built, frame))
    assert np.abs(difference).max() > 1e-4


def built_model_with_sequences(built, world: SyntheticWorld, sequences):
    from dataclasses import replace

    from adrank_pipelines.models.prepare import prepare_requests

    return replace(built, requests=prepare_requests(built.model, sequences, built.ads))


def test_an_empty_history_gives_finite_outputs(world: SyntheticWorld) -> None:
    built = built_model(world, tiny_params())
    sequences = world.sequences.copy()
    sequences[["seq_len", "clicked_seq_len", "browse_seq_len"]] = 0
    sequences[[c for c in sequences.columns if c.startswith("hist_")]] = 0
    empty = built_model_with_sequences(built, world, sequences)
    batch = batch_of(empty, world.valid.head(64))
    assert bool(batch.requests.padding.all()) and bool(batch.requests.browse_padding.all())
    with torch.no_grad():
        outputs = empty.model(batch)
        user_vectors = empty.model.user_vectors(batch)
    assert torch.isfinite(outputs.ctr_logit).all() and torch.isfinite(outputs.cvr_logit).all()
    assert torch.isfinite(user_vectors).all()


def test_labels_never_reach_the_model(world: SyntheticWorld) -> None:
    built = built_model(world, tiny_params())
    frame = world.valid.head(300)
    shuffled = frame.copy()
    rng = np.random.default_rng(2)
    shuffled["click"] = rng.permutation(shuffled["click"].to_numpy())
    shuffled["conversion"] = 1 - shuffled["conversion"]
    np.testing.assert_array_equal(
        _ctr_logits(built.model, batch_of(built, frame)), _ctr_logits(built.model, batch_of(built, shuffled))
    )
    layout = built.model.layout
    model_columns = [*layout.user_categorical, *layout.pair_categorical, *layout.ad_categorical]
    model_columns += [*layout.user_numeric, *layout.pair_numeric, *layout.ad_numeric]
    assert not {"click", "conversion"} & set(model_columns)


def test_user_tower_reads_no_ad_side_feature(world: SyntheticWorld) -> None:
    layout = built_model(world, tiny_params()).model.layout
    assert set(layout.ad_categorical) == {"ad_id_idx", "advertiser_id_idx", "category_idx"}
    assert "user_id_x_category_hash" in layout.pair_categorical and "ad_id_ctr" in layout.pair_numeric
    assert set(layout.user_categorical) == {"user_id_idx", "position_idx"}
    assert set(layout.user_numeric) == {"position", "user_id_ctr"}


def test_the_field_attention_model_reads_a_spec_without_text_or_sequences(world: SyntheticWorld) -> None:
    params = tiny_tabular_params()
    layout = input_layout(tabular_spec(), world.train, None, params.ad_side_sources, text_width=0)
    assert isinstance(FieldAttentionCtrModel(layout, params), FieldAttentionCtrModel)
    built = built_model(world, params, spec=tabular_spec())
    assert isinstance(built.model, FieldAttentionCtrModel) and built.ads is None
    batch = batch_of(built, world.valid.head(40))
    with torch.no_grad():
        outputs = built.model(batch)
    assert outputs.ctr_logit.shape == (40,) and torch.isfinite(outputs.ctr_logit).all()


def test_the_finetune_path_trains_the_top_bert_layers_only(world: SyntheticWorld) -> None:
    built = built_model(world, tiny_params(text_encoder={"finetune_layers": 1}))
    model = built.model.train()
    bert = model.text_tower.bert
    assert bert is not None and built.ads.tensors.token_ids is not None
    top, bottom = bert.encoder.layer[-1], bert.encoder.layer[0]
    assert all(p.requires_grad for p in top.parameters()) and not any(p.requires_grad for p in bottom.parameters())

    top_before = next(top.parameters()).detach().clone()
    bottom_before = next(bottom.parameters()).detach().clone()
    optimizers = make_optimizers(model, tiny_params(training={"learning_rate": 0.01}).training)
    frame = world.train.head(128)
    loss = ctr_losses(
        model(batch_of(built, frame)), torch.tensor(frame[["click", "conversion"]].to_numpy(), dtype=torch.float32), 0.3
    )
    loss.backward()
    for optimizer in optimizers:
        optimizer.step()
    assert not torch.equal(next(top.parameters()), top_before)
    assert torch.equal(next(bottom.parameters()), bottom_before)
