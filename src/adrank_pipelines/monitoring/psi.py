"""Population stability index (PSI) and the binnings it is computed over, fixed on the reference window.

PSI = sum over bins of (current share - reference share) * ln(current share / reference share). Shares
are floored at a small constant first, so a bin empty in one window gives a large but finite term.
Conventional reading: below 0.1 stable, 0.1 to 0.25 a moderate shift, above 0.25 a major one.

A binning is fitted once on the reference and reused for every current window, so each window is
compared on the same bins and a shift cannot hide by moving the bin edges with it.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

DEFAULT_SHARE_FLOOR = 1e-4


def shares(counts: ArrayLike) -> np.ndarray:
    """Counts -> shares summing to 1 (all zeros when there are no rows)."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    return counts / total if total > 0 else np.zeros_like(counts)


def population_stability_index(
    reference_counts: ArrayLike, current_counts: ArrayLike, share_floor: float = DEFAULT_SHARE_FLOOR
) -> float:
    """PSI between two histograms over the same bins (counts or shares); 0 for identical distributions.

    NaN when either histogram holds no rows (an empty window, or one whose every value fell in no
    bin): there is no distribution to compare, and the floors alone would make up a large PSI.
    """
    reference_shares, current_shares = shares(reference_counts), shares(current_counts)
    if reference_shares.shape != current_shares.shape:
        raise ValueError(
            f"PSI needs the same bins in both windows, got {reference_shares.shape} and {current_shares.shape}"
        )
    if not (reference_shares.any() and current_shares.any()):
        return float("nan")
    reference = np.maximum(reference_shares, share_floor)
    current = np.maximum(current_shares, share_floor)
    return float(np.sum((current - reference) * np.log(current / reference)))


@dataclass(frozen=True)
class NumericBinning:
    """Quantile bins of the reference: interior edges, plus one bin for missing values at the end."""

    edges: np.ndarray

    @classmethod
    def fit(cls, reference: ArrayLike, n_bins: int) -> NumericBinning:
        """Edges at the reference's 1/n .. (n-1)/n quantiles; repeated edges (mass points) merge."""
        values = np.asarray(reference, dtype=np.float64)
        values = values[~np.isnan(values)]
        if values.size == 0:
            return cls(edges=np.empty(0))
        quantiles = np.quantile(values, np.linspace(0.0, 1.0, n_bins + 1)[1:-1])
        return cls(edges=np.unique(quantiles))

    @property
    def n_bins(self) -> int:
        return self.edges.size + 2

    def counts(self, values: ArrayLike) -> np.ndarray:
        """Rows per bin: bin i holds edges[i-1] <= x < edges[i]; the last bin counts NaN."""
        values = np.asarray(values, dtype=np.float64)
        missing = np.isnan(values)
        bins = np.searchsorted(self.edges, values[~missing], side="right")
        counts = np.bincount(bins, minlength=self.n_bins)
        counts[-1] = missing.sum()
        return counts


@dataclass(frozen=True)
class CategoricalBinning:
    """The reference's most frequent values each get a bin; its other known values share one more.

    A missing value (None / NaN) is a value like any other: it gets a bin when it is frequent enough.

    Values never seen in the reference, and values named in ``unseen_codes`` (an out-of-vocabulary
    index, say), fall in no bin: they are counted apart as the unseen share, so PSI measures the mix
    of known values and novelty is measured (and alerted on) on its own.
    """

    known_values: pd.Index
    bin_of_known: np.ndarray
    n_bins: int
    unseen_codes: frozenset[Hashable]

    @classmethod
    def fit(
        cls, reference: pd.Series, max_categories: int, unseen_codes: Collection[Hashable] = ()
    ) -> CategoricalBinning:
        unseen = frozenset(unseen_codes)
        frequencies = reference[~reference.isin(unseen)].value_counts(dropna=False, sort=False)
        # Most frequent first, ties by value, so the binning is the same whatever the row order. pandas
        # sorts the values with a missing value last: numpy cannot order a string beside a NaN.
        by_value = frequencies.sort_index(kind="stable", na_position="last")
        known = by_value.sort_values(ascending=False, kind="stable").index
        rank = np.arange(known.size)
        n_top = min(max_categories, known.size)
        has_other = known.size > n_top
        return cls(
            known_values=known,
            bin_of_known=np.where(rank < n_top, rank, n_top),
            n_bins=n_top + int(has_other),
            unseen_codes=unseen,
        )

    def counts(self, values: pd.Series) -> tuple[np.ndarray, int]:
        """Rows per bin, and the number of rows whose value is unseen."""
        # pandas takes any list-like target (a Series keeps its own lookup path); pandas-stubs only an Index.
        position = self.known_values.get_indexer(values)  # type: ignore[arg-type]  # stubs lack list-like targets
        if self.unseen_codes:
            position[values.isin(self.unseen_codes).to_numpy()] = -1
        known = position >= 0
        counts = np.bincount(self.bin_of_known[position[known]], minlength=self.n_bins)
        return counts, int(position.size - known.sum())
