"""A run refuses bad input at start-up naming it, reports a failure in a few lines, and MLflow records what happened.

CLI-level behaviour (the printed report, exit codes, signals, two processes at once) runs `kedro` in a subprocess
on a throw-away project copy; the start-up checks also run through a KedroSession, the API notebooks and
orchestrators use.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import pytest
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from adrank_pipelines.run_checks import InvalidParameterError, UnknownEnvironmentError, UnknownPipelineError
from tests.integration.conftest import copy_project

pytestmark = pytest.mark.integration

KEDRO = Path(sys.executable).parent / "kedro"
REPORT_HEAD = "kedro run failed: "
EXPERIMENT = "adrank_pipelines"


def _env(project: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("KEDRO_ENV", "KEDRO_TRACEBACK")}
    # Wide enough that rich does not wrap a log line across lines; traceback files land in the project copy.
    return {**env, "COLUMNS": "200", "TMPDIR": str(project), **extra}


def _kedro_run(project: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KEDRO), "run", *args],
        cwd=project,
        env=_env(project, **env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def _report(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The lines the failed run printed from its report on (the report is the output's last block)."""
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    lines = result.stderr.splitlines()
    starts = [index for index, line in enumerate(lines) if line.startswith(REPORT_HEAD)]
    assert starts, output[-3000:]
    return lines[starts[-1] :]


def _runs(store: Path) -> list[Any]:
    client = mlflow.MlflowClient(f"sqlite:///{store}")
    experiment = client.get_experiment_by_name(EXPERIMENT)
    return client.search_runs([experiment.experiment_id]) if experiment else []


# -- start-up checks: through the CLI and through a KedroSession ------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--env", "tset", "--pipelines", "ingest"],
            "UnknownEnvironmentError: no configuration environment 'tset' in conf/; the environments (each on "
            "top of base) are avazu, criteo, dask, gpu, local, test; did you mean 'test'?",
        ),
        (
            ["--env", "test", "--pipelines", "featurs"],
            "UnknownPipelineError: no pipeline 'featurs'; did you mean 'features'? The pipelines are: __default__, ",
        ),
        (
            ["--env", "test", "--pipelines", "ingest", "--params", "marketplace.seed=-1"],
            "InvalidParameterError: 1 invalid parameter(s):",
        ),
    ],
    ids=["environment", "pipeline", "parameter"],
)
def test_bad_input_fails_at_start_up_naming_it(project_copy: Path, args: list[str], expected: str):
    report = _report(_kedro_run(project_copy, *args))
    assert report[0].startswith(REPORT_HEAD + expected), report
    if "marketplace.seed=-1" in args:
        assert report[1] == "  marketplace.seed = -1: Input should be greater than or equal to 0"
    assert len(report) <= 3
    # Before anything ran: not even the MLflow store was created.
    assert not (project_copy / "mlflow.db").exists()


def test_keys_no_node_takes_stop_the_run_at_start_up_naming_them(project_copy: Path):
    # A YAML typo next to the key it misspells, in the environment the run uses.
    ranking_yml = project_copy / "conf" / "test" / "parameters_ranking.yml"
    ranking_yml.write_text(ranking_yml.read_text() + "\n  objectve:\n    alpha: 0.5\n")
    # Only ingest runs: the schema is every pipeline's, so ranking's keys are still checked.
    params = "ranking.alpah=0.5,rankng.objective.alpha=0.5"
    result = _kedro_run(project_copy, "--env", "test", "--pipelines", "ingest", "--params", params)
    report = _report(result)
    assert report[0] == REPORT_HEAD + "InvalidParameterError: 3 invalid parameter(s):", report
    assert sorted(report[1:4]) == [
        "  ranking.alpah: not a known parameter; the keys under 'ranking' are candidates, objective, scoring",
        "  ranking.objectve: not a known parameter; did you mean 'ranking.objective'?",
        "  rankng: not a known parameter; did you mean 'ranking'?",
    ]
    assert "Running node" not in result.stdout + result.stderr
    assert not (project_copy / "mlflow.db").exists()


def test_the_full_traceback_is_printed_on_request(project_copy: Path):
    result = _kedro_run(project_copy, "--env", "test", "--pipelines", "featurs", KEDRO_TRACEBACK="1")
    assert result.returncode == 1
    assert "Traceback" in result.stdout + result.stderr
    assert "no pipeline 'featurs'" in result.stdout + result.stderr


