"""Auction mechanisms as vectorised kernels over many auctions at once.

Every kernel takes [auctions, bidders] arrays (per-click bids, pCTR, quality score, an eligibility
mask) and returns an :class:`Allocation`: which bidder (column) fills each slot and its price per
click. Bidders are ranked by eCPM = bid x pCTR x quality x 1000; a slot's expected clicks are the
bidder's pCTR times the slot's position discount (the separable click model).

Prices per click follow from the ranking score: to keep its rank, the bidder in slot k needs a score
of at least the next bidder's, i.e. a bid of ``score_next / (pCTR_k x quality_k)``.

Exactly equal scores rank by column, the lower column first, in every mechanism: a tie gives the same
winner whichever rule prices it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from adrank_pipelines.auction.config import MechanismKind, QualityScoreParams

_ECPM_PER_CLICK_VALUE = 1000.0  # eCPM is the expected payment per thousand impressions
_MULTI_SLOT = ("gsp", "vcg", "first_price")


@dataclass(frozen=True)
class Allocation:
    """winner[a, k]: the column of the bidder in slot k of auction a (-1: the slot stays empty);
    price[a, k]: what that bidder pays per click (0 where empty)."""

    winner: np.ndarray
    price: np.ndarray

    @property
    def filled(self) -> np.ndarray:
        return self.winner >= 0


def quality_score(pcvr: np.ndarray, params: QualityScoreParams, reference: float | np.ndarray) -> np.ndarray:
    """clip((pCVR / reference) ** exponent, floor, cap); 1 everywhere when the exponent is 0."""
    if np.any(np.asarray(reference) <= 0):
        raise ValueError("the quality score's pCVR reference must be positive (is every pCVR 0?)")
    ratio = np.maximum(np.asarray(pcvr, dtype=np.float64), 0.0) / reference
    return np.clip(ratio**params.pcvr_exponent, params.floor, params.cap)


def ecpm(bid: npt.NDArray[np.float64], pctr: npt.NDArray[np.float64], quality: npt.NDArray[np.float64]) -> np.ndarray:
    """Expected revenue per thousand impressions in the top slot, quality-weighted."""
    return bid * pctr * quality * _ECPM_PER_CLICK_VALUE


def eligible(
    valid: np.ndarray, bid: np.ndarray, pctr: np.ndarray, quality: np.ndarray, min_quality: float, reserve: float
) -> np.ndarray:
    """Bidders that may enter: real candidates at or above the reserve and the quality threshold."""
    return valid & (bid >= reserve) & (bid > 0) & (pctr > 0) & (quality >= min_quality)


def ranking_score(
    bid: npt.NDArray[np.float64], pctr: npt.NDArray[np.float64], quality: npt.NDArray[np.float64], allowed: np.ndarray
) -> np.ndarray:
    """The ranking score in per-click money units (eCPM / 1000); -inf for bidders that may not enter
    and for a score that is not a number, which could neither be ranked nor priced."""
    score = np.multiply(bid, pctr)
    score *= quality  # in place: one temporary instead of three on the kernel's hot path
    np.copyto(score, -np.inf, where=~allowed | np.isnan(score))
    return score


def _per_click(
    score: npt.NDArray[np.float64], weight: npt.NDArray[np.float64], bid: npt.NDArray[np.float64], reserve: float
) -> np.ndarray:
    """The bid that reaches ``score``, floored at the reserve and capped at the bidder's own bid."""
    with np.errstate(divide="ignore", invalid="ignore"):
        needed = np.where(weight > 0, score / weight, 0.0)
    return np.minimum(np.maximum(needed, reserve), bid)


def _unsold(n_auctions: int, n_slots: int) -> Allocation:
    return Allocation(winner=np.full((n_auctions, n_slots), -1), price=np.zeros((n_auctions, n_slots)))


def second_price(
    bid: np.ndarray, pctr: np.ndarray, quality: np.ndarray, allowed: np.ndarray, reserve: float
) -> Allocation:
    """Single-slot Vickrey auction with quality score: the highest eCPM wins and pays the least bid
    that would still win (the runner-up's score over its own pCTR x quality), at least the reserve,
    at most its bid. Of exactly equal scores the lower column wins; with no bidder the slot stays empty."""
    if bid.shape[1] == 0:
        return _unsold(len(bid), 1)
    rows = np.arange(len(bid))
    score = ranking_score(bid, pctr, quality, allowed)
    winner = score.argmax(axis=1)  # the first of equal maxima: the lower column wins a tie
    top = score[rows, winner]
    score[rows, winner] = -np.inf
    runner_up = np.maximum(score.max(axis=1), 0.0)
    price = _per_click(runner_up, pctr[rows, winner] * quality[rows, winner], bid[rows, winner], reserve)
    has_winner = np.isfinite(top)
    return Allocation(winner=np.where(has_winner, winner, -1)[:, None], price=np.where(has_winner, price, 0.0)[:, None])


