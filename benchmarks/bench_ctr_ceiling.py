"""How close can a learnt CTR model get to the oracle on the default world, and what does each model miss?

Reads a finished default-world run through the catalog (`make run`, or the pipelines up to
ctr_training), then, on the test day:

1. Ceilings. The ground truth rebuilt with what no learner can read off the logs replaced, step by
   step, by what the logs do reveal: each user's interests by their Bayesian estimate from the
   organic views before the test day (Dirichlet prior = the country x age segment's mean interests),
   tastes and price sensitivity by their segment's means, no individual click propensity, and ad
   quality by the part the creative's clarity shows. Each step's AUC is what a learner that knew the
   world's exact functional form and every shared parameter could reach with that knowledge.
2. What each model misses. For each additive term of the true click logit, a logistic regression of
   the click on (model logit, true term), fitted on the even rows and scored on the odd ones: the
   AUC gained says how much of that term the model lacks; the coefficients of the model logit
   regressed on all terms say how much of each it carries.

    .venv/bin/python benchmarks/bench_ctr_ceiling.py
Results: benchmarks/results/ctr_ceiling.{json,md}.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import roc_auc_score

from adrank_pipelines.marketplace.ground_truth import Context, GroundTruth
from adrank_pipelines.marketplace.vocabulary import ALL_CATEGORIES

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "benchmarks" / "results"
# Each model's `<model>.predictions` (every split; the test day's rows are read).
MODELS = {
    "lightgbm": "lightgbm.predictions",
    "transformer": "transformer.predictions",
    "hybrid": "hybrid.predictions",
}
SEGMENT = ["country", "age_bucket"]


def _load() -> dict[str, Any]:
    bootstrap_project(PROJECT_ROOT)
    with KedroSession.create(project_path=PROJECT_ROOT) as session:
        context = session.load_context()
        names = ["impressions_enriched", "truth_users", "truth_ads", "truth_world", "validated_users",
                 "validated_user_events", "ctr_evaluation_report", *MODELS.values()]  # fmt: skip
        loaded = {name: context.catalog.load(name) for name in names}
        parameters = context.config_loader["parameters"]
        loaded["interest_concentration"] = parameters["marketplace"]["interest_concentration"]
        loaded["baseline_name"] = parameters["ctr_evaluation"]["baseline_name"]
    return loaded


def _segment_means(truth_users: pd.DataFrame, users: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    with_segment = truth_users.merge(users[["user_id", *SEGMENT]], on="user_id", how="left")
    return with_segment.groupby(SEGMENT)[columns].transform("mean")


def _estimated_interests(
    truth_users: pd.DataFrame, users: pd.DataFrame, events: pd.DataFrame, before: pd.Timestamp, concentration: float
) -> pd.DataFrame:
    """Posterior-mean interests from the views before ``before``, the segment's mean as the prior."""
    columns = [f"interest_{c}" for c in ALL_CATEGORIES]
    prior = _segment_means(truth_users, users, columns).to_numpy()
    seen = events.loc[events["event_time"] < before]
    counts = pd.crosstab(seen["user_id"], seen["category"]).reindex(
        index=truth_users["user_id"], columns=list(ALL_CATEGORIES), fill_value=0
    ).to_numpy()  # fmt: skip
    strength = concentration * len(ALL_CATEGORIES)
    posterior = (counts + strength * prior) / (counts.sum(axis=1, keepdims=True) + strength)
    return truth_users.assign(**dict(zip(columns, posterior.T, strict=True)))


def _ceilings(loaded: dict[str, Any], test: pd.DataFrame, context: Context) -> list[dict[str, Any]]:
    truth_users, truth_ads, world = loaded["truth_users"], loaded["truth_ads"], loaded["truth_world"]
    users = loaded["validated_users"]
    taste = [c for c in truth_users.columns if c.startswith("taste_")]
    estimated = _estimated_interests(
        truth_users, users, loaded["validated_user_events"], test["event_time"].min().normalize(),
        loaded["interest_concentration"],
    )  # fmt: skip
    segment_tastes = estimated.assign(**_segment_means(truth_users, users, [*taste, "price_sensitivity"]))
    no_propensity = segment_tastes.assign(propensity=0.0)
    clarity = world["click_model"]["clarity_bonus"] * (truth_ads["is_clear"] - truth_ads["is_clear"].mean())
    steps = [
        ("oracle: every latent known", truth_users, truth_ads),
        ("interests estimated from the organic views before the test day", estimated, truth_ads),
        ("+ tastes and price sensitivity at their country x age segment's mean", segment_tastes, truth_ads),
        ("+ no individual click propensity", no_propensity, truth_ads),
        (
            "+ ad quality only as far as the creative's clarity shows it",
            no_propensity,
            truth_ads.assign(quality=clarity),
        ),
    ]
    clicks, user_id, ad_id = test["click"].to_numpy(), test["user_id"].to_numpy(), test["ad_id"].to_numpy()
    ceilings = []
    for name, known_users, known_ads in steps:
        pctr = GroundTruth(known_users, known_ads, world).click_probability(user_id, ad_id, context)
        ceilings.append({"knowledge": name, "auc": float(roc_auc_score(clicks, pctr))})
    return ceilings


