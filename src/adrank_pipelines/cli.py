"""Project commands: Kedro's ``kedro run``, with a short report instead of a full traceback when a run fails.

Kedro loads this module's ``cli`` group and lets its ``run`` override the built-in one (``python -m
adrank_pipelines`` uses it too). Without it, a failed run ends with Kedro's rich traceback (installed as the
exception hook by its logging handler): some 180 lines, mostly Click, pluggy and runner frames, after the one
message that matters.
"""

from __future__ import annotations

import os
import sys
import tempfile
import traceback
from typing import Any

import click
from kedro.framework.cli.project import run as kedro_run

TRACEBACK_ENV = "KEDRO_TRACEBACK"
_MAX_CAUSES = 3


@click.group(name="adrank_pipelines")
def cli() -> None:
    """Project commands (they replace Kedro's commands of the same name)."""


def _cause_lines(error: BaseException) -> list[str]:
    """One line per error behind ``error``, nearest first; a cause whose message is already shown (Kedro's dataset
    errors repeat their cause's) is named by its type alone, and left out if that type is shown too."""
    lines: list[str] = []
    shown_text, shown_types, seen = str(error), {type(error)}, {id(error)}
    cause = _cause_of(error)
    while cause is not None and id(cause) not in seen and len(lines) < _MAX_CAUSES:
        seen.add(id(cause))
        if str(cause) not in shown_text:
            lines.append(f"  caused by {_headline(cause).splitlines()[0]}")
        elif type(cause) not in shown_types:
            lines.append(f"  caused by {type(cause).__name__}")
        shown_text += str(cause)
        shown_types.add(type(cause))
        cause = _cause_of(cause)
    return lines


def _cause_of(error: BaseException) -> BaseException | None:
    return error.__cause__ or (None if error.__suppress_context__ else error.__context__)


def _headline(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".rstrip()


def failure_report(error: BaseException, traceback_file: str | None) -> str:
    """The error with its full message, the node it failed in, and its causes, in a few lines."""
    lines = [f"kedro run failed: {_headline(error)}"]
    lines += [f"  {note}" for note in getattr(error, "__notes__", [])]
    lines += _cause_lines(error)
    where = f"written to {traceback_file}; " if traceback_file else ""
    lines.append(f"Full traceback: {where}rerun with --verbose (or {TRACEBACK_ENV}=1) to print it.")
    return "\n".join(lines)


def _write_traceback(error: BaseException) -> str | None:
    try:
        descriptor, path = tempfile.mkstemp(prefix="kedro-run-", suffix=".traceback.txt")
        with os.fdopen(descriptor, "w") as file:
            file.write("".join(traceback.format_exception(error)))
    except OSError:
        return None
    return path


def _run(verbose: bool, **kedro_run_options: Any) -> Any:
    assert kedro_run.callback is not None
    try:
        return kedro_run.callback(**kedro_run_options)
    except click.ClickException:
        # Usage errors: Click already prints them in one line.
        raise
    except Exception as error:
        if verbose:
            raise
        click.secho(failure_report(error, _write_traceback(error)), fg="red", err=True)
        sys.exit(1)


_VERBOSE = click.Option(
    ["--verbose"],
    is_flag=True,
    envvar=TRACEBACK_ENV,
    help=f"On failure, print the full traceback (also with {TRACEBACK_ENV}=1).",
)

run = click.Command(
    name="run",
    callback=_run,
    params=[*kedro_run.params, _VERBOSE],
    help=kedro_run.help,
    short_help=kedro_run.short_help,
)
cli.add_command(run)


@cli.command(name="serve")
@click.option(
    "--env", "-e", default=None, help="Kedro environment whose artifacts and conf/<env>/serving.yml to serve."
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="One log line per HTTP request (costs CPU on the request path; /metrics counts requests either way).",
)
@click.option(
    "--seed-profiles",
    is_flag=True,
    help="With the redis backend: record the known users' logged history in Redis before the workers start.",
)
def serve(env: str | None, host: str, port: int, workers: int, access_log: bool, seed_profiles: bool) -> None:
    """Start the online ad service (FastAPI on uvicorn) over the artifacts of ENV."""
    import uvicorn

    from adrank_pipelines.serving.logs import uvicorn_log_config
    from adrank_pipelines.serving.main import ENV_ENV, PROJECT_PATH_ENV, prepare_workers

    project_path = os.getcwd()
    os.environ[PROJECT_PATH_ENV] = project_path
    if env:
        os.environ[ENV_ENV] = env
    try:
        seeded = prepare_workers(project_path, env, workers, seed_profiles)
    except ValueError as error:
        raise click.UsageError(str(error)) from error
    if seed_profiles:
        click.echo(f"seeded the profiles of {seeded} users")
    uvicorn.run(
        "adrank_pipelines.serving.main:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=uvicorn_log_config(),
        access_log=access_log,
        timeout_graceful_shutdown=30,
    )
