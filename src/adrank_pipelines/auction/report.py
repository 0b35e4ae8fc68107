"""The mechanism x model comparison: nested results, the oracle's share, and the headline contrasts."""

from __future__ import annotations

import math
from typing import Any, cast

import pandas as pd

from adrank_pipelines.auction.outcomes import DRAW_SEEDS, EXPECTED, HEADLINE_METRICS, OUTCOME_KEYS, REALISED


def _clean(value: Any) -> Any:
    """JSON has no NaN: undefined figures (e.g. no budget-bound advertiser) become null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _metrics(row: pd.Series) -> dict[str, Any]:
    return {str(k): _clean(float(v)) for k, v in row.drop([*OUTCOME_KEYS, DRAW_SEEDS]).items()}


def _expected(outcomes: pd.DataFrame) -> pd.DataFrame:
    return outcomes.loc[outcomes["reading"] == EXPECTED].set_index(["mechanism", "model"])


def _relative(numerator: float, denominator: float) -> float | None:
    return _clean(float(numerator / denominator)) if denominator else None


def comparison_report(
    outcomes: pd.DataFrame, oracle_name: str, reference_mechanism: str, context: dict[str, Any]
) -> dict[str, Any]:
    """Every replay's metrics, plus (on expected outcomes) each model's share of the oracle and
    each mechanism's figures relative to ``reference_mechanism`` for the same model."""
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for _, row in outcomes.iterrows():
        results.setdefault(row["mechanism"], {}).setdefault(row["model"], {})[row["reading"]] = _metrics(row)
    expected = _expected(outcomes)
    mechanisms = list(dict.fromkeys(outcomes["mechanism"]))
    models = list(dict.fromkeys(outcomes["model"]))

    def ratios(mechanism: str, model: str, base: tuple[str, str]) -> dict[str, float | None]:
        # The headline metrics are float columns, so every cell read here is a float.
        return {
            m: _relative(cast(float, expected.at[(mechanism, model), m]), cast(float, expected.at[base, m]))
            for m in HEADLINE_METRICS
        }

    share_of_oracle = {
        mechanism: {model: ratios(mechanism, model, (mechanism, oracle_name)) for model in models}
        for mechanism in mechanisms
    }
    versus_reference = {
        mechanism: {model: ratios(mechanism, model, (reference_mechanism, model)) for model in models}
        for mechanism in mechanisms
        if mechanism != reference_mechanism
    }
    return {
        **context,
        "mechanisms": mechanisms,
        "models": models,
        "oracle": oracle_name,
        "draw_seeds": int(outcomes[DRAW_SEEDS].max()),
        "readings": {
            EXPECTED: "weighted by the true click / conversion probabilities of the served impressions",
            REALISED: "seeded click and conversion draws (these drive budgets and pacing)",
            "over draw seeds": (
                "every figure is the mean over the click-draw seeds; <metric>_std is the standard deviation "
                f"of {', '.join(HEADLINE_METRICS)} over them (null with one seed)"
            ),
        },
        "results": results,
        "share_of_oracle": share_of_oracle,
        "relative_to_reference_mechanism": {"reference": reference_mechanism, "ratios": versus_reference},
    }


def mlflow_metrics(outcomes: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Headline expected figures per mechanism x model (mean over the draw seeds, and the standard
    deviation where there are several), in kedro-mlflow's metrics shape."""
    expected = outcomes.loc[outcomes["reading"] == EXPECTED]
    columns = [*HEADLINE_METRICS, "budget_utilisation", *(f"{metric}_std" for metric in HEADLINE_METRICS)]
    return {
        f"{row.mechanism}.{row.model}.{column}": {"value": float(getattr(row, column)), "step": 0}
        for row in expected.itertuples()
        for column in columns
        if not math.isnan(getattr(row, column))
    }
