"""The multi-objective score and the per-request order, on cases small enough to compute by hand."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from adrank_pipelines.ranking.objective import group_starts, normalise, objective_scores, rank_within_groups
from adrank_pipelines.ranking.params import CandidateParams, ObjectiveParams, ScoringParams

# One request, three candidates.
PCTR = np.array([0.1, 0.2, 0.3])
PCVR = np.array([0.5, 0.1, 0.2])
BID = np.array([1.0, 2.0, 0.5])  # revenue term bid x pCTR = [0.1, 0.4, 0.15]
ONE_REQUEST = np.array([0])


def test_group_starts_mark_each_run_of_a_request():
    np.testing.assert_array_equal(group_starts(np.array([7, 7, 9, 9, 9, 4])), [0, 2, 5])
    assert len(group_starts(np.zeros(0, dtype=np.int64))) == 0


def test_minmax_scales_each_request_to_0_1_and_a_flat_request_to_0():
    values = np.array([2.0, 4.0, 3.0, 5.0, 5.0])
    np.testing.assert_allclose(normalise(values, np.array([0, 3]), "minmax"), [0.0, 1.0, 0.5, 0.0, 0.0])


def test_rank_normalisation_shares_ties_and_scales_by_request_size():
    values = np.array([0.3, 0.1, 0.3, 0.2, 9.0])
    # Request 1: sorted 0.1, 0.2, 0.3, 0.3 -> ranks 0, 1, 2.5, 2.5 over 3; request 2 has one candidate.
    np.testing.assert_allclose(normalise(values, np.array([0, 4]), "rank"), [2.5 / 3, 0.0, 2.5 / 3, 1 / 3, 0.0])


def test_none_keeps_the_raw_values():
    np.testing.assert_allclose(normalise(PCTR, ONE_REQUEST, "none"), PCTR)


def test_default_weights_with_minmax_by_hand():
    # N(pCTR) = [0, .5, 1], N(pCVR) = [1, 0, .25], N(revenue) = [0, 1, 1/6].
    scores = objective_scores(PCTR, PCVR, BID, ONE_REQUEST, ObjectiveParams())
    np.testing.assert_allclose(scores, [0.3, 0.2 + 0.3, 0.4 + 0.075 + 0.05])
    np.testing.assert_array_equal(rank_within_groups(scores, np.arange(3), ONE_REQUEST), [2, 1, 0])


def test_weights_choose_the_objective():
    only = {"ctr": (1, 0, 0), "cvr": (0, 1, 0), "revenue": (0, 0, 1)}
    ranks = {
        name: rank_within_groups(
            objective_scores(PCTR, PCVR, BID, ONE_REQUEST, ObjectiveParams(alpha=a, beta=b, gamma=g)),
            np.arange(3),
            ONE_REQUEST,
        ).tolist()
        for name, (a, b, g) in only.items()
    }
    assert ranks == {"ctr": [2, 1, 0], "cvr": [0, 2, 1], "revenue": [2, 0, 1]}


def test_rank_normalisation_by_hand():
    # Ranks scaled: pCTR [0, .5, 1], pCVR [1, 0, .5], revenue [0, 1, .5].
    scores = objective_scores(PCTR, PCVR, BID, ONE_REQUEST, ObjectiveParams(normalisation="rank"))
    np.testing.assert_allclose(scores, [0.3, 0.5, 0.4 + 0.15 + 0.15])


def test_raw_scores_let_the_widest_term_decide():
    # Without normalisation the revenue term (spread 0.3) outweighs pCTR's (0.2) at equal weights.
    params = ObjectiveParams(alpha=0.5, beta=0.0, gamma=0.5, normalisation="none")
    scores = objective_scores(PCTR, PCVR, BID, ONE_REQUEST, params)
    np.testing.assert_allclose(scores, 0.5 * PCTR + 0.5 * PCTR * BID)
    assert int(np.argmax(scores)) == 1


def test_requests_are_normalised_and_ranked_independently():
    starts = np.array([0, 3])
    pctr, pcvr, bid = np.r_[PCTR, 10 * PCTR[::-1]], np.r_[PCVR, PCVR], np.r_[BID, BID]
    scores = objective_scores(pctr, pcvr, bid, starts, ObjectiveParams())
    np.testing.assert_allclose(scores[:3], objective_scores(PCTR, PCVR, BID, ONE_REQUEST, ObjectiveParams()))
    ranks = rank_within_groups(scores, np.arange(6), starts)
    assert sorted(ranks[:3]) == sorted(ranks[3:]) == [0, 1, 2]


def test_equal_scores_go_to_the_better_retrieval_rank():
    scores = np.array([0.5, 0.9, 0.5, 0.5])
    np.testing.assert_array_equal(rank_within_groups(scores, np.array([3, 2, 0, 1]), ONE_REQUEST), [3, 0, 1, 2])


def test_parameters_fail_with_their_name():
    with pytest.raises(ValidationError, match="at least one of alpha, beta, gamma"):
        ObjectiveParams(alpha=0, beta=0, gamma=0)
    with pytest.raises(ValidationError, match="normalisation"):
        ObjectiveParams(normalisation="zscore")
    with pytest.raises(ValidationError, match="lists a model twice"):
        ScoringParams(models=["lightgbm", "lightgbm"], pcvr_model="transformer")
    with pytest.raises(ValidationError, match="max_per_requst"):
        CandidateParams(max_per_requst=10)
