"""The parameters that shape the graph itself (which CTR models are trained, scored, monitored), for the registry.

Kedro builds pipelines before it hands parameters to nodes, and ``register_pipelines`` receives none.
The ``GraphParameters`` hook records the parameters of the run's own context (its environment and
``--params``) before anything reads the pipelines; without a context (``kedro registry list``, a test
calling ``register_pipelines``), the configuration of ``KEDRO_ENV`` (or the default environment) under
the working directory is read instead.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping
from pathlib import Path
from typing import Any

from kedro.config import MissingConfigException
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.framework.project import pipelines, settings

_recorded: dict[str, Any] | None = None
_read_keys: set[str] = set()


def record(parameters: Mapping[str, Any]) -> bool:
    """Use ``parameters`` for the pipelines built from now on; True when they differ from those recorded before."""
    global _recorded
    changed = _recorded != dict(parameters)
    _recorded = dict(parameters)
    return changed


def use_parameters(parameters: Mapping[str, Any]) -> None:
    """Build the pipelines from ``parameters`` from now on: a process that loads a project without a
    session (the service) records its environment's parameters here, never the working directory's."""
    if record(parameters):
        # Pipelines built for other parameters (an earlier session of this process) are rebuilt.
        requested = getattr(pipelines, "_requested_pipelines", None)
        pipelines.configure(f"{__package__}.pipeline_registry")
        pipelines.set_requested(requested)


def _configured_parameters() -> dict[str, Any]:
    loader = settings.CONFIG_LOADER_CLASS(
        conf_source=str(Path.cwd() / settings.CONF_SOURCE),
        env=os.environ.get("KEDRO_ENV"),
        **settings.CONFIG_LOADER_ARGS,
    )
    return dict(loader["parameters"])


def graph_parameters() -> dict[str, Any]:
    return _recorded if _recorded is not None else _configured_parameters()


def graph_keys() -> set[str]:
    """The keys pipeline builders have read: known parameters, though no node takes them."""
    return set(_read_keys)


def lookup(parameters: Mapping[str, Any], dotted_key: str) -> Any:
    """The value at ``dotted_key``; a clear error naming the key when the configuration lacks it."""
    _read_keys.add(dotted_key)
    value: Any = parameters
    for depth, part in enumerate(dotted_key.split(".")):
        if not isinstance(value, Mapping) or part not in value:
            known = ".".join(dotted_key.split(".")[:depth]) or "the top level"
            raise KeyError(f"parameter '{dotted_key}' is missing from the configuration (looked under {known})")
        value = value[part]
    return value


def model_blocks(parameters: Mapping[str, Any]) -> Mapping[str, Any]:
    """Every zoo model's parameter block (``ctr_models``), read without marking the tree known: each listed
    model's nodes take ``params:ctr_models.<name>``, so only a block no graph lists is reported as unknown."""
    blocks: Mapping[str, Any] = parameters.get("ctr_models") or {}
    return blocks


class GraphParameters:
    """Records the run's parameters before any other hook or the session reads the pipelines.

    A ``tryfirst`` wrapper registered last in ``settings.HOOKS``: pluggy calls the last-registered first.
    """

    @hook_impl(wrapper=True, tryfirst=True)
    def after_context_created(self, context: KedroContext) -> Generator[None, None, None]:
        # The loader's raw tree (``--params`` merged in): ``context.params`` would build the pipelines to type it.
        try:
            parameters = context.config_loader["parameters"]
        except MissingConfigException:
            # An unknown ``--env``: the start-up checks, which run next, name it and the closest environment.
            return (yield)
        use_parameters(parameters)
        return (yield)
