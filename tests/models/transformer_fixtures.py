"""A tiny synthetic world in the features pipeline's output format, for the transformer CTR tests.

Clicks follow a known rule: an ad in the user's favourite category, and an ad whose creative says
"premium", are clicked more often. So a model that reads sequences and text can learn it, and a test
can check that it does, in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.models.config import CtrTransformerParams, TorchCtrParams
from adrank_pipelines.models.zoo import zoo_model
from adrank_pipelines.models.zoo.field_attention.network import FieldAttentionParams
from adrank_pipelines.models.zoo.interface import SideTables
from adrank_pipelines.models.zoo.torch_network import TorchZooModel

N_CATEGORIES, N_ADVERTISERS, N_ADS, N_USERS, LENGTH = 4, 6, 48, 120, 6
BROWSE_LENGTH = 5
CATEGORY_WORDS = ["shoes", "coffee", "laptops", "travel"]


@dataclass(frozen=True)
class SyntheticWorld:
    spec: dict[str, Any]
    ad_features: pd.DataFrame
    sequences: pd.DataFrame
    train: pd.DataFrame
    valid: pd.DataFrame


def _sequence_columns(field: str, length: int = LENGTH) -> list[str]:
    return [f"hist_{field}_{slot:02d}" for slot in range(length)]


def synthetic_spec() -> dict[str, Any]:
    vocabulary = lambda source, size: {"kind": "vocabulary", "source": [source], "size": size}  # noqa: E731
    return {
        "id_columns": ["request_id", "impression_id", "user_id", "ad_id", "split", "is_cold_start_ad"],
        "label_columns": ["click", "conversion"],
        "split_column": "split",
        "categorical": {
            "user_id_idx": vocabulary("user_id", N_USERS + 2),
            "ad_id_idx": vocabulary("ad_id", N_ADS + 2),
            "advertiser_id_idx": vocabulary("advertiser_id", N_ADVERTISERS + 2),
            "category_idx": vocabulary("category", N_CATEGORIES + 2),
            "position_idx": vocabulary("position", 5),
            "user_id_x_category_hash": {"kind": "hash", "source": ["user_id", "category"], "size": 32},
        },
        "numeric": ["position", "log_bid", "ad_id_ctr", "user_id_ctr"],
        "sequences": {
            "dataset": "behaviour_sequences",
            "join_key": "request_id",
            "length": LENGTH,
            "length_column": "seq_len",
            "padding_value": 0,
            "padding_side": "left",
            "fields": {
                "ad_id": {"columns": _sequence_columns("ad_id"), "kind": "raw_id", "embedding_source": "ad_id"},
                "category": {"columns": _sequence_columns("category"), "kind": "vocabulary", "size": N_CATEGORIES + 2},
                "click": {"columns": _sequence_columns("click"), "kind": "flag"},
                "age_hours": {"columns": _sequence_columns("age_hours"), "kind": "numeric"},
                "clicked_ad_id": {
                    "columns": _sequence_columns("clicked_ad_id"),
                    "kind": "raw_id",
                    "embedding_source": "ad_id",
                    "length_column": "clicked_seq_len",
                },
                "browse_category": {
                    "columns": _sequence_columns("browse_category", BROWSE_LENGTH),
                    "kind": "browse_vocabulary",
                    "size": N_CATEGORIES + 2,
                    "length_column": "browse_seq_len",
                },
                "browse_age_hours": {
                    "columns": _sequence_columns("browse_age_hours", BROWSE_LENGTH),
                    "kind": "browse_numeric",
                },
            },
        },
    }


def tabular_spec() -> dict[str, Any]:
    """The same columns without text or sequences, as on public click logs."""
    spec = synthetic_spec()
    del spec["sequences"]
    return spec


def _ad_features(rng: np.random.Generator) -> pd.DataFrame:
    ad_ids = np.arange(1, N_ADS + 1) * 10  # raw ids differ from vocabulary indices, as in real data
    categories = rng.integers(0, N_CATEGORIES, N_ADS)
    premium = rng.random(N_ADS) < 0.5
    titles = [
        f"brand{ad % 7}: {'premium' if p else 'basic'} {CATEGORY_WORDS[c]}"
        for ad, c, p in zip(ad_ids, categories, premium, strict=True)
    ]
    return pd.DataFrame(
        {
            "ad_id": ad_ids,
            "advertiser_id": rng.integers(0, N_ADVERTISERS, N_ADS),
            "category": [CATEGORY_WORDS[c] for c in categories],
            "title": titles,
            "description": [f"Shop {CATEGORY_WORDS[c]} now." for c in categories],
            "ad_id_idx": np.arange(N_ADS, dtype=np.int32) + 2,
            "advertiser_id_idx": (rng.integers(0, N_ADVERTISERS, N_ADS) + 2).astype(np.int32),
            "category_idx": (categories + 2).astype(np.int32),
            "log_bid": rng.normal(0.0, 0.5, N_ADS).astype(np.float32),
            "is_cold_start_ad": False,
            "_premium": premium,
        }
    )


def _sequences(
    rng: np.random.Generator, ads: pd.DataFrame, request_users: np.ndarray, favourite: np.ndarray
) -> pd.DataFrame:
    n = len(request_users)
    lengths = rng.integers(0, LENGTH + 1, n)
    columns: dict[str, Any] = {"request_id": np.arange(1, n + 1), "seq_len": lengths.astype(np.int32)}
    # History events lean towards the user's favourite category, so the sequence reveals it.
    in_favourite = ads["category_idx"].to_numpy()[None, :] - 2 == favourite[request_users][:, None]
    weights = np.where(in_favourite, 4.0, 1.0)
    picks = np.stack([rng.choice(N_ADS, LENGTH, p=w / w.sum()) for w in weights])
    padding = np.arange(LENGTH)[None, :] < (LENGTH - lengths)[:, None]
    ad_ids = np.where(padding, 0, ads["ad_id"].to_numpy()[picks])
    clicks = np.where(padding, 0, rng.random((n, LENGTH)) < 0.3).astype(np.int32)
    for field, values in {
        "ad_id": ad_ids,
        "category": np.where(padding, 0, ads["category_idx"].to_numpy()[picks]),
        "click": clicks,
        "age_hours": np.where(padding, 0.0, rng.uniform(0, 100, (n, LENGTH))).astype(np.float32),
    }.items():
        columns |= dict(
            zip(
                _sequence_columns(field), values.astype(np.float32 if field == "age_hours" else np.int32).T, strict=True
            )
        )
    clicked_lengths = np.minimum(clicks.sum(axis=1), LENGTH)
    clicked_padding = np.arange(LENGTH)[None, :] < (LENGTH - clicked_lengths)[:, None]
    columns["clicked_seq_len"] = clicked_lengths.astype(np.int32)
    columns |= dict(
        zip(_sequence_columns("clicked_ad_id"), np.where(clicked_padding, 0, ad_ids).astype(np.int32).T, strict=True)
    )
    # Organic views: mostly the favourite category, a few left-padded slots.
    browse_lengths = rng.integers(1, BROWSE_LENGTH + 1, n)
    browse_padding = np.arange(BROWSE_LENGTH)[None, :] < (BROWSE_LENGTH - browse_lengths)[:, None]
    viewed = np.where(
        rng.random((n, BROWSE_LENGTH)) < 0.7,
        favourite[request_users][:, None],
        rng.integers(0, N_CATEGORIES, (n, BROWSE_LENGTH)),
    )
    columns["browse_seq_len"] = browse_lengths.astype(np.int32)
    columns |= dict(
        zip(
            _sequence_columns("browse_category", BROWSE_LENGTH),
            np.where(browse_padding, 0, viewed + 2).astype(np.int32).T,
            strict=True,
        )
    )
    browse_age = np.where(browse_padding, 0.0, rng.uniform(0, 500, (n, BROWSE_LENGTH))).astype(np.float32)
    columns |= dict(zip(_sequence_columns("browse_age_hours", BROWSE_LENGTH), browse_age.T, strict=True))
    return pd.DataFrame(columns)


N_AUDIENCES = 2


def synthetic_world(n_requests: int = 3000, seed: int = 0, audience_taste: bool = False) -> SyntheticWorld:
    """``audience_taste``: users also belong to one of two audiences (a user field), and the
    "premium" wording attracts one audience and repels the other instead of attracting everyone."""
    rng = np.random.default_rng(seed)
    ads = _ad_features(rng)
    favourite = rng.integers(0, N_CATEGORIES, N_USERS)
    request_users = rng.integers(0, N_USERS, n_requests)
    sequences = _sequences(rng, ads, request_users, favourite)

    request_rows = np.repeat(np.arange(n_requests), 2)  # two impressions per request
    ad_rows = rng.integers(0, N_ADS, len(request_rows))
    users = request_users[request_rows]
    matches = ads["category_idx"].to_numpy()[ad_rows] - 2 == favourite[users]
    audience = (users % N_AUDIENCES).astype(np.int32)
    wording_appeal = np.where(audience == 0, 2.0, -2.0) if audience_taste else 2.0
    logit = -2.5 + 2.5 * matches + wording_appeal * ads["_premium"].to_numpy()[ad_rows]
    clicks = (rng.random(len(logit)) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int8)
    position = np.tile([1, 2], n_requests).astype(np.int32)
    frame = pd.DataFrame(
        {
            "request_id": request_rows + 1,
            "impression_id": np.arange(1, len(request_rows) + 1),
            "user_id": users,
            "ad_id": ads["ad_id"].to_numpy()[ad_rows],
            "split": np.where(request_rows < 0.75 * n_requests, "train", "valid"),
            "is_cold_start_ad": False,
            "click": clicks,
            "conversion": (clicks * (rng.random(len(clicks)) < 0.3)).astype(np.int8),
            "user_id_idx": (users + 2).astype(np.int32),
            "ad_id_idx": ads["ad_id_idx"].to_numpy()[ad_rows],
            "advertiser_id_idx": ads["advertiser_id_idx"].to_numpy()[ad_rows],
            "category_idx": ads["category_idx"].to_numpy()[ad_rows],
            "position_idx": position + 1,
            "user_id_x_category_hash": ((users * 7 + ad_rows) % 31 + 1).astype(np.int32),
            "position": position,
            "log_bid": ads["log_bid"].to_numpy()[ad_rows],
            "ad_id_ctr": rng.uniform(0.0, 0.1, len(request_rows)).astype(np.float32),
            "user_id_ctr": rng.uniform(0.0, 0.1, len(request_rows)).astype(np.float32),
        }
    )
    spec = synthetic_spec()
    if audience_taste:
        frame["audience_idx"] = audience + 2
        spec["categorical"]["audience_idx"] = {"kind": "vocabulary", "source": ["audience"], "size": N_AUDIENCES + 2}
    train = frame.loc[frame["split"] == "train"].reset_index(drop=True)
    valid = frame.loc[frame["split"] == "valid"].reset_index(drop=True)
    return SyntheticWorld(
        spec=spec, ad_features=ads.drop(columns="_premium"), sequences=sequences, train=train, valid=valid
    )


def tiny_params(**overrides: Any) -> CtrTransformerParams:
    """A tiny random BERT and tiny widths; ``overrides`` merge into the nested parameter dict."""
    base: dict[str, Any] = {
        "text_encoder": {
            "kind": "random",
            "random_hidden_size": 16,
            "random_layers": 2,
            "random_heads": 2,
            "max_length": 16,
        },
        "d_model": 16,
        "field_dim": 4,
        "relevance_dim": 8,
        "feedforward_dim": 32,
        "mlp_hidden": [32],
        "dropout": 0.0,
        "id_dropout": 0.1,
        "excluded_columns": [],
        "training": {
            "batch_size": 128,
            "max_epochs": 2,
            "min_steps": 0,  # exactly max_epochs: the tests count epochs
            "num_threads": 1,
            "learning_rate": 0.005,
            "show_progress": False,
        },
    }
    for key, value in overrides.items():
        base[key] = base[key] | value if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return CtrTransformerParams.model_validate(base)


def tiny_tabular_params(**overrides: Any) -> FieldAttentionParams:
    """The field-attention model (no text, no sequences) at tiny widths."""
    base: dict[str, Any] = {
        "d_model": 16,
        "feedforward_dim": 32,
        "mlp_hidden": [32],
        "dropout": 0.0,
        "training": {"batch_size": 128, "max_epochs": 2, "min_steps": 0, "num_threads": 1, "learning_rate": 0.005}
        | overrides.pop("training", {}),
    }
    return FieldAttentionParams.model_validate(base | overrides)


def zoo_network(params: TorchCtrParams) -> TorchZooModel[Any]:
    """The zoo model that ``params`` parameterise: the transformer or the field-attention model."""
    zoo = zoo_model("transformer" if isinstance(params, CtrTransformerParams) else "field_attention")
    assert isinstance(zoo, TorchZooModel)
    return zoo


def fit_network(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    spec: dict[str, Any],
    params: TorchCtrParams,
    side: SideTables | None = None,
) -> tuple[Any, list[dict[str, float]]]:
    """Train the zoo network ``params`` belong to, as its zoo entry would, returning the network and its history."""
    from adrank_pipelines.models.training import fit_ctr_model

    zoo = zoo_network(params)
    side = side or SideTables()
    builder, encoder = zoo.network_builder(params), zoo.text_encoder(params)
    return fit_ctr_model(
        train, valid, side.sequences, side.ad_features, side.text_embeddings, spec, params, builder, encoder
    )


@pytest.fixture(scope="session")
def world() -> SyntheticWorld:
    return synthetic_world()


@dataclass(frozen=True)
class BuiltModel:
    """An untrained model with its prepared ad table and sequences, and the world's text embeddings."""

    model: Any
    text_embeddings: pd.DataFrame | None
    ads: Any
    requests: Any