def _model_logit(predictions: pd.DataFrame, impression_ids: pd.Series) -> np.ndarray:
    test = predictions.loc[predictions["split"] == "test"]
    pctr = test.drop_duplicates("impression_id").set_index("impression_id")["pctr"].loc[impression_ids].to_numpy()
    pctr = np.clip(pctr, 1e-7, 1 - 1e-7)
    return np.log(pctr / (1 - pctr))


def _what_models_miss(loaded: dict[str, Any], test: pd.DataFrame, context: Context) -> dict[str, Any]:
    truth = GroundTruth(loaded["truth_users"], loaded["truth_ads"], loaded["truth_world"])
    terms = pd.DataFrame(truth.click_logit_components(test["user_id"].to_numpy(), test["ad_id"].to_numpy(), context))
    terms = terms.drop(columns="intercept")
    clicks = test["click"].to_numpy()
    fit_rows = np.arange(len(test)) % 2 == 0
    result: dict[str, Any] = {}
    for model, dataset in MODELS.items():
        logit = _model_logit(loaded[dataset], test["impression_id"])
        added = {}
        for term in terms:
            features = np.column_stack([logit, terms[term]])
            regression = LogisticRegression(C=100.0).fit(features[fit_rows], clicks[fit_rows])
            added[term] = float(roc_auc_score(clicks[~fit_rows], regression.decision_function(features[~fit_rows])))
        carried = LinearRegression().fit(terms, logit).coef_
        result[model] = {
            "auc_odd_rows": float(roc_auc_score(clicks[~fit_rows], logit[~fit_rows])),
            "auc_with_true_term": added,
            "share_of_term_carried": dict(zip(terms.columns, map(float, carried), strict=True)),
        }
    return result


def _markdown(report: dict[str, Any]) -> str:
    ceilings, oracle = report["ceilings"], report["ceilings"][0]["auc"]
    base = report["baseline_auc"]
    lines = [
        f"# CTR ceilings on the default world's test day ({report['measured_at']})",
        "",
        f"Baseline (ad CTR + position) AUC {base:.4f}. Headroom captured = (AUC - baseline) / (oracle - baseline).",
        "",
        "| what a learner knows | AUC | headroom captured |",
        "|---|---|---|",
        *(f"| {c['knowledge']} | {c['auc']:.4f} | {(c['auc'] - base) / (oracle - base):.3f} |" for c in ceilings),
        "",
        "What each model misses: AUC on the odd rows of (model logit + one true logit term), fitted on the even rows;",
        "in brackets the share of the term the model's logit carries (coefficient of the model logit regressed on all terms).",
        "",
    ]
    terms = list(next(iter(report["models"].values()))["auc_with_true_term"])
    lines += ["| model | alone | " + " | ".join(f"+ {t}" for t in terms) + " |", "|---|---|" + "---|" * len(terms)]
    for model, figures in report["models"].items():
        cells = [f"{figures['auc_with_true_term'][t]:.4f} ({figures['share_of_term_carried'][t]:.2f})" for t in terms]
        lines.append(f"| {model} | {figures['auc_odd_rows']:.4f} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    loaded = _load()
    impressions = loaded["impressions_enriched"]
    test = impressions.loc[impressions["split"] == "test"].reset_index(drop=True)
    context = Context(
        position=test["position"].to_numpy(), hour=test["hour"].to_numpy(), day=test["day"].to_numpy(),
        placement=test["placement"].to_numpy(), platform=test["platform"].to_numpy(),
    )  # fmt: skip
    report = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "test_rows": len(test),
        "baseline_auc": loaded["ctr_evaluation_report"]["subsets"]["all"]["metrics"][loaded["baseline_name"]]["auc"],
        "ceilings": _ceilings(loaded, test, context),
        "models": _what_models_miss(loaded, test, context),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ctr_ceiling.json").write_text(json.dumps(report, indent=2))
    markdown = _markdown(report)
    (RESULTS / "ctr_ceiling.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
