"""Great Expectations (1.x) plausibility suites over the impression log, with their Data Docs.

pandera proves each row keeps the contract; these suites judge the log as a whole: its size,
null rates, click-through rate, and the shape of the position and hour distributions. They run
in an ephemeral GX context (nothing persisted, analytics off, no network) whose Data Docs site is
built in a temporary folder and handed back as text files, with ``summary.html`` as the entry
page that reads offline (see ``suite_report_page``). They run only on an impression log that keeps
its pandera contract: on a missing or mistyped column they would fail (or crash) with it, and the
contract already names the cause.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)

from adrank_pipelines.schemas.contract_model import WHOLE_TABLE
from adrank_pipelines.schemas.pandera_failures import contract_outcome
from adrank_pipelines.schemas.raw_tables import ImpressionsSchema
from adrank_pipelines.schemas.settings import ImpressionSuiteThresholds
from adrank_pipelines.schemas.suite_report_page import SUMMARY_PAGE, render_summary_page
from adrank_pipelines.schemas.suite_summary import IMPRESSIONS, IMPRESSIONS_BY_POSITION, SUITE_TABLES

_DOCS_SITE = "local_site"
# The Data Docs site also ships fonts and images; the pages stay readable without them.
_SITE_TEXT_SUFFIXES = (".html", ".css")
_SUMMARY_EXAMPLES = 5


@dataclass(frozen=True)
class SuiteReport:
    summary: dict[str, Any]  # JSON-ready outcome of every expectation
    data_docs: dict[str, str]  # the Data Docs site: relative path -> page text (entry: summary.html)

    @property
    def success(self) -> bool:
        return bool(self.summary["success"])


def impression_log_expectations(thresholds: ImpressionSuiteThresholds) -> list[gxe.Expectation]:
    not_null = [
        gxe.ExpectColumnValuesToNotBeNull(column=column, mostly=1.0 - thresholds.max_null_fraction)
        for column in ImpressionsSchema.to_schema().columns
    ]
    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=thresholds.row_count.min, max_value=thresholds.row_count.max),
        *not_null,
        # The mean of a 0/1 click column is the click-through rate.
        gxe.ExpectColumnMeanToBeBetween(column="click", min_value=thresholds.ctr.min, max_value=thresholds.ctr.max),
        gxe.ExpectColumnValuesToBeInSet(column="position", value_set=list(range(1, thresholds.max_position + 1))),
        # A log whose timestamps lost their time of day piles up in very few hours.
        gxe.ExpectColumnUniqueValueCountToBeBetween(
            column="hour", min_value=thresholds.min_distinct_hours, max_value=24
        ),
    ]


def position_expectations(thresholds: ImpressionSuiteThresholds) -> list[gxe.Expectation]:
    # Rows come in position order (``ctr_by_position``), so "decreasing" compares neighbours.
    return [gxe.ExpectColumnValuesToBeDecreasing(column="ctr", mostly=thresholds.ctr_by_position.mostly)]


def ctr_by_position(impressions: pd.DataFrame, min_impressions: int) -> pd.DataFrame:
    """CTR per position, in position order, for positions shown at least ``min_impressions`` times."""
    if not {"position", "click"} <= set(impressions.columns):
        # The contract node names the missing column; an empty table keeps this report going.
        return pd.DataFrame({"position": [], "impressions": [], "ctr": []})
    per_position = impressions.groupby("position", sort=True).agg(impressions=("click", "size"), ctr=("click", "mean"))
    return per_position[per_position["impressions"] >= min_impressions].reset_index()


def run_impression_suites(impressions: pd.DataFrame, thresholds: ImpressionSuiteThresholds) -> SuiteReport:
    """Both suites' outcome and Data Docs, or a report that they were skipped on a broken log."""
    table = SUITE_TABLES[IMPRESSIONS]  # both suites read the impression log
    if contract_outcome(table, impressions, ImpressionsSchema, max_examples=1).failures:
        return _skipped_report(f"{table} failed its own contract")
    batches = {
        IMPRESSIONS: (impressions, impression_log_expectations(thresholds)),
        IMPRESSIONS_BY_POSITION: (
            ctr_by_position(impressions, thresholds.ctr_by_position.min_impressions),
            position_expectations(thresholds),
        ),
    }
    with TemporaryDirectory(prefix="gx_data_docs_") as docs_folder:
        context = _ephemeral_context(Path(docs_folder))
        source = context.data_sources.add_pandas("marketplace")
        suites = [
            _run_suite(context, source, dataset, frame, expectations)
            for dataset, (frame, expectations) in batches.items()
        ]
        site = _read_site(Path(docs_folder))
    summary = {"success": all(suite["success"] for suite in suites), "suites": suites}
    return SuiteReport(summary=summary, data_docs={**site, SUMMARY_PAGE: render_summary_page(summary, site)})


