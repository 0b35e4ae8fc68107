"""The online state's configuration: typed, strict, and its errors name the parameter."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from adrank_pipelines.serving.state import OnlineStateError, open_state, redacted_url
from adrank_pipelines.serving.state_params import OnlineStateParams


def test_the_defaults_are_the_embedded_backend():
    params = OnlineStateParams()
    assert params.backend == "embedded"
    assert params.redis_url == "redis://127.0.0.1:6379/0"
    assert params.key_prefix == "adrank"
    assert params.budget_path == "data/09_serving/budget_ledger.sqlite"
    assert params.max_events == 50


def test_an_unknown_key_is_refused_naming_it():
    with pytest.raises(ValidationError, match="redis_ulr"):
        OnlineStateParams.model_validate({"backend": "redis", "redis_ulr": "redis://127.0.0.1:6379/0"})


@pytest.mark.parametrize(
    ("key", "value"),
    [("backend", "memcached"), ("max_events", 0), ("redis_url", "http://127.0.0.1:6379"), ("key_prefix", "")],
)
def test_out_of_range_values_are_refused_naming_the_key(key, value):
    with pytest.raises(ValidationError, match=key):
        OnlineStateParams.model_validate({key: value})


def test_the_params_are_frozen():
    with pytest.raises(ValidationError):
        OnlineStateParams().max_events = 3  # type: ignore[misc]


def test_an_unreachable_redis_fails_naming_redis_url():
    params = OnlineStateParams(backend="redis", redis_url="redis://:secret@127.0.0.1:1/0")
    with pytest.raises(OnlineStateError, match=r"^serving\.state\.redis_url: cannot connect to") as raised:
        open_state(params)
    assert "secret" not in str(raised.value)


def test_an_unusable_budget_path_fails_naming_budget_path(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    params = OnlineStateParams(budget_path=str(blocker / "ledger.sqlite"))
    with pytest.raises(OnlineStateError, match=r"^serving\.state\.budget_path: cannot open"):
        open_state(params)


def test_passwords_are_redacted_from_urls():
    assert redacted_url("redis://user:pw@host:6379/0") == "redis://user:***@host:6379/0"
    assert redacted_url("redis://:pw@host:6379/0") == "redis://:***@host:6379/0"
    assert redacted_url("redis://host:6379/0") == "redis://host:6379/0"
