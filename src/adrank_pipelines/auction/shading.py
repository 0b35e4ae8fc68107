"""First-price bidders' shading: a fixed factor, or one each advertiser learns through the day."""

from __future__ import annotations

import numpy as np

from adrank_pipelines.auction.config import ShadingParams
from adrank_pipelines.auction.mechanisms import rank_by_score


def score_to_beat(score: np.ndarray, n_slots: np.ndarray) -> np.ndarray:
    """[auctions, bidders] the highest competing score a bidder must reach to win one of the slots:
    the n-th best of the others' scores, where n is the auction's number of slots sold."""
    depth = int(n_slots.max()) + 1
    _, ranked = rank_by_score(score, depth)
    rows = np.arange(len(score))
    nth_best = ranked[rows, n_slots - 1][:, None]
    next_after = ranked[rows, n_slots][:, None]
    # A bidder inside the top n competes with the (n+1)-th; everyone else with the n-th.
    inside = score >= nth_best
    return np.asarray(np.maximum(np.where(inside, next_after, nth_best), 0.0))


class Shading:
    """Each account's shading factor (the share of its bid it submits)."""

    def __init__(self, params: ShadingParams, n_accounts: int) -> None:
        self._params = params
        initial = params.factor if params.kind != "none" else 1.0
        self.factor = np.full(n_accounts, initial)
        self._grid = np.asarray(params.grid)
        self._gains = np.zeros((n_accounts, len(self._grid)))

    @property
    def learns(self) -> bool:
        return self._params.kind == "learned"

    def observe(
        self,
        account: np.ndarray,
        max_bid: np.ndarray,
        weight: np.ndarray,
        pctr: np.ndarray,
        to_beat: np.ndarray,
        reserve: float,
    ) -> None:
        """Credit every factor on the grid with the surplus it would have won in these auctions.

        Bidders value a click at their (paced) unshaded bid; a factor s wins when s x bid reaches both
        the reserve and ``to_beat`` / weight (the minimum bid to win, which the platform reports), and
        then earns (1 - s) x bid per expected click.
        """
        shaded = max_bid[:, None] * self._grid[None, :]
        wins = (shaded * weight[:, None] >= to_beat[:, None]) & (shaded >= reserve)
        gain = np.where(wins, (max_bid[:, None] - shaded) * pctr[:, None], 0.0)
        n_grid = len(self._grid)
        cells = (account[:, None] * n_grid + np.arange(n_grid)).ravel()
        self._gains += np.bincount(cells, weights=gain.ravel(), minlength=self._gains.size).reshape(self._gains.shape)
        best = self._gains.argmax(axis=1)
        # An account no factor could have won with yet keeps its factor.
        has_gain = self._gains[np.arange(len(best)), best] > 0
        self.factor[has_gain] = self._grid[best[has_gain]]
