"""Project pipelines: every folder under ``pipelines/`` is one ``kedro run --pipeline`` name."""

from importlib import import_module
from importlib.resources import files

from kedro.framework.project import find_pipelines
from kedro.framework.project import pipelines as registered
from kedro.pipeline import Pipeline

from adrank_pipelines.run_checks import check_pipeline_names

# The click-log graph runs on a public or your own click log (`kedro run --env avazu --pipelines ctr`),
# which has no ad text, bids or ground truth; `__default__` is the simulated world's graph without it.
CLICK_LOG_PIPELINES = ("ctr", "clicklog_ingest", "clicklog_validate", "clicklog_features", "clicklog_training")
# `lifecycle` simulates and plays its own multi-day world (minutes): run on its own, never part of `__default__`.
STANDALONE_PIPELINES = ("lifecycle",)
DEFAULT = "__default__"


def pipeline_names() -> list[str]:
    """Every name `kedro run --pipelines` accepts, read from the package folders without importing them."""
    folders = files("adrank_pipelines.pipelines").iterdir()
    packages = [path.name for path in folders if path.is_dir() and path.joinpath("__init__.py").is_file()]
    return sorted([DEFAULT, *packages])


def all_pipelines() -> dict[str, Pipeline]:
    """Every package's pipeline, whatever `--pipelines` asked for (`__default__` only sums them).

    Kedro's `pipelines` mapping, and find_pipelines (which reads its filter first), import only the requested
    packages; the parameter schema spans them all, so a run of one pipeline still refuses a typo in another's keys.
    """
    return {
        name: import_module(f"adrank_pipelines.pipelines.{name}").create_pipeline()
        for name in pipeline_names()
        if name != DEFAULT
    }


def requested_names() -> list[str]:
    # The names `kedro run --pipelines` or `session.run(pipeline_names=...)` asked for: the same filter
    # Kedro's find_pipelines reads. Unchecked, an unknown name fails as an import error about a module.
    requested = getattr(registered, "_requested_pipelines", None)
    return list(requested or [])


def register_pipelines() -> dict[str, Pipeline]:
    check_pipeline_names(requested_names(), pipeline_names())
    pipelines = find_pipelines(raise_errors=True)
    apart = (*CLICK_LOG_PIPELINES, *STANDALONE_PIPELINES)
    simulated = [pipeline for name, pipeline in pipelines.items() if name not in apart]
    pipelines[DEFAULT] = sum(simulated, Pipeline([]))
    return pipelines
