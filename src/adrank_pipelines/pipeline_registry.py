"""Project pipelines: every folder under ``pipelines/`` is one ``kedro run --pipeline`` name."""

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

# The click-log graph runs on a public or your own click log (`kedro run --env avazu --pipelines ctr`),
# which has no ad text, bids or ground truth; `__default__` is the simulated world's graph without it.
CLICK_LOG_PIPELINES = ("ctr", "clicklog_ingest", "clicklog_validate", "clicklog_features", "clicklog_training")


def register_pipelines() -> dict[str, Pipeline]:
    pipelines = find_pipelines(raise_errors=True)
    simulated = [pipeline for name, pipeline in pipelines.items() if name not in CLICK_LOG_PIPELINES]
    pipelines["__default__"] = sum(simulated, Pipeline([]))
    return pipelines