def _best_columns(score: np.ndarray, depth: int) -> np.ndarray:
    """Per row, the ``depth`` columns first by (score descending, column ascending), in column order.

    A partition alone would keep an arbitrary few of the columns tied at the cut; of those, the
    lowest columns are kept here, as a full sort by (score, column) would.
    """
    cut = -np.partition(-score, depth - 1, axis=1)[:, depth - 1 : depth]  # each row's depth-th best score
    above, at_cut = score > cut, score == cut
    room = depth - above.sum(axis=1, keepdims=True)
    chosen = above | (at_cut & (np.cumsum(at_cut, axis=1) <= room))
    return np.nonzero(chosen)[1].reshape(len(score), depth)


def rank_by_score(score: np.ndarray, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``depth`` best columns of each row by score, best first, and their scores.

    Equal scores rank by column, the lower first. Rows with fewer than ``depth`` columns are padded
    with column -1 and score -inf. Scores must not be NaN (:func:`ranking_score` gives none).
    """
    n_rows, n_columns = score.shape
    if n_columns > depth:
        columns = _best_columns(score, depth)
    else:
        columns = np.broadcast_to(np.arange(n_columns), (n_rows, n_columns))
    scores = np.take_along_axis(score, columns, axis=1)
    # Stable over columns in ascending order: of equal scores the lower column comes first.
    best_first = np.argsort(-scores, axis=1, kind="stable")
    columns = np.take_along_axis(columns, best_first, axis=1)
    scores = np.take_along_axis(scores, best_first, axis=1)
    if n_columns < depth:
        padding = depth - n_columns
        columns = np.pad(columns, ((0, 0), (0, padding)), constant_values=-1)
        scores = np.pad(scores, ((0, 0), (0, padding)), constant_values=-np.inf)
    return columns, scores


def _vcg_externality(discount: np.ndarray, next_score: np.ndarray, reserve_score: np.ndarray) -> np.ndarray:
    """[auctions, slots] sum over j >= k of (d_j - d_{j+1}) x max(score_{j+1}, reserve score of slot k's winner).

    Each threshold the winner of slot k must beat to keep slot j rather than j + 1 is floored at its own
    reserve score (reserve x pCTR x quality) separately: below the reserve it would get no slot at all.
    Flooring only the total, as the per-click price does, under-charges a winner whose lower competitors
    sit under the reserve, and bidding above its value could then pay off.
    """
    drop = discount - np.pad(discount[:, 1:], ((0, 0), (0, 1)))
    externality = np.empty_like(next_score)
    for slot in range(next_score.shape[1]):
        thresholds = np.maximum(next_score[:, slot:], reserve_score[:, slot : slot + 1])
        externality[:, slot] = np.sum(drop[:, slot:] * thresholds, axis=1)
    return externality


def slot_discounts(n_slots: np.ndarray, discounts: np.ndarray) -> np.ndarray:
    """[auctions, slots] position discounts, 0 beyond each auction's own number of slots."""
    slots = len(discounts)
    return np.where(np.arange(slots) < np.asarray(n_slots)[:, None], discounts[None, :], 0.0)


def clear(
    kind: MechanismKind,
    bid: np.ndarray,
    pctr: np.ndarray,
    quality: np.ndarray,
    allowed: np.ndarray,
    reserve: float,
    n_slots: np.ndarray,
    discounts: np.ndarray,
) -> Allocation:
    """Run one mechanism over a batch of auctions.

    second_price sells the top slot only. The others fill the slots in eCPM order; ``kind`` sets the prices:
    gsp: the least bid that keeps the slot (next bidder's score over own pCTR x quality);
    vcg: the externality the bidder imposes on those below it, per expected click
         (sum over j >= k of (d_j - d_{j+1}) x score_{j+1}, over d_k x pCTR_k x quality_k);
    first_price: the bid itself.
    Every price is floored at the reserve and capped at the bid. Of exactly equal scores the lower
    column takes the higher slot; with no bidder every slot stays empty.
    """
    if kind == "second_price":
        return second_price(bid, pctr, quality, allowed, reserve)
    if kind not in _MULTI_SLOT:
        raise ValueError(f"unknown multi-slot mechanism {kind!r}; expected gsp, vcg or first_price")
    n_columns = len(discounts)
    if bid.shape[1] == 0:
        return _unsold(len(bid), n_columns)
    rows = np.arange(len(bid))[:, None]
    score = ranking_score(bid, pctr, quality, allowed)
    order, ranked = rank_by_score(score, n_columns + 1)
    discount = slot_discounts(n_slots, discounts)
    filled = np.isfinite(ranked[:, :n_columns]) & (discount > 0)
    winner = np.where(filled, order[:, :n_columns], -1)
    safe = np.maximum(winner, 0)
    own_bid = bid[rows, safe]
    weight = pctr[rows, safe] * quality[rows, safe]
    next_score = np.maximum(ranked[:, 1:], 0.0)
    if kind == "gsp":
        price = _per_click(next_score, weight, own_bid, reserve)
    elif kind == "vcg":
        price = _per_click(
            _vcg_externality(discount, next_score, reserve * weight), weight * discount, own_bid, reserve
        )
    elif kind == "first_price":
        price = own_bid
    else:
        raise ValueError(f"unknown multi-slot mechanism {kind!r}; expected gsp, vcg or first_price")
    return Allocation(winner=winner, price=np.where(filled, price, 0.0))
