"""Per-feature drift of current windows against a reference profile fitted once on the training window.

Categorical features get PSI over the reference's known values plus the share of unseen values;
numeric features get PSI over reference-quantile bins plus the KS statistic. The profile keeps every
reference binning, histogram and sorted column, so each further window costs one pass over its own rows.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, TypedDict

import numpy as np
import pandas as pd

from adrank_pipelines.monitoring.ks import ks_test, sorted_finite
from adrank_pipelines.monitoring.psi import CategoricalBinning, NumericBinning, population_stability_index
from adrank_pipelines.monitoring.statistics import ComparedWindows, DriftStatistic, Group

FeatureKind = Literal["categorical", "numeric"]
PSI, KS, UNSEEN_SHARE_INCREASE = "psi", "ks", "unseen_share_increase"


@dataclass(frozen=True)
class MonitoredFeature:
    """A column to watch: its kind, the raw columns it derives from, and whether it may raise alerts."""

    name: str
    kind: FeatureKind
    source: tuple[str, ...] = ()
    # Codes that mean "the model never learnt this value", e.g. a vocabulary's out-of-vocabulary index.
    unseen_codes: frozenset[Hashable] = frozenset()
    alerting: bool = True


class _FeatureComparison(ComparedWindows):
    group: Group
    subject: str
    source: str
    alerting: bool


class _Means(TypedDict, total=False):
    reference_value: float
    current_value: float


@dataclass(frozen=True)
class _CategoricalReference:
    binning: CategoricalBinning
    counts: np.ndarray
    unseen_share: float


@dataclass(frozen=True)
class _NumericReference:
    binning: NumericBinning
    counts: np.ndarray
    sorted_values: np.ndarray


@dataclass(frozen=True)
class ReferenceProfile:
    """Everything a current window is compared with, computed from the reference rows once."""

    window: str
    n_rows: int
    features: tuple[MonitoredFeature, ...]
    share_floor: float
    categorical: dict[str, _CategoricalReference] = field(repr=False)
    numeric: dict[str, _NumericReference] = field(repr=False)


def _require_columns(frame: pd.DataFrame, features: Sequence[MonitoredFeature], window: str) -> None:
    missing = sorted({feature.name for feature in features} - set(frame.columns))
    if missing:
        raise KeyError(f"window '{window}' lacks the monitored feature column(s) {missing}")


def fit_reference_profile(
    reference: pd.DataFrame,
    features: Sequence[MonitoredFeature],
    max_categories: int,
    numeric_bins: int,
    share_floor: float,
    window: str = "reference",
) -> ReferenceProfile:
    """Bins, histograms and sorted values of every monitored feature on the reference rows."""
    if reference.empty:
        raise ValueError(f"the reference window '{window}' has no rows: nothing to compare against")
    _require_columns(reference, features, window)
    categorical: dict[str, _CategoricalReference] = {}
    numeric: dict[str, _NumericReference] = {}
    for feature in features:
        column = reference[feature.name]
        if feature.kind == "categorical":
            category_bins = CategoricalBinning.fit(column, max_categories, feature.unseen_codes)
            counts, unseen = category_bins.counts(column)
            categorical[feature.name] = _CategoricalReference(category_bins, counts, unseen / len(column))
        else:
            values = column.to_numpy(dtype=np.float64)
            quantile_bins = NumericBinning.fit(values, numeric_bins)
            numeric[feature.name] = _NumericReference(
                quantile_bins, quantile_bins.counts(values), sorted_finite(values)
            )
    return ReferenceProfile(window, len(reference), tuple(features), share_floor, categorical, numeric)


def _categorical_rows(
    profile: ReferenceProfile, feature: MonitoredFeature, column: pd.Series, base: _FeatureComparison
) -> list[DriftStatistic]:
    reference = profile.categorical[feature.name]
    counts, unseen = reference.binning.counts(column)
    unseen_share = unseen / len(column)
    return [
        DriftStatistic(
            **base, statistic=PSI, value=population_stability_index(reference.counts, counts, profile.share_floor)
        ),
        DriftStatistic(
            **base,
            statistic=UNSEEN_SHARE_INCREASE,
            value=unseen_share - reference.unseen_share,
            reference_value=reference.unseen_share,
            current_value=unseen_share,
        ),
    ]


def _numeric_rows(
    profile: ReferenceProfile, feature: MonitoredFeature, column: pd.Series, base: _FeatureComparison
) -> list[DriftStatistic]:
    reference = profile.numeric[feature.name]
    values = column.to_numpy(dtype=np.float64)
    ks = ks_test(reference.sorted_values, values)
    means: _Means = {}
    if reference.sorted_values.size and np.isfinite(values).any():
        means = {"reference_value": float(reference.sorted_values.mean()), "current_value": float(np.nanmean(values))}
    return [
        DriftStatistic(
            **base,
            statistic=PSI,
            value=population_stability_index(reference.counts, reference.binning.counts(values), profile.share_floor),
            **means,
        ),
        DriftStatistic(**base, statistic=KS, value=ks.statistic, p_value=ks.p_value, **means),
    ]


def feature_drift(profile: ReferenceProfile, current: pd.DataFrame, window: str) -> list[DriftStatistic]:
    """PSI and unseen share (categorical) or PSI and KS (numeric) of every monitored feature."""
    if current.empty:
        return []
    _require_columns(current, profile.features, window)
    rows: list[DriftStatistic] = []
    for feature in profile.features:
        base: _FeatureComparison = {
            "window": window,
            "group": "feature",
            "subject": feature.name,
            "reference_window": profile.window,
            "n_reference": profile.n_rows,
            "n_current": len(current),
            "source": " x ".join(feature.source),
            "alerting": feature.alerting,
        }
        compare = _categorical_rows if feature.kind == "categorical" else _numeric_rows
        rows.extend(compare(profile, feature, current[feature.name], base))
    return rows


def require_known_features(names: Collection[str], known: Collection[str], parameter: str) -> None:
    """Fail naming the parameter when it lists a feature that does not exist."""
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise ValueError(f"{parameter} names {unknown}, which are not monitored features: {sorted(known)}")


def monitored_features(
    categorical: Mapping[str, Sequence[str]],
    numeric: Sequence[str],
    unseen_codes: Mapping[str, Collection[Hashable]],
    excluded: Collection[str] = (),
    report_only: Collection[str] = (),
) -> list[MonitoredFeature]:
    """Features from name -> source columns (categorical) and names (numeric), minus the excluded ones.

    ``excluded`` and ``report_only`` must name known features (params ``drift.features.*``), so a
    typo cannot silently leave a feature alerting or unwatched.
    """
    known = set(categorical) | set(numeric)
    require_known_features(excluded, known, "drift.features.excluded")
    require_known_features(report_only, known, "drift.features.report_only")
    features = [
        MonitoredFeature(
            name, "categorical", tuple(source), frozenset(unseen_codes.get(name, ())), name not in report_only
        )
        for name, source in categorical.items()
        if name not in excluded
    ]
    features += [
        MonitoredFeature(name, "numeric", (name,), alerting=name not in report_only)
        for name in numeric
        if name not in excluded
    ]
    return features
