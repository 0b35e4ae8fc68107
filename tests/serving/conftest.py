"""Both backends of the online state through the same tests.

The Redis cases need a running server named by ``ADRANK_TEST_REDIS_URL`` (``.ci/run`` starts one;
README, "Serve ads online"); without it they are skipped. Each test gets its own key prefix
and deletes its keys afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from adrank_pipelines.serving.state import OnlineState, open_state
from adrank_pipelines.serving.state_params import OnlineStateParams
from tests.integration.conftest import default_run_project  # noqa: F401  (a fixture, found by name)
from tests.serving.service import serving

REDIS_URL_VARIABLE = "ADRANK_TEST_REDIS_URL"


def _delete_keys(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(params=["embedded", "redis"])
def state_params(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OnlineStateParams]:
    """Parameters of a fresh, empty state on each backend (max_events 5)."""
    if request.param == "embedded":
        yield OnlineStateParams(backend="embedded", budget_path=str(tmp_path / "ledger.sqlite"), max_events=5)
        return
    url = os.environ.get(REDIS_URL_VARIABLE)
    if not url:
        pytest.skip(f"{REDIS_URL_VARIABLE} is not set: no Redis server to test against")
    prefix = f"adrank-test-{uuid.uuid4().hex}"
    try:
        yield OnlineStateParams(backend="redis", redis_url=url, key_prefix=prefix, max_events=5)
    finally:
        _delete_keys(url, prefix)


@pytest.fixture
def open_test_state(state_params: OnlineStateParams) -> Iterator[Callable[[], OnlineState]]:
    """Opens the state of ``state_params`` (as often as a test wants) and closes every one at the end."""
    opened: list[OnlineState] = []

    def _open() -> OnlineState:
        opened.append(open_state(state_params))
        return opened[-1]

    yield _open
    for state in opened:
        state.close()


# -- the service over one default run of conf/test (tests/integration's session fixture) -------------
@pytest.fixture(scope="module")
def project(default_run_project: Path) -> Path:
    return default_run_project


@pytest.fixture(scope="module")
def client(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A started app on the run's artifacts, with a budget ledger of its own."""
    with serving(project, tmp_path_factory.mktemp("service") / "ledger.sqlite") as started:
        yield started
