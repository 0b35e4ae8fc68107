# Two commands for a newcomer: `make run` and `make test`. Both set everything up first.
# `make test` runs `make lint` first, so a change that breaks a static check never reaches pytest.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run serve test lint viz benchmark clean

setup: $(STAMP)

# The stamp makes set-up idempotent: a second call installs nothing unless the dependency files changed.
# requirements-lock.txt pins every package (torch==2.13.0, the CPU build) so pip never fetches a CUDA build here.
$(STAMP): pyproject.toml requirements-lock.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements-lock.txt -e ".[dev]"
	touch $(STAMP)

run: setup
	$(BIN)/kedro run

# The online ad service over the artifacts `make run` wrote (http://127.0.0.1:8000/docs).
serve: setup
	$(BIN)/kedro serve

# ruff (lint + format), mypy (strict on the domain packages) and the import-layering contracts;
# rule choices in docs/adr/0012-lint-format-and-type-checks.md.
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest

viz: setup
	$(BIN)/kedro viz run

benchmark: setup
	$(BIN)/python benchmarks/bench_data_pipelines.py

clean:
	rm -rf $(VENV)