def _skipped_report(reason: str) -> SuiteReport:
    """A summary naming the suites not run, and its page; the contract error gives the cause."""
    suites = [
        {"dataset": dataset, "suite": _suite_name(dataset), "success": False, "skipped": True, "expectations": []}
        for dataset in (IMPRESSIONS, IMPRESSIONS_BY_POSITION)
    ]
    summary = {"success": False, "skipped": reason, "suites": suites}
    return SuiteReport(summary=summary, data_docs={SUMMARY_PAGE: render_summary_page(summary, [])})


def _ephemeral_context(docs_folder: Path) -> Any:
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites={
            _DOCS_SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_folder)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _run_suite(
    context: Any, source: Any, dataset: str, frame: pd.DataFrame, expectations: list[gxe.Expectation]
) -> dict[str, Any]:
    name = dataset.replace(" ", "_")
    batch = source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("whole_table")
    suite = context.suites.add(gx.ExpectationSuite(name=_suite_name(dataset), expectations=expectations))
    definition = context.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=suite))
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"validate_{name}",
            validation_definitions=[definition],
            actions=[gx.checkpoint.UpdateDataDocsAction(name="update_data_docs", site_names=[_DOCS_SITE])],
            result_format="SUMMARY",
        )
    )
    result = checkpoint.run(batch_parameters={"dataframe": frame})
    (validation,) = result.run_results.values()
    return {
        "dataset": dataset,
        "suite": suite.name,
        "success": bool(validation.success),
        "expectations": [_summarize_expectation(outcome.to_json_dict()) for outcome in validation.results],
    }


def _suite_name(dataset: str) -> str:
    return f"{dataset.replace(' ', '_')}_plausibility"


def _summarize_expectation(outcome: dict[str, Any]) -> dict[str, Any]:
    config = outcome["expectation_config"]
    kwargs = {key: value for key, value in config["kwargs"].items() if key not in ("batch_id", "column")}
    result = outcome.get("result") or {}
    return {
        "expectation": config["type"],
        "column": config["kwargs"].get("column", WHOLE_TABLE),
        "success": bool(outcome["success"]),
        "kwargs": kwargs,
        "observed": result.get("observed_value"),
        "unexpected_count": result.get("unexpected_count"),
        "unexpected_examples": (result.get("partial_unexpected_list") or [])[:_SUMMARY_EXAMPLES],
        "error": _exception_message(outcome.get("exception_info") or {}),
    }


def _exception_message(info: dict[str, Any]) -> str | None:
    """GX reports an errored expectation's exception either flat or keyed by the failing metric."""
    details = [info] if "exception_message" in info else [value for value in info.values() if isinstance(value, dict)]
    messages = [detail["exception_message"] for detail in details if detail.get("exception_message")]
    return "; ".join(dict.fromkeys(messages)) or None


def _read_site(docs_folder: Path) -> dict[str, str]:
    return {
        path.relative_to(docs_folder).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(docs_folder.rglob("*"))
        if path.is_file() and path.suffix in _SITE_TEXT_SUFFIXES
    }
