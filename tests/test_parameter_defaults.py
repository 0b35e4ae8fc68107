"""conf/base holds the defaults; the pydantic models' own defaults (for notebooks and unit tests) must agree with it.

For every typed ``params:`` input of every pipeline, each field with a default in code is compared with the value
conf/base gives it, leaf by leaf. A field conf/base leaves out takes the code's default, so it agrees; a field
without a default in code has nothing to compare.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from kedro.config import OmegaConfigLoader
from kedro.validation import TypeExtractor
from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from adrank_pipelines.pipeline_registry import all_pipelines
from adrank_pipelines.run_checks import model_class
from tests.conftest import PROJECT_ROOT


class _Absent:
    """A key one side of a plain mapping has and the other has not."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT = _Absent()


def typed_parameters() -> dict[str, type[BaseModel]]:
    """Every ``params:`` key some node of some pipeline takes as a pydantic model, with its model."""
    requirements = TypeExtractor(all_pipelines()).extract_types_from_pipelines()
    typed = {key: model_class(expected) for key, expected in requirements.items()}
    return {key: model for key, model in sorted(typed.items()) if model is not None}


def base_parameters() -> dict[str, Any]:
    loader = OmegaConfigLoader(conf_source=str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base")
    return loader["parameters"]


def leaves(code: Any, conf: Any, key: str) -> Iterator[tuple[str, Any, Any]]:
    """``(dotted key, code value, conf/base value)`` of every leaf both sides give."""
    if isinstance(code, BaseModel) and isinstance(conf, Mapping):
        yield from _set_fields(dict(code), conf, key)
    elif isinstance(code, Mapping) and isinstance(conf, Mapping):
        # A plain mapping from conf/base replaces the code's whole: a key either side lacks differs.
        for name in [*code, *(name for name in conf if name not in code)]:
            yield from leaves(code.get(name, ABSENT), conf.get(name, ABSENT), f"{key}.{name}")
    else:
        yield key, code if code is ABSENT else to_jsonable_python(code), conf


def _set_fields(code: Mapping[str, Any], conf: Mapping[str, Any], key: str) -> Iterator[tuple[str, Any, Any]]:
    for name, value in code.items():
        if name in conf:
            yield from leaves(value, conf[name], f"{key}.{name}")


def code_defaults(model: type[BaseModel]) -> dict[str, Any]:
    """``model()``'s field values, for the fields that have a default."""
    return {
        name: field.get_default(call_default_factory=True)
        for name, field in model.model_fields.items()
        if not field.is_required()
    }


def default_disagreements(key: str, model: type[BaseModel], base: Mapping[str, Any]) -> list[str]:
    conf: Any = base
    for part in key.split("."):
        conf = conf.get(part, {}) if isinstance(conf, Mapping) else {}
    return [
        f"{name}: code {code!r}, conf/base {value!r}"
        for name, code, value in _set_fields(code_defaults(model), conf, key)
        if code != value
    ]


TYPED = typed_parameters()


@pytest.fixture(scope="module")
def base() -> dict[str, Any]:
    return base_parameters()


@pytest.mark.parametrize("key", TYPED)
def test_the_code_defaults_are_the_conf_base_values(key: str, base: dict[str, Any]):
    assert default_disagreements(key, TYPED[key], base) == []


def test_a_differing_leaf_is_named_with_both_values():
    class Inner(BaseModel):
        rate: float = 0.1
        names: list[str] = ["a"]

    class Outer(BaseModel):
        inner: Inner = Inner()
        shares: dict[str, float] = {"a": 0.5}
        cutoff: float | None = None
        required: int

    conf = {"inner": {"rate": 0.1, "names": ["a", "b"]}, "shares": {"b": 0.5}, "cutoff": None, "required": 3}
    assert default_disagreements("block", Outer, {"block": conf}) == [
        "block.inner.names: code ['a'], conf/base ['a', 'b']",
        "block.shares.a: code 0.5, conf/base (absent)",
        "block.shares.b: code (absent), conf/base 0.5",
    ]
