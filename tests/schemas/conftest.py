"""Fixtures of the contract tests: a fresh tiny marketplace (see contract_world.py) per test."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.schemas.contract_world import make_world


@pytest.fixture
def world() -> dict[str, pd.DataFrame]:
    return make_world()
