"""The Great Expectations suites: pass on the tiny world, fail on an implausible CTR, leave a Data
Docs site that opens from disk, and are skipped on an impression log that breaks its contract."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.schemas.impression_suite import SuiteReport, ctr_by_position, run_impression_suites
from adrank_pipelines.schemas.suite_summary import suite_failures, suite_outcome
from tests.schemas.contract_world import TINY_WORLD_THRESHOLDS, make_world


@pytest.fixture(scope="module")
def valid_report() -> SuiteReport:
    return run_impression_suites(make_world()["impressions"], TINY_WORLD_THRESHOLDS)


@pytest.fixture(scope="module")
def every_impression_clicked() -> SuiteReport:
    impressions = make_world()["impressions"].assign(click=np.int8(1))
    return run_impression_suites(impressions, TINY_WORLD_THRESHOLDS)


def test_suites_pass_on_the_tiny_world(valid_report: SuiteReport) -> None:
    assert valid_report.success, json.dumps(valid_report.summary, indent=2, default=str)
    assert suite_failures(valid_report.summary) == []


def test_summary_is_plain_json(valid_report: SuiteReport) -> None:
    restored = json.loads(json.dumps(valid_report.summary))
    assert [suite["dataset"] for suite in restored["suites"]] == ["impressions", "impressions by position"]


def test_implausible_ctr_fails_the_suite_and_names_the_click_column(every_impression_clicked: SuiteReport) -> None:
    assert not every_impression_clicked.success
    failures = suite_failures(every_impression_clicked.summary)
    ctr = [failure for failure in failures if failure.check.startswith("expect_column_mean_to_be_between")]
    assert [(failure.dataset, failure.column) for failure in ctr] == [("impressions", "click")]
    assert "min_value=0.05, max_value=0.5" in ctr[0].check
    assert ctr[0].examples == ("observed: 1.0",)


def test_data_docs_site_is_produced_even_when_the_suite_fails(every_impression_clicked: SuiteReport) -> None:
    site = every_impression_clicked.data_docs
    assert "<html" in site["index.html"]
    validation_pages = [path for path in site if path.startswith("validations/") and path.endswith(".html")]
    assert len(validation_pages) == 2
    # Pages link to each other relatively, so the site opens from disk.
    assert 'href="../../../../index.html"' in site[validation_pages[0]]


def test_ctr_by_position_keeps_well_sampled_positions_in_order() -> None:
    impressions = pd.DataFrame({"position": [2, 1, 1, 2, 3], "click": [0, 1, 0, 0, 1]})
    table = ctr_by_position(impressions, min_impressions=2)
    assert table.to_dict("list") == {"position": [1, 2], "impressions": [2, 2], "ctr": [0.5, 0.0]}


def test_ctr_rising_with_position_fails_the_position_suite() -> None:
    impressions = make_world()["impressions"]
    rising = impressions.assign(click=(impressions["position"] == 3).astype(np.int8), conversion=np.int8(0))
    failures = suite_failures(run_impression_suites(rising, TINY_WORLD_THRESHOLDS).summary)
    assert [(failure.dataset, failure.column) for failure in failures] == [("impressions by position", "ctr")]
    assert failures[0].check.startswith("expect_column_values_to_be_decreasing")


def test_summary_page_reads_offline_and_links_the_validation_pages(every_impression_clicked: SuiteReport) -> None:
    site = every_impression_clicked.data_docs
    page = site["summary.html"]
    assert "http" not in page  # no script, style or font from the network
    assert "<span class='fail'>FAIL</span></td><td>expect_column_mean_to_be_between</td><td>click</td>" in page
    linked = [path for path in site if path.startswith("validations/") and f"href='{path}'" in page]
    assert len(linked) == 2


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param(lambda frame: frame.drop(columns="click"), id="missing_click"),
        # Text clicks once crashed the suite (no mean of text) before the contract could name them.
        pytest.param(lambda frame: frame.assign(click=frame["click"].astype(str)), id="text_click"),
    ],
)
def test_suites_are_skipped_on_a_log_that_breaks_its_contract(broken: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    report = run_impression_suites(broken(make_world()["impressions"]), TINY_WORLD_THRESHOLDS)
    assert report.summary["skipped"] == "impressions failed its own contract"
    outcome = suite_outcome(report.summary, frozenset({"impressions"}))
    assert outcome.failures == ()
    assert [(skip.check, skip.failed_tables) for skip in outcome.skipped] == [
        ("expectation suite 'impressions'", ("impressions",)),
        ("expectation suite 'impressions by position'", ("impressions",)),
    ]
    assert list(report.data_docs) == ["summary.html"]
    assert "Impression log expectations: <span class='skipped'>NOT RUN</span>" in report.data_docs["summary.html"]


def test_failed_expectations_of_a_broken_table_are_skipped(every_impression_clicked: SuiteReport) -> None:
    outcome = suite_outcome(every_impression_clicked.summary, frozenset({"impressions"}))
    assert outcome.failures == ()
    assert {skip.check for skip in outcome.skipped} == {
        "expectation suite 'impressions'",
        "expectation suite 'impressions by position'",
    }


def test_a_skipped_suite_on_an_intact_table_fails() -> None:
    """A summary of an earlier run, skipped then, must not let today's tables pass unchecked."""
    summary = {
        "success": False,
        "skipped": "impressions failed its own contract",
        "suites": [
            {
                "dataset": "impressions",
                "suite": "impressions_plausibility",
                "success": False,
                "skipped": True,
                "expectations": [],
            }
        ],
    }
    (failure,) = suite_outcome(summary, frozenset()).failures
    assert (failure.dataset, failure.check) == ("impressions", "expectation suite")
    assert "not run" in failure.render()
