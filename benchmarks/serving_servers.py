"""The processes of the serving benchmark (benchmarks/bench_serving.py): a throw-away conf environment, the ad
service, a Redis server, their CPU time and the service's stage metrics.

Every process is started here in a session of its own and stopped in a ``finally``: SIGTERM and a graceful
wait first, SIGKILL to its process group only when the wait runs out.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import yaml
from prometheus_client.parser import text_string_to_metric_families

HOST = "127.0.0.1"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CONFIG_SUFFIXES = (".yml", ".yaml", ".json")
# uvicorn logs this once per worker, after the app's lifespan start-up (artifacts loaded) has finished.
STARTUP_LINE = "Application startup complete."
STOP_GRACE_S = 60.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``, mappings merged key by key (as Kedro's soft merge does), anything else replaced."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _serving_files(folder: Path) -> list[Path]:
    """The files of ``folder`` that the ``serving`` config pattern (``serving*``, ``serving*/**``) reads."""
    found = [path for path in folder.glob("serving*") if path.is_file() and path.suffix in CONFIG_SUFFIXES]
    for sub in folder.glob("serving*"):
        if sub.is_dir():
            found += [path for path in sub.rglob("*") if path.is_file() and path.suffix in CONFIG_SUFFIXES]
    return sorted(found)


@contextmanager
def bench_environment(project: Path, env: str | None, serving_override: Mapping[str, Any]) -> Iterator[str]:
    """A throw-away environment ``conf/bench_<hex>`` that serves as ``env`` does, with ``serving_override``.

    A second ``serving*.yml`` beside an environment's own one fails Kedro's duplicate-key check, and a
    new environment alone would lose the served environment's parameters (its artifacts were written
    with them). So the served environment's folder (``local`` when ``env`` is None; credentials left
    out) is copied, and its serving settings are replaced by one file: its own deep-merged with the
    override. conf/base is soft-merged under it by Kedro as usual. The folder is deleted at the end.
    """
    conf = project / "conf"
    source = conf / (env or "local")
    name = f"bench_{secrets.token_hex(4)}"
    target = conf / name
    try:
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("credentials*", ".*"))
        else:
            target.mkdir()
        own: dict[str, Any] = {}
        for path in _serving_files(target):
            own = deep_merge(own, yaml.safe_load(path.read_text()) or {})
            path.unlink()
        for sub in target.glob("serving*"):
            shutil.rmtree(sub, ignore_errors=True)
        merged = deep_merge(own, {"serving": dict(serving_override)})
        (target / "serving.yml").write_text("# Written by benchmarks/bench_serving.py\n" + yaml.safe_dump(merged))
        yield name
    finally:
        shutil.rmtree(target, ignore_errors=True)


# -- processes and their CPU time ------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name (which may hold spaces): field 3 (state) first."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def process_tree(pid: int) -> list[int]:
    """``pid`` and every live descendant (uvicorn's workers are children of its supervisor)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                children.setdefault(int(_stat_fields(int(entry.name))[1]), []).append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue  # exited meanwhile
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo += children.get(current, [])
    return tree


def cpu_seconds(pid: int, descendants: bool = True) -> float:
    """User + system CPU seconds of ``pid`` (and, with ``descendants``, of every live descendant)."""
    total = 0
    for member in process_tree(pid) if descendants else [pid]:
        try:
            fields = _stat_fields(member)
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat(5)
    return total / CLOCK_TICKS


def _taskset(cores: Sequence[int] | None) -> list[str]:
    if not cores or shutil.which("taskset") is None or (os.cpu_count() or 1) <= max(cores):
        return []
    return ["taskset", "-c", ",".join(str(core) for core in cores)]


def _stop(process: subprocess.Popen[bytes], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM and wait (graceful: the service drains its batcher); SIGKILL to its process group on timeout."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own session (start_new_session): only what it started
        process.wait(timeout=30)


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


# -- the ad service -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    pid: int  # the kedro serve process (with several workers: uvicorn's supervisor, the workers its children)
    base_url: str
    workers: int
    log: Path


def http_get(url: str, timeout_s: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode(errors="replace")
    except (urllib.error.URLError, OSError):
        return 0, ""


def http_post(url: str, body: Mapping[str, Any], timeout_s: float = 10.0) -> tuple[int, str]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read().decode(errors="replace")


@contextmanager
def serve(
    kedro: Path,
    project: Path,
    env: str,
    log: Path,
    workers: int = 1,
    cores: Sequence[int] | None = (0,),
    seed_profiles: bool = False,
    ready_timeout_s: float = 600.0,
) -> Iterator[Service]:
    """``kedro serve`` in ``project`` on a free loopback port, pinned to ``cores``, ready when every worker is."""
    port = free_port()
    command = [*_taskset(cores), str(kedro), "serve", "--env", env, "--host", HOST, "--port", str(port)]
    command += ["--workers", str(workers), *(["--seed-profiles"] if seed_profiles else [])]
    base_url = f"http://{HOST}:{port}"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=project,
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + ready_timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the service exited ({process.returncode}) before it was ready:\n{_tail(log)}")
            started = log.read_text(errors="replace").count(STARTUP_LINE)
            if started >= workers and http_get(f"{base_url}/readyz")[0] == 200:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"the service was not ready within {ready_timeout_s:.0f} s:\n{_tail(log)}")
            time.sleep(0.5)
        yield Service(process.pid, base_url, workers, log)
    finally:
        _stop(process)


# -- Redis ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RedisServer:
    pid: int
    url: str


@contextmanager
def redis_server(
    binary: Path, workdir: Path, cores: Sequence[int] | None = (1,), ready_timeout_s: float = 30.0
) -> Iterator[RedisServer]:
    """A Redis server of its own on a free loopback port, no persistence; stopped by its PID at the end."""
    port = free_port()
    command = [*_taskset(cores), str(binary), "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no"]
    log = workdir / "redis.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, "--dir", str(workdir)], stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"redis://{HOST}:{port}/0"
    try:
        client = redis.Redis.from_url(url, socket_timeout=1.0)
        deadline = time.monotonic() + ready_timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server exited ({process.returncode}):\n{_tail(log)}")
            try:
                if client.ping():
                    break
            except redis.RedisError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"redis-server did not answer within {ready_timeout_s:.0f} s:\n{_tail(log)}")
            time.sleep(0.2)
        client.close()
        yield RedisServer(process.pid, url)
    finally:
        _stop(process, grace_s=30.0)


# -- the service's metrics ------------------------------------------------------------------------------------


def scrape(base_url: str) -> dict[tuple[str, str], float]:
    """(sample name, stage label) -> value of the service's /metrics (one worker's, with several)."""
    status, text = http_get(f"{base_url}/metrics")
    if status != 200:
        raise RuntimeError(f"/metrics answered {status}")
    return {
        (sample.name, sample.labels.get("stage", "")): float(sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def stage_means(
    before: Mapping[tuple[str, str], float], after: Mapping[tuple[str, str], float]
) -> tuple[dict[str, float | None], float | None]:
    """Between two scrapes: the mean milliseconds per batch of each stage, and the mean batch size."""

    def delta(name: str, stage: str = "") -> float:
        return after.get((name, stage), 0.0) - before.get((name, stage), 0.0)

    stages = sorted({stage for name, stage in after if name == "adrank_stage_seconds_count"})
    means: dict[str, float | None] = {}
    for stage in stages:
        count = delta("adrank_stage_seconds_count", stage)
        means[stage] = delta("adrank_stage_seconds_sum", stage) / count * 1e3 if count else None
    batches = delta("adrank_batch_size_count")
    return means, (delta("adrank_batch_size_sum") / batches if batches else None)