def built_model(world: SyntheticWorld, params: TorchCtrParams, spec: dict[str, Any] | None = None) -> BuiltModel:
    from adrank_pipelines.models.prepare import prepare_ads, prepare_requests
    from adrank_pipelines.models.text_encoder import ad_text_embeddings
    from adrank_pipelines.models.training import build_model

    spec = world.spec if spec is None else spec
    zoo = zoo_network(params)
    encoder = zoo.text_encoder(params)
    text = ad_text_embeddings(world.ad_features, encoder) if encoder and encoder.finetune_layers == 0 else None
    model = build_model(spec, world.train, world.ad_features, text, params, zoo.network_builder(params), encoder).eval()
    ads = prepare_ads(model, world.ad_features, text)
    return BuiltModel(
        model=model, text_embeddings=text, ads=ads, requests=prepare_requests(model, world.sequences, ads)
    )


def batch_of(built: BuiltModel, frame: pd.DataFrame):
    import torch

    from adrank_pipelines.models.batching import make_batch
    from adrank_pipelines.models.prepare import prepare_impressions

    impressions = prepare_impressions(built.model, frame, built.ads, built.requests)
    requests = None if built.requests is None else built.requests.tensors
    ads = None if built.ads is None else built.ads.tensors
    return make_batch(impressions, torch.arange(len(frame)), requests, ads)
