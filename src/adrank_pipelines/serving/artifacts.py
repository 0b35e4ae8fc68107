"""Everything the request path reads, loaded once from the catalog the batch pipelines wrote.

``load_artifacts`` takes any object with a ``load(name)`` method (a Kedro ``DataCatalog``), the
project's parameters and the serving settings. A catalog entry that cannot be loaded stops start-up
with a message naming the entry and the pipeline that writes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import faiss
import numpy as np
import pandas as pd
from pydantic import BaseModel

from adrank_pipelines.auction.config import AuctionEvalParams
from adrank_pipelines.features.candidates import REQUEST_COLUMNS, FeatureRecipe, ad_side
from adrank_pipelines.features.enrich import USER_ATTRIBUTES
from adrank_pipelines.features.recipe import FeatureRecipeArtifact
from adrank_pipelines.features.snapshot import SnapshotLookup, StatisticsSnapshot
from adrank_pipelines.features.vocabulary import Vocabulary
from adrank_pipelines.lifecycle.release import ModelRelease
from adrank_pipelines.models.zoo import scoring_closure, zoo_model
from adrank_pipelines.models.zoo.interface import ModelInput, SideTables, TrainedModel
from adrank_pipelines.ranking.params import CandidateParams, ObjectiveParams
from adrank_pipelines.ranking.scoring import CandidateScorer
from adrank_pipelines.retrieval.config import IndexingParams
from adrank_pipelines.retrieval.eligibility import ad_eligibility
from adrank_pipelines.retrieval.retrieve import AdVectors
from adrank_pipelines.retrieval.vectors import vector_matrix
from adrank_pipelines.serving.params import ServingParams

ModelT = TypeVar("ModelT", bound=BaseModel)


class Catalog(Protocol):
    def load(self, name: str) -> Any: ...


class MissingArtifactError(RuntimeError):
    """A catalog entry the service needs could not be loaded; the message names it and its pipeline."""


@dataclass(frozen=True)
class ServingArtifacts:
    """The loaded artifacts and parameters, with the lookups built from them once."""

    index: faiss.Index
    ad_vectors: AdVectors
    retrieval_model: TrainedModel
    retrieval_text: pd.DataFrame | None
    ad_features: pd.DataFrame
    ad_side: pd.DataFrame
    users: pd.DataFrame
    advertisers: pd.DataFrame
    eligibility: pd.DataFrame  # ad_eligibility's table before any spend
    recipe: FeatureRecipe
    category_vocabulary: Vocabulary
    lengths: tuple[int, bool, int]  # sequence length, clicked history, organic views per request
    snapshot_day: int
    snapshot: StatisticsSnapshot
    snapshot_lookup: SnapshotLookup
    scorers: dict[str, CandidateScorer]  # per tier
    model_versions: dict[str, int | None]  # the registry version of each loaded model (None: a run's output)
    indexing: IndexingParams
    ranking: CandidateParams
    objective: ObjectiveParams
    auction: AuctionEvalParams
    ad_ids_sorted: np.ndarray
    ad_bids: np.ndarray  # per row of ad_ids_sorted
    ad_advertisers: np.ndarray  # per row of ad_ids_sorted
    ad_categories: np.ndarray  # per row of ad_ids_sorted
    user_index: pd.Index  # the users table's user_id, by row

    def ad_rows(self, ad_ids: np.ndarray) -> np.ndarray:
        """Rows of ``ad_ids`` (any shape; ids not in the ads table map to row 0, callers mask them)."""
        rows = np.searchsorted(self.ad_ids_sorted, ad_ids)
        return np.minimum(rows, len(self.ad_ids_sorted) - 1)

    def is_known_user(self, user_id: int) -> bool:
        return user_id in self.user_index

    def user_rows(self, user_ids: np.ndarray) -> np.ndarray:
        """Rows of ``user_ids`` in the users table; -1 for a user it does not hold."""
        return self.user_index.get_indexer(pd.Index(user_ids))


# Which pipeline writes each entry the service reads (patterns by their model-free suffix).
PRODUCERS = {
    "ad_index": "indexing",
    "ad_vectors": "indexing",
    "ad_features": "features",
    "feature_recipe": "features",
    "statistics_snapshots": "features",
    "validated_users": "validate",
    "validated_ads": "validate",
    "validated_advertisers": "validate",
    "impressions_enriched": "features",
    "validated_user_events": "validate",
    ".trained_model": "ctr_training",
    ".registered_model": "ctr_training",
    ".calibrator": "ctr_training",
    ".ad_text_embeddings": "ctr_training",
}


def producer_of(name: str) -> str:
    for key, pipeline in PRODUCERS.items():
        if name == key or (key.startswith(".") and name.endswith(key)):
            return pipeline
    return "the default pipeline"


def load_entry(catalog: Catalog, name: str) -> Any:
    """``catalog.load(name)``, or a ``MissingArtifactError`` naming the entry and the pipeline to run."""
    try:
        return catalog.load(name)
    except Exception as error:
        pipeline = producer_of(name)
        raise MissingArtifactError(
            f"the service cannot load catalog entry '{name}' ({type(error).__name__}: {error}); "
            f"run `kedro run --pipeline {pipeline}` (or the default pipeline) for this environment first"
        ) from error


def _typed(model: type[ModelT], parameters: Mapping[str, Any], dotted_key: str) -> ModelT:
    """The parameters at ``dotted_key`` as ``model`` (Kedro hands them over typed or as plain mappings)."""
    value: Any = parameters
    for part in dotted_key.split("."):
        if isinstance(value, BaseModel):
            value = value.model_dump()
        if not isinstance(value, Mapping) or part not in value:
            raise MissingArtifactError(f"parameter '{dotted_key}' is missing from the configuration")
        value = value[part]
    if isinstance(value, model):
        return value
    return model.model_validate(value.model_dump() if isinstance(value, BaseModel) else value)


def served_models(params: ServingParams, model_blocks: Mapping[str, Any]) -> list[str]:
    """The tier models and the pCVR model, with every model they read (``model_blocks``: ``ctr_models``)."""
    named = [tier.model for tier in params.tiers.values()]
    named += [tier.pcvr_model or params.pcvr_model for tier in params.tiers.values()]
    return scoring_closure(list(dict.fromkeys(named)), model_blocks)


def load_model(catalog: Catalog, name: str, params: ServingParams) -> ModelRelease:
    """``name``'s model and calibrator: the registry version of the catalog's alias, or the last run's outputs."""
    if params.model_source == "registry":
        release: ModelRelease = load_entry(catalog, f"{name}.registered_model")
        return release
    return ModelRelease(load_entry(catalog, f"{name}.trained_model"), load_entry(catalog, f"{name}.calibrator"))


