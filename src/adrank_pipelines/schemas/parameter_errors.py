"""Readable lines for a parameter block that breaks its typed model: the dotted key, and the closest known one."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from pydantic import BaseModel, ValidationError

_MAX_VALUE_REPR = 60


def closest(name: str, choices: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(name, list(choices), n=1)
    return matches[0] if matches else None


def fields_at(model: type[BaseModel], location: tuple[int | str, ...]) -> list[str]:
    """Field names of the sub-model at ``location`` (empty when the path leaves nested models)."""
    for part in location:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def describe_validation_error(key: str, model: type[BaseModel], error: ValidationError) -> list[str]:
    problems = []
    for detail in error.errors(include_url=False):
        location = detail["loc"]
        name = ".".join([key, *(str(part) for part in location)])
        if detail["type"] == "extra_forbidden":
            suggestion = closest(str(location[-1]), fields_at(model, location[:-1]))
            hint = f"; did you mean '{suggestion}'?" if suggestion else ""
            problems.append(f"{name}: not a known setting{hint}")
        elif detail["type"] == "missing":
            problems.append(f"{name}: missing")
        else:
            value = repr(detail["input"])
            if len(value) > _MAX_VALUE_REPR:
                value = value[: _MAX_VALUE_REPR - 3] + "..."
            problems.append(f"{name} = {value}: {detail['msg']}")
    return problems
