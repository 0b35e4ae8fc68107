"""Fixtures of the feature tests: a tiny seeded marketplace (see features_tiny_world.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from adrank_pipelines.features.enrich import enrich_impressions
from tests.features.features_tiny_world import make_tables


@pytest.fixture
def tiny_tables() -> dict[str, pd.DataFrame]:
    return make_tables()


@pytest.fixture
def tiny_enriched(tiny_tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Six days: train 0-2, valid 3, test 4, drift 5."""
    return enrich_impressions(
        tiny_tables["impressions"],
        tiny_tables["ads"],
        tiny_tables["advertisers"],
        tiny_tables["users"],
        valid_days=1,
        test_days=1,
        drift_days=1,
    )
