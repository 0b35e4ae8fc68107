"""The towers' retrieval objective: sampled softmax with the logQ correction, its stream counts and its parameters."""

from __future__ import annotations

import math

import pytest
import torch
from pydantic import ValidationError

from adrank_pipelines.models.config import CtrTransformerParams
from adrank_pipelines.models.zoo.transformer.retrieval_objective import (
    RetrievalObjective,
    RetrievalObjectiveParams,
    sampled_softmax_loss,
)


def _cross_entropy(logits: list[float], target: int) -> float:
    return -logits[target] + math.log(sum(math.exp(value) for value in logits))


def test_the_logq_correction_subtracts_each_candidates_log_sampling_probability():
    relevance = torch.tensor([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0]])
    q = [0.5, 0.25, 0.25]
    loss = sampled_softmax_loss(relevance, torch.tensor([2, 1]), torch.log(torch.tensor(q)), temperature=0.5)
    # By hand: logit = relevance / 0.5 - log q; a frequent candidate (q = 0.5) is discounted by log 2 less.
    first = [2.0 - math.log(0.5), 0.0 - math.log(0.25), 4.0 - math.log(0.25)]
    second = [0.0 - math.log(0.5), 2.0 - math.log(0.25), 0.0 - math.log(0.25)]
    expected = (_cross_entropy(first, 2) + _cross_entropy(second, 1)) / 2
    assert float(loss) == pytest.approx(expected, rel=1e-6)
    assert expected == pytest.approx(0.1337, abs=1e-4)  # 0.0824 and 0.1848


def test_without_correction_the_loss_is_the_plain_in_batch_softmax():
    relevance = torch.tensor([[1.0, 0.0, 2.0]])
    loss = sampled_softmax_loss(relevance, torch.tensor([0]), None, temperature=1.0)
    assert float(loss) == pytest.approx(_cross_entropy([1.0, 0.0, 2.0], 0), rel=1e-6)


def test_no_positive_gives_a_zero_loss_and_a_lone_candidate_nothing_to_learn():
    empty = sampled_softmax_loss(torch.zeros(0, 4), torch.zeros(0, dtype=torch.long), None, temperature=1.0)
    assert float(empty) == 0.0
    alone = sampled_softmax_loss(torch.tensor([[3.0]]), torch.tensor([0]), torch.tensor([-1.0]), temperature=1.0)
    assert float(alone) == pytest.approx(0.0, abs=1e-7)


def _objective(**params: object) -> RetrievalObjective:
    return RetrievalObjective(RetrievalObjectiveParams.model_validate({"weight": 1.0} | params), relevance_dim=4)


def _labels(clicks: list[int], conversions: list[int] | None = None) -> torch.Tensor:
    return torch.tensor([clicks, conversions or [0] * len(clicks)], dtype=torch.float32).T


def test_each_distinct_ad_of_the_batch_is_one_candidate_weighted_by_its_impressions_so_far():
    objective = _objective(temperature=1.0)
    users = torch.tensor([[2.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0], [0.0, 0.0, 2.0, 0.0]])
    ads = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]])
    rows = torch.tensor([3, 5, 3])  # ad row 3 shown twice: one candidate, counted twice
    loss = objective.loss(users, ads, rows, n_ad_rows=6)(_labels([0, 1, 0]))
    assert objective.impression_counts.tolist() == [0, 0, 0, 2, 0, 1]
    # The clicked row: user (0, 2, 0, 0) against candidates row 3 and row 5, scaled by 1 / sqrt(4).
    relevance = [0.0, 1.0]
    log_q = [math.log(2 / 3), math.log(1 / 3)]
    logits = [r - lq for r, lq in zip(relevance, log_q, strict=True)]
    assert float(loss) == pytest.approx(_cross_entropy(logits, 1), rel=1e-6)


def test_counts_accumulate_over_the_stream_and_a_batch_without_positives_adds_nothing():
    objective = _objective(weight=0.5)
    vectors = torch.ones(2, 4, requires_grad=True)
    loss = objective.loss(vectors, vectors, torch.tensor([1, 2]), n_ad_rows=3)(_labels([0, 0]))
    loss.backward()  # type: ignore[no-untyped-call]
    assert float(loss) == 0.0 and vectors.grad is not None and float(vectors.grad.abs().sum()) == 0.0
    objective.loss(vectors, vectors, torch.tensor([2, 2]), n_ad_rows=3)
    assert objective.impression_counts.tolist() == [0, 1, 3]


def test_conversions_as_positives_read_the_conversion_label():
    objective = _objective(positives="conversions")
    users, ads = torch.eye(4)[:2] * 3, torch.eye(4)[:2]
    clicks_only = objective.loss(users, ads, torch.tensor([1, 2]), n_ad_rows=3)(_labels([1, 1], [0, 0]))
    converted = objective.loss(users, ads, torch.tensor([1, 2]), n_ad_rows=3)(_labels([1, 1], [0, 1]))
    assert float(clicks_only) == 0.0 and float(converted) > 0.0


def test_the_weight_scales_the_term():
    users, ads, rows, labels = torch.eye(4)[:2], torch.eye(4)[:2], torch.tensor([1, 2]), _labels([1, 0])
    once = _objective(weight=1.0).loss(users, ads, rows, 3)(labels)
    thrice = _objective(weight=3.0).loss(users, ads, rows, 3)(labels)
    assert float(thrice) == pytest.approx(3 * float(once))


@pytest.mark.parametrize(
    ("block", "named"),
    [
        ({"weight": -0.1}, "retrieval_objective.weight"),
        ({"temperature": 0.0}, "retrieval_objective.temperature"),
        ({"positives": "organic_views"}, "retrieval_objective.positives"),
        ({"sampling_corection": True}, "retrieval_objective.sampling_corection"),
    ],
)
def test_bad_parameters_are_named(block: dict[str, object], named: str):
    with pytest.raises(ValidationError, match=named.replace(".", r"\.")):
        CtrTransformerParams.model_validate({"retrieval_objective": block})


def test_the_objective_is_not_part_of_the_saved_architecture():
    params = CtrTransformerParams.model_validate({"retrieval_objective": {"weight": 0.2}})
    assert "retrieval_objective" not in params.architecture()
