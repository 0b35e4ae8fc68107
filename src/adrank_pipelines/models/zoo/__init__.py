"""The model zoo: one sub-package per CTR model, its ``model`` module exposing ``MODEL`` (a ``ZooModel``).

A model is added by adding its folder; configuration names it (``ctr_training.models``,
``ctr_models.<name>``) and the pipelines wire it from there. Folders are imported on first use, so
listing the zoo never loads torch or LightGBM.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from adrank_pipelines.models.zoo.interface import ZooModel, ZooParams
from adrank_pipelines.schemas.parameter_errors import describe_validation_error


class UnknownModelError(ValueError):
    """Configuration names a model the zoo has no folder for."""


def zoo_names() -> list[str]:
    """Every model of the zoo: its sub-packages."""
    return sorted(module.name for module in pkgutil.iter_modules(__path__) if module.ispkg)


def zoo_model(name: str) -> ZooModel[Any, Any]:
    names = zoo_names()
    if name not in names:
        matches = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean '{matches[0]}'?" if matches else ""
        raise UnknownModelError(f"no model '{name}' in the zoo{hint} The zoo holds: {', '.join(names)}")
    model: ZooModel[Any, Any] = importlib.import_module(f"{__name__}.{name}.model").MODEL
    return model


def model_params(name: str, block: Mapping[str, Any] | None) -> ZooParams:
    """The typed parameters of model ``name`` from its ``ctr_models.<name>`` block (None = all defaults)."""
    params_type = zoo_model(name).params_type
    try:
        params: ZooParams = params_type.model_validate(dict(block or {}))
    except ValidationError as error:
        problems = describe_validation_error(f"ctr_models.{name}", params_type, error)
        raise ValueError("; ".join(problems)) from error
    return params


def upstream_of(name: str, block: Mapping[str, Any] | None) -> tuple[str, ...]:
    return zoo_model(name).upstream(model_params(name, block))


def scoring_closure(names: Iterable[str], blocks: Mapping[str, Mapping[str, Any] | None]) -> list[str]:
    """``names`` and every model they read, directly or not, each after the models it reads."""
    closure: list[str] = []
    pending = list(names)
    while pending:
        name = pending.pop(0)
        if name not in closure:
            closure.append(name)
            pending += upstream_of(name, blocks.get(name))
    return training_order(closure, blocks)


def dependency_order(
    names: Iterable[str], reads: Callable[[str], Iterable[str]], unlisted: Callable[[str, str], str]
) -> list[str]:
    """``names`` with each after the names it ``reads``; ``unlisted(name, upstream)`` is the error when a
    name reads one that is not among them. A cycle is an error naming it."""
    listed = list(names)
    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in ordered:
            return
        if name in path:
            raise ValueError(f"models read each other in a cycle: {' -> '.join((*path, name))}")
        for upstream in reads(name):
            if upstream not in listed:
                raise ValueError(unlisted(name, upstream))
            visit(upstream, (*path, name))
        ordered.append(name)

    for name in listed:
        visit(name, ())
    return ordered


def training_order(names: Iterable[str], blocks: Mapping[str, Mapping[str, Any] | None]) -> list[str]:
    """``names`` with every model after the models it reads; an upstream model must itself be listed."""
    listed = list(names)
    return dependency_order(
        listed,
        lambda name: upstream_of(name, blocks.get(name)),
        lambda name, upstream: f"ctr_models.{name} reads model '{upstream}', which is not listed with it: {listed}",
    )
