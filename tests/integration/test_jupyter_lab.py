"""`kedro jupyter lab` starts a JupyterLab server right after set-up, with the project's kernel as its default."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.integration

START_TIMEOUT_S = 120
SERVER_URL = re.compile(r"http://127\.0\.0\.1:(\d+)/lab\?token=(\w+)")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_address(server: subprocess.Popen[str]) -> tuple[int, str]:
    """Port and token from the log line in which the server says where it runs."""
    deadline = time.monotonic() + START_TIMEOUT_S
    seen: list[str] = []
    assert server.stdout is not None
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        if not line and server.poll() is not None:
            break
        seen.append(line)
        if match := SERVER_URL.search(line):
            return int(match.group(1)), match.group(2)
    raise AssertionError("kedro jupyter lab never said where it runs:\n" + "".join(seen[-30:]))


@pytest.fixture
def jupyter_lab(tmp_path: Path) -> Iterator[tuple[int, str]]:
    environment = os.environ | {
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    command = [
        str(Path(sys.executable).with_name("kedro")),
        *("jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={_free_port()}"),
        # JupyterLab refuses to run as root (CI containers) unless told it may.
        *(["--allow-root"] if os.geteuid() == 0 else []),
    ]
    # A session of its own: `kedro jupyter lab` starts JupyterLab as a child, and both must stop.
    server = subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        yield _server_address(server)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _get_json(url: str) -> dict:
    """The server logs its address a moment before it accepts connections: retry until it does."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return json.load(response)
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_kedro_jupyter_lab_serves_with_the_project_kernel_as_default(jupyter_lab: tuple[int, str]):
    port, token = jupyter_lab
    kernelspecs = _get_json(f"http://127.0.0.1:{port}/api/kernelspecs?token={token}")
    assert kernelspecs["default"] == "kedro_adrank_pipelines"
    project_kernel = kernelspecs["kernelspecs"]["kedro_adrank_pipelines"]["spec"]
    assert project_kernel["display_name"] == "Kedro (adrank_pipelines)"
    assert project_kernel["argv"][-2:] == ["--ext", "kedro.ipython"]
