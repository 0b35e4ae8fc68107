"""Typed parameters of the indexing pipeline (``params:indexing``).

Kedro validates the node input against :class:`IndexingParams`, so a misspelt key or an out-of-range
value fails at start-up with its name in the message. Plain pydantic: usable without Kedro.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveInt, model_validator

# inner_product: the CTR model's own relevance logit (user . ad / sqrt(d)); cosine: both vectors
# L2-normalised before indexing, so an ad's vector norm no longer favours it.
Metric = Literal["inner_product", "cosine"]


class _StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IndexSpec(_StrictModel):
    """One FAISS index: an index-factory string and its search-time parameters."""

    factory: str = Field(min_length=1, description="faiss.index_factory string, e.g. 'Flat', 'IVF128,Flat', 'HNSW32'")
    nprobe: PositiveInt | None = Field(default=None, description="IVF lists scanned per query (IVF indexes only)")
    ef_search: PositiveInt | None = Field(default=None, description="HNSW candidate-list size (HNSW indexes only)")
    k_factor: float | None = Field(
        default=None,
        ge=1,
        description="refine stage ('...,RFlat', 'Refine(...)'): k_factor x k coarse candidates re-ranked per query",
    )
    # Search inner product as L2 nearest neighbours over vectors lifted to equal norms (one extra
    # dimension): IVF partitions and HNSW graphs are built for L2 and lose recall on raw inner product.
    mips_to_l2: bool = False
    # Sub-indexes over disjoint slices of the ads, searched in parallel and merged: each slice can be
    # filled (and later held) apart. All shards share one training, so their distances compare.
    shards: PositiveInt = 1
    # Vectors (a fixed-seed sample) the index is trained on; None = all. IVF / PQ training on tens of
    # millions of ads costs minutes for codebooks a few hundred thousand vectors already pin down.
    train_size: PositiveInt | None = None

    @property
    def name(self) -> str:
        """A readable label: the factory string, the parameters that are set, the L2 reduction."""
        settings = [
            f"nprobe={self.nprobe}" if self.nprobe else "",
            f"efSearch={self.ef_search}" if self.ef_search else "",
            f"k_factor={self.k_factor:g}" if self.k_factor else "",
            f"shards={self.shards}" if self.shards > 1 else "",
            f"train={self.train_size}" if self.train_size else "",
            "MIPS->L2" if self.mips_to_l2 else "",
        ]
        return " ".join([self.factory, *filter(None, settings)])

    @property
    def structure(self) -> IndexSpec:
        """This spec without its search-time parameters: what is trained and filled, once for all of them."""
        return self.model_copy(update={"nprobe": None, "ef_search": None, "k_factor": None})


class BudgetParams(_StrictModel):
    """The remaining-budget flag: an ad is served only while its advertiser can still pay for clicks."""

    # remaining daily budget >= this many clicks at the ad's bid (0 = every ad with budget left > 0 is served)
    min_affordable_clicks: NonNegativeFloat = 1.0


class TargetingRule(_StrictModel):
    """Ads of ``categories`` reach only requests from ``countries`` and on ``platforms`` (None = any)."""

    categories: list[str] = Field(min_length=1)
    countries: list[str] | None = None
    platforms: list[str] | None = None

    @model_validator(mode="after")
    def _restricts_something(self) -> TargetingRule:
        if self.countries is None and self.platforms is None:
            raise ValueError(f"targeting rule for {self.categories} names neither countries nor platforms")
        return self


class EvaluationParams(_StrictModel):
    """The recall / latency / oracle comparison of index types on the evaluation day's queries."""

    index_types: list[IndexSpec] = Field(min_length=1)
    recall_queries: PositiveInt = 2000  # sampled requests for recall@K against exact search
    oracle_requests: PositiveInt = 1000  # sampled requests whose best ad by true eCPM is computed
    latency_queries: PositiveInt = 300  # single-query searches timed per index type
    latency_batch_size: PositiveInt = 256  # queries per batched search
    seed: int = 0


class IndexingParams(_StrictModel):
    """Everything the indexing pipeline reads from ``params:indexing``."""

    # The ctr_training model whose user and ad towers give the query and ad vectors (a two-tower model).
    retrieval_model: str = Field(min_length=1)
    top_k: PositiveInt = 500  # candidates retrieved per request
    metric: Metric = "inner_product"
    # Retrieval score = similarity + bid_weight * log(bid): 0 = relevance alone; 1 with inner product
    # = the model's relevance logit + log(bid), a log-eCPM proxy, so the auction's high-value ads are kept.
    bid_weight: NonNegativeFloat = 1.0
    index: IndexSpec
    query_batch_size: PositiveInt = 4096  # requests per user-tower forward pass and per FAISS search call
    # The slot a query's user and context features are built for: every request has the top slot.
    query_position: PositiveInt = 1
    num_threads: PositiveInt = 2  # FAISS (OpenMP) threads
    budget: BudgetParams = BudgetParams()
    # The simulated ads carry no targeting columns: targeting is config-driven, and none by default.
    targeting: list[TargetingRule] = Field(default_factory=list)
    evaluation: EvaluationParams
