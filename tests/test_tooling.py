"""The pre-commit hooks and `make lint` run the same checks at the versions the lock file pins."""

from __future__ import annotations

import re

import yaml

from tests.conftest import PROJECT_ROOT


def _locked_versions() -> dict[str, str]:
    lines = (PROJECT_ROOT / "requirements-lock.txt").read_text().splitlines()
    pins = (line.split("==", 1) for line in lines if "==" in line and not line.startswith("#"))
    return {name.lower(): version for name, version in pins}


def _hooks() -> dict[str, dict]:
    config = yaml.safe_load((PROJECT_ROOT / ".pre-commit-config.yaml").read_text())
    return {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}


def _lint_recipe() -> list[str]:
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, flags=re.MULTILINE)
    assert recipe, "the Makefile has no lint recipe"
    return [line.strip().removeprefix("$(BIN)/") for line in recipe.group(1).splitlines()]


def test_pre_commit_pins_ruff_at_the_locked_version():
    locked = _locked_versions()["ruff"]
    for hook_id in ("ruff-check", "ruff-format"):
        assert _hooks()[hook_id]["additional_dependencies"] == [f"ruff=={locked}"], hook_id


def test_make_lint_and_pre_commit_run_the_same_checks():
    hooks = _hooks()
    recipe = _lint_recipe()
    assert recipe == ["ruff check .", "ruff format --check .", "mypy", "lint-imports"]
    assert hooks["ruff-check"]["entry"].startswith("ruff check")
    assert hooks["ruff-format"]["entry"].startswith("ruff format --check")
    assert hooks["mypy"]["entry"] == ".venv/bin/mypy" and hooks["mypy"]["pass_filenames"] is False
    assert hooks["lint-imports"]["entry"] == ".venv/bin/lint-imports"
