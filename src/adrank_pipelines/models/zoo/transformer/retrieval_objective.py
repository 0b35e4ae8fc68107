"""A retrieval objective for the two towers: in-batch sampled softmax with the logQ sampling-bias correction.

The click loss alone trains ``user . ad`` only as one term of the click logit, next to features that
carry most of it, so nothing asks the towers to rank the whole catalogue for a user. This term does:
each positive impression (a click, or a conversion) scores its user vector against every distinct
ad of its batch, and a softmax over them is trained to pick the positive's ad.

The batch's ads are a sample of the training stream, drawn in proportion to how often each ad is
shown; frequent ads would otherwise be pushed down as negatives far more often than rare ones. The
logQ correction (Yi et al., RecSys 2019) subtracts ``log q(ad)`` from each candidate's logit, with
``q`` the ad's share of the impressions seen so far in training (counted as batches stream by, so
it needs no pass over the data and follows whatever order training uses). Organic views name a
category, not an ad, and already feed the user tower, so they make no (user, ad) pairs (ADR 0025).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat
from torch import nn
from torch.nn import functional as F


class RetrievalObjectiveParams(BaseModel):
    """``ctr_models.transformer.retrieval_objective``: the weight of the term beside the CTR loss and its softmax."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    weight: float = Field(default=0.0, ge=0.0)  # 0 = towers trained by the click loss alone
    temperature: PositiveFloat = 1.0  # divides the relevance logit user . ad / sqrt(d) inside the softmax
    positives: Literal["clicks", "conversions"] = "clicks"  # which impressions are (user, ad) positive pairs
    sampling_correction: bool = True  # subtract log q(ad), q = the ad's share of training impressions


def sampled_softmax_loss(
    relevance: torch.Tensor, positive_columns: torch.Tensor, log_q: torch.Tensor | None, temperature: float
) -> torch.Tensor:
    """Mean cross-entropy of each positive's own candidate, over ``relevance / temperature - log_q``.

    ``relevance``: (n_positives, n_candidates) logits of each positive's user against every candidate
    ad; ``positive_columns``: (n_positives,) the column of each positive's own ad; ``log_q``:
    (n_candidates,) log sampling probabilities, or None for no correction. No positives: a zero loss
    with zero gradients.
    """
    if relevance.shape[0] == 0:
        return relevance.sum() * 0.0  # zero, yet on the graph: a backward pass through it is a no-op
    logits = relevance.float() / temperature
    if log_q is not None:
        logits = logits - log_q.float()[None, :]
    return F.cross_entropy(logits, positive_columns)


class RetrievalObjective(nn.Module):
    """The term's parameters and the ad counts of the training stream behind ``q``."""

    impression_counts: torch.Tensor  # (n_ad_rows,) impressions per ad-table row seen in training so far

    def __init__(self, params: RetrievalObjectiveParams, relevance_dim: int) -> None:
        super().__init__()
        self.params, self.scale = params, relevance_dim**-0.5
        # Not saved with the weights: the counts describe one training stream, not the model.
        self.register_buffer("impression_counts", torch.zeros(0, dtype=torch.float64), persistent=False)

    @property
    def active(self) -> bool:
        return self.params.weight > 0

    def _observe(self, ad_rows: torch.Tensor, n_ad_rows: int) -> None:
        if len(self.impression_counts) != n_ad_rows:
            self.impression_counts = torch.zeros(n_ad_rows, dtype=torch.float64, device=ad_rows.device)
        self.impression_counts.index_add_(0, ad_rows, torch.ones_like(ad_rows, dtype=torch.float64))

    def loss(
        self, user_vectors: torch.Tensor, ad_vectors: torch.Tensor, ad_rows: torch.Tensor, n_ad_rows: int
    ) -> Callable[[torch.Tensor], torch.Tensor]:
        """Count the batch's ads, then the weighted loss as a function of the batch's (n, 2) click / conversion labels.

        ``user_vectors`` / ``ad_vectors``: (n, relevance_dim) per impression of the batch; ``ad_rows``: their ads.
        """
        self._observe(ad_rows, n_ad_rows)
        candidate_rows, columns = torch.unique(ad_rows, return_inverse=True)
        # One vector per candidate: each ad's first impression in the batch (every impression of an ad has the same one).
        positions = torch.arange(len(ad_rows), device=ad_rows.device)
        first = positions.new_full((len(candidate_rows),), len(ad_rows)).scatter_reduce(0, columns, positions, "amin")
        candidates = ad_vectors[first]
        counts = self.impression_counts[candidate_rows]
        log_q = torch.log(counts / self.impression_counts.sum()) if self.params.sampling_correction else None
        label_column = 0 if self.params.positives == "clicks" else 1

        def weighted_loss(labels: torch.Tensor) -> torch.Tensor:
            positive = labels[:, label_column] > 0
            relevance = (user_vectors[positive] @ candidates.T) * self.scale
            loss = sampled_softmax_loss(relevance, columns[positive], log_q, self.params.temperature)
            return self.params.weight * loss

        return weighted_loss
