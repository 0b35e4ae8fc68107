"""Start-up checks of what a run was asked for: the configuration environment, the pipeline names, the parameters.

Each check fails with a message that names the bad input and the closest valid one, before any plugin (MLflow
included) or node acts on it. The hooks and the pipeline registry call these; they hold no Kedro state themselves.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypeAlias, Union, get_args, get_origin

from kedro.pipeline import Pipeline
from kedro.validation import ParameterValidationError, TypeExtractor
from pydantic import BaseModel, ValidationError

from adrank_pipelines.schemas.parameter_errors import closest, describe_validation_error

_MISSING = object()
_PARAMS_PREFIX = "params:"
# The node input Kedro fills with the whole parameter tree.
_ALL_PARAMETERS = "parameters"
_RUNTIME_PARAMS_REFERENCE = re.compile(r"\$\{runtime_params:\s*([\w.]+)")
_CONFIG_SUFFIXES = (".yml", ".yaml")

# The parameter keys nodes take, as a tree of their dotted parts. ``None`` marks a key a node takes whole: anything
# below it is accepted here, being either a pydantic model's to check (typed_parameter_problems) or free-form.
ParameterSchema: TypeAlias = dict[str, "ParameterSchema | None"]


class UnknownEnvironmentError(ValueError):
    """`--env` (or KEDRO_ENV) names no folder of the configuration source."""


class UnknownPipelineError(ValueError):
    """`--pipelines` names no registered pipeline."""


class InvalidParameterError(ParameterValidationError):
    """A parameter key no node takes, or a typed one breaking its model's rules; a subclass of Kedro's own error, so
    callers catching that still do."""


def _shown(path: Path) -> str:
    try:
        return f"{path.resolve().relative_to(Path.cwd().resolve())}/"
    except ValueError:
        return f"{path}/"


def check_environment(conf_source: Path, env: str, base_env: str) -> None:
    """Raise if ``env`` is not a folder of ``conf_source``: Kedro would silently run on ``base_env`` alone.

    A source that is not a local folder (an archive, a remote store) is left to Kedro.
    """
    if not conf_source.is_dir() or (conf_source / env).is_dir():
        return
    environments = sorted(
        path.name
        for path in conf_source.iterdir()
        if path.is_dir() and path.name != base_env and not path.name.startswith((".", "_"))
    )
    message = (
        f"no configuration environment '{env}' in {_shown(conf_source)}; "
        f"the environments (each on top of {base_env}) are {', '.join(environments)}"
    )
    suggestion = closest(env, environments)
    raise UnknownEnvironmentError(message + (f"; did you mean '{suggestion}'?" if suggestion else ""))


def check_pipeline_names(requested: Iterable[str], available: Iterable[str]) -> None:
    known = sorted(available)
    for name in requested:
        if name in known:
            continue
        suggestion = closest(name, known)
        hint = f"did you mean '{suggestion}'? " if suggestion else ""
        raise UnknownPipelineError(f"no pipeline '{name}'; {hint}The pipelines are: {', '.join(known)}")


def model_class(expected: Any) -> type[BaseModel] | None:
    """The pydantic model a node parameter is annotated with, looking through ``X | None``."""
    if get_origin(expected) in (Union, types.UnionType):
        models = [arg for arg in get_args(expected) if model_class(arg) is not None]
        return models[0] if len(models) == 1 else None
    return expected if isinstance(expected, type) and issubclass(expected, BaseModel) else None


def _lookup(parameters: Mapping[str, Any], dotted_key: str) -> Any:
    value: Any = parameters
    for part in dotted_key.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def typed_parameter_problems(parameters: Mapping[str, Any], pipelines: Mapping[str, Pipeline]) -> list[str]:
    """One line per broken rule of every pydantic-typed ``params:`` input of ``pipelines``, named by its dotted key."""
    problems: list[str] = []
    requirements = TypeExtractor(dict(pipelines)).extract_types_from_pipelines()
    for key, expected in sorted(requirements.items()):
        model = model_class(expected)
        value = _lookup(parameters, key)
        if model is None or value is _MISSING or value is None:
            continue
        try:
            model.model_validate(value)
        except ValidationError as error:
            problems.extend(describe_validation_error(key, model, error))
    return problems


def _add_key(schema: ParameterSchema, dotted_key: str) -> None:
    *parents, last = dotted_key.split(".")
    for part in parents:
        below = schema.setdefault(part, {})
        if below is None:
            return  # an ancestor is taken whole
        schema = below
    schema[last] = None


def parameter_schema(pipelines: Mapping[str, Pipeline], extra_keys: Iterable[str] = ()) -> ParameterSchema | None:
    """The tree of the ``params:`` keys the nodes of ``pipelines`` take, and of ``extra_keys``.

    ``None`` when a node takes all ``parameters``. Kedro names a namespaced node's inputs in full
    (``params:ns.x``, unless the namespace leaves ``x`` out), so the keys are taken as they are.
    """
    inputs = {name for pipeline in pipelines.values() for name in pipeline.inputs()}
    if _ALL_PARAMETERS in inputs:
        return None
    schema: ParameterSchema = {}
    keys = [name.removeprefix(_PARAMS_PREFIX) for name in inputs if name.startswith(_PARAMS_PREFIX)]
    for key in [*keys, *extra_keys]:
        _add_key(schema, key)
    return schema


def _unknown_key(name: str, key: str, siblings: ParameterSchema, prefix: str) -> str:
    suggestion = closest(key, siblings)
    if suggestion:
        return f"{name}: not a known parameter; did you mean '{prefix}{suggestion}'?"
    level = f"under '{prefix.removesuffix('.')}'" if prefix else "at the top level"
    return f"{name}: not a known parameter; the keys {level} are {', '.join(sorted(siblings))}"


def unknown_parameter_problems(
    parameters: Mapping[str, Any], schema: ParameterSchema | None, prefix: str = ""
) -> list[str]:
    """One line per key of ``parameters`` that is neither in ``schema``, below a key taken whole, nor above one.

    A key is named in full with the closest known key at its level; what lies below an unknown key is not listed.
    """
    if schema is None:
        return []
    problems: list[str] = []
    for key, value in parameters.items():
        name = f"{prefix}{key}"
        if str(key) not in schema:
            problems.append(_unknown_key(name, str(key), schema, prefix))
        elif isinstance(value, Mapping):
            problems.extend(unknown_parameter_problems(value, schema[str(key)], f"{name}."))
    return problems


def _leaf_keys(tree: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys: list[str] = []
    for key, value in tree.items():
        name = f"{prefix}{key}"
        keys.extend(_leaf_keys(value, f"{name}.") if isinstance(value, Mapping) and value else [name])
    return keys


def runtime_parameter_keys(
    conf_source: Path, environments: Iterable[str], runtime_params: Mapping[str, Any]
) -> set[str]:
    """The keys the configuration files of ``environments`` read through ``${runtime_params:key}``.

    `--params` sets them (the catalog's click-log path) and Kedro merges them into the parameters too, though
    no node takes them. A source that is not a local folder (an archive, a remote store) is left to Kedro:
    every key of ``runtime_params`` is taken as read.
    """
    if not conf_source.is_dir():
        return set(_leaf_keys(runtime_params))
    references: set[str] = set()
    for environment in environments:
        for path in sorted((conf_source / environment).rglob("*")):
            if path.suffix in _CONFIG_SUFFIXES and path.is_file():
                references.update(_RUNTIME_PARAMS_REFERENCE.findall(path.read_text()))
    return references


def check_parameters(
    parameters: Mapping[str, Any], pipelines: Mapping[str, Pipeline], extra_keys: Iterable[str] = ()
) -> None:
    """Raise one error listing every key no node of ``pipelines`` takes and every broken rule of a typed one.

    ``extra_keys`` are known besides the nodes' keys (see runtime_parameter_keys).
    """
    schema = parameter_schema(pipelines, extra_keys)
    problems = unknown_parameter_problems(parameters, schema) + typed_parameter_problems(parameters, pipelines)
    if problems:
        lines = "\n".join(f"  {problem}" for problem in problems)
        raise InvalidParameterError(f"{len(problems)} invalid parameter(s):\n{lines}")
