"""The run's Dask client: none unless ``dask.enabled``, closed after the run, a misspelt setting named."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from distributed import get_client

from adrank_pipelines.dask_hooks import DaskCluster
from adrank_pipelines.run_checks import InvalidParameterError


def _hook(dask: dict) -> DaskCluster:
    hook = DaskCluster()
    hook.after_context_created(SimpleNamespace(config_loader={"parameters": {"dask": dask}}))
    return hook


def _no_client() -> bool:
    try:
        get_client()
    except ValueError:
        return True
    return False


def test_a_disabled_cluster_starts_nothing():
    hook = _hook({"enabled": False})
    hook.before_pipeline_run()
    assert _no_client()
    hook.after_pipeline_run()


def test_the_local_cluster_runs_for_the_pipeline_and_is_closed_after_it_or_after_a_failure():
    for close in ("after_pipeline_run", "on_pipeline_error"):
        hook = _hook({"enabled": True, "n_workers": 1, "processes": False})
        hook.before_pipeline_run()
        client = get_client()
        assert len(client.scheduler_info()["workers"]) == 1
        assert client.submit(sum, [1, 2]).result() == 3
        getattr(hook, close)()
        assert client.status == "closed"
        assert _no_client()


def test_a_misspelt_setting_is_named_with_the_closest_one():
    with pytest.raises(InvalidParameterError, match=r"dask\.n_workrs: not a known setting; did you mean 'n_workers'"):
        _hook({"enabled": True, "n_workrs": 2})