def load_artifacts(catalog: Catalog, parameters: Mapping[str, Any], params: ServingParams) -> ServingArtifacts:
    """Load and index everything the request path needs, from ``catalog`` and the project's ``parameters``."""
    indexing = _typed(IndexingParams, parameters, "indexing")
    auction = _typed(AuctionEvalParams, parameters, "auction_eval")
    candidates = _typed(CandidateParams, parameters, "ranking.candidates")
    objective = _typed(ObjectiveParams, parameters, "ranking.objective")
    if params.auction.mechanism not in auction.mechanisms:
        raise MissingArtifactError(
            f"serving.auction.mechanism is '{params.auction.mechanism}', not one of auction_eval.mechanisms "
            f"{sorted(auction.mechanisms)}"
        )

    ads, advertisers = load_entry(catalog, "validated_ads"), load_entry(catalog, "validated_advertisers")
    users, ad_features = load_entry(catalog, "validated_users"), load_entry(catalog, "ad_features")
    recipe_artifact = FeatureRecipeArtifact.model_validate(load_entry(catalog, "feature_recipe"))
    snapshots: dict[int, StatisticsSnapshot] = load_entry(catalog, "statistics_snapshots")
    if not snapshots:
        raise MissingArtifactError(
            "catalog entry 'statistics_snapshots' holds no snapshot: rerun the features pipeline"
        )
    snapshot_day = max(snapshots)
    retrieval = indexing.retrieval_model
    vectors_table = load_entry(catalog, "ad_vectors")

    models = served_models(params, parameters.get("ctr_models", {}))
    releases = {name: load_model(catalog, name, params) for name in dict.fromkeys([*models, retrieval])}
    trained = {name: release.trained for name, release in releases.items()}
    for model in trained.values():
        zoo_model(model.zoo).limit_threads(model.model, params.num_threads)
    text = {
        name: load_entry(catalog, f"{name}.ad_text_embeddings")
        for name in {*models, retrieval}
        if ModelInput.TEXT in zoo_model(name).inputs
    }
    calibrators = {tier.model: releases[tier.model].calibrator for tier in params.tiers.values()}
    # Sequences come with each batch (CandidateScorer.with_sequences); an empty table stands in until then.
    side = SideTables(sequences=pd.DataFrame({"request_id": np.zeros(0, dtype=np.int64)}), ad_features=ad_features)
    scorers = {
        name: CandidateScorer([tier.model], tier.pcvr_model or params.pcvr_model, trained, calibrators, side, text)
        for name, tier in params.tiers.items()
    }
    ad_side_table = ad_side(ads, advertisers, ad_features)
    request_columns = [*REQUEST_COLUMNS, *USER_ATTRIBUTES.values(), "position"]
    by_id = ads.sort_values("ad_id")
    recipe = recipe_artifact.candidate_recipe()
    return ServingArtifacts(
        index=load_entry(catalog, "ad_index"),
        ad_vectors=AdVectors(
            vectors_table["ad_id"].to_numpy(dtype=np.int64), vector_matrix(vectors_table, "ad_vectors")
        ),
        retrieval_model=trained[retrieval],
        retrieval_text=text.get(retrieval),
        ad_features=ad_features,
        ad_side=ad_side_table,
        users=users,
        advertisers=advertisers,
        eligibility=ad_eligibility(ads, advertisers, indexing.budget),
        recipe=recipe,
        category_vocabulary=recipe.vocabularies["category"],
        lengths=(
            recipe_artifact.sequences.sequence_length,
            recipe_artifact.sequences.include_clicked_history,
            recipe_artifact.sequences.browse_length,
        ),
        snapshot_day=snapshot_day,
        snapshot=snapshots[snapshot_day],
        snapshot_lookup=SnapshotLookup(snapshots[snapshot_day], request_columns, ad_side_table),
        scorers=scorers,
        model_versions={name: release.version for name, release in releases.items()},
        indexing=indexing,
        ranking=candidates,
        objective=objective,
        auction=auction,
        ad_ids_sorted=by_id["ad_id"].to_numpy(dtype=np.int64),
        ad_bids=by_id["bid"].to_numpy(dtype=np.float64),
        ad_advertisers=by_id["advertiser_id"].to_numpy(dtype=np.int64),
        ad_categories=by_id["category"].astype(str).to_numpy(),
        user_index=pd.Index(users["user_id"]),
    )