def test_python_dash_m_runs_the_same_command(project_copy: Path):
    result = subprocess.run(
        [sys.executable, "-m", "adrank_pipelines", "--env", "test", "--pipelines", "featurs"],
        cwd=project_copy,
        env=_env(project_copy),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert _report(result)[0].startswith(REPORT_HEAD + "UnknownPipelineError: no pipeline 'featurs'")


@pytest.fixture
def session_project(project_copy: Path) -> Iterator[Path]:
    bootstrap_project(project_copy)
    yield project_copy
    # The registry keeps the last requested names; a later test reading `pipelines` must not inherit a bad one.
    pipelines.set_requested(None)


@pytest.mark.parametrize(
    ("env", "names", "params", "error", "match"),
    [
        ("nosuch", ["ingest"], None, UnknownEnvironmentError, r"no configuration environment 'nosuch'"),
        ("test", ["featurs"], None, UnknownPipelineError, r"no pipeline 'featurs'; did you mean 'features'\?"),
        ("test", ["ingest"], {"marketplace": {"seed": -1}}, InvalidParameterError, r"marketplace\.seed = -1: "),
    ],
    ids=["environment", "pipeline", "parameter"],
)
def test_a_session_run_refuses_the_same_input(
    session_project: Path, env: str, names: list[str], params: dict[str, Any] | None, error: type, match: str
):
    with (
        pytest.raises(error, match=match),
        KedroSession.create(project_path=session_project, env=env, runtime_params=params) as session,
    ):
        session.run(pipeline_names=names)
    assert not (session_project / "mlflow.db").exists()


# -- a failure in a node: a short report, the MLflow run FAILED --------------------------------------------


def test_a_failed_run_prints_a_short_report_and_its_mlflow_run_is_failed(project_copy: Path):
    # Nothing was simulated, so the summary node's input is missing.
    result = _kedro_run(project_copy, "--env", "test", "--pipelines", "ingest", "--nodes", "summarise_marketplace")
    report = _report(result)
    assert report[0].startswith(REPORT_HEAD + "DatasetError: ")
    assert "Failed while loading data from dataset" in report[0]
    assert "  caused by FileNotFoundError" in report
    assert len(report) <= 6, report
    traceback_file = Path(report[-1].split("written to ", 1)[1].split(";", 1)[0])
    assert traceback_file.parent == project_copy
    assert "Traceback (most recent call last)" in traceback_file.read_text()
    assert [run.info.status for run in _runs(project_copy / "mlflow.db")] == ["FAILED"]


# -- an interrupted run: KILLED, not FINISHED -------------------------------------------------------------


def test_an_interrupted_run_is_recorded_killed(project_copy: Path):
    # The default world: its simulation takes long enough to be interrupted mid-node.
    process = subprocess.Popen(
        [str(KEDRO), "run", "--pipelines", "ingest"],
        cwd=project_copy,
        env=_env(project_copy),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "Running node: simulate_marketplace" in line:
                process.send_signal(signal.SIGINT)
                break
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode != 0, output[-3000:]
    assert "recorded KILLED" in output
    assert [run.info.status for run in _runs(project_copy / "mlflow.db")] == ["KILLED"]


# -- two runs started together on a fresh store -----------------------------------------------------------


def test_two_runs_started_together_on_a_fresh_store_both_succeed(tmp_path: Path):
    store = tmp_path / "store" / "mlflow.db"
    store.parent.mkdir()
    projects = []
    for name in ("first", "second"):
        # Two copies, each with its own data/, so the runs share only the MLflow store.
        project = copy_project(tmp_path / name)
        mlflow_yml = project / "conf" / "base" / "mlflow.yml"
        mlflow_yml.write_text(
            mlflow_yml.read_text().replace(f"sqlite:///{project / 'mlflow.db'}", f"sqlite:///{store}")
        )
        projects.append(project)
    processes = [
        subprocess.Popen(
            [str(KEDRO), "run", "--env", "test", "--pipelines", "ingest"],
            cwd=project,
            env=_env(project),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for project in projects
    ]
    outputs = [process.communicate(timeout=300)[0] for process in processes]
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output[-3000:]
    assert sorted(run.info.status for run in _runs(store)) == ["FINISHED", "FINISHED"]
