"""A self-contained HTML page over the expectation summary, the entry point of the Data Docs site.

GX's own ``index.html`` fills its tables with scripts from CDNs and marks pass / fail with a web
font, so opened from disk without network it shows empty tables and no status. This page needs
nothing but itself: every expectation with PASS / FAIL in words, and links to GX's validation
and suite pages (which are rendered server-side and read fine offline).
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from adrank_pipelines.schemas.suite_summary import format_bounds

SUMMARY_PAGE = "summary.html"
_STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:70em}"
    "table{border-collapse:collapse;margin-bottom:2em}"
    "th,td{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
    ".pass{color:#17702c}.fail{color:#b00020;font-weight:bold}.skipped{color:#8a5a00;font-weight:bold}"
)
_COLUMNS = ("status", "expectation", "column", "arguments", "observed / unexpected count", "unexpected examples")


def render_summary_page(summary: dict[str, Any], site_paths: Iterable[str]) -> str:
    paths = sorted(site_paths)
    sections = "".join(_suite_section(suite, paths) for suite in summary["suites"])
    if "skipped" in summary:
        status = "<span class='skipped'>NOT RUN</span>"
        reason = f"<p>Not run: {escape(summary['skipped'])}; the contract error of the run names the cause.</p>"
    else:
        status, reason = _status(summary["success"]), ""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>Impression log expectations</title><style>{_STYLE}</style></head><body>"
        f"<h1>Impression log expectations: {status}</h1>"
        f"{reason}{sections}</body></html>"
    )


def _status(success: bool) -> str:
    return "<span class='pass'>PASS</span>" if success else "<span class='fail'>FAIL</span>"


def _suite_section(suite: dict[str, Any], paths: list[str]) -> str:
    if suite.get("skipped"):
        return f"<h2>{escape(suite['dataset'])}: <span class='skipped'>NOT RUN</span></h2>"
    links = " | ".join(
        f"<a href='{escape(path)}'>{escape(label)}</a>"
        for label, prefix in (("validation result", "validations/"), ("expectation suite", "expectations/"))
        for path in paths
        if path.startswith(f"{prefix}{suite['suite']}")
    )
    header = "".join(f"<th>{escape(column)}</th>" for column in _COLUMNS)
    rows = "".join(_expectation_row(expectation) for expectation in suite["expectations"])
    return (
        f"<h2>{escape(suite['dataset'])}: {_status(suite['success'])}</h2>"
        f"<p>Great Expectations Data Docs: {links}</p>"
        f"<table><tr>{header}</tr>{rows}</table>"
    )


def _expectation_row(expectation: dict[str, Any]) -> str:
    observed = expectation["observed"] if expectation["observed"] is not None else expectation["unexpected_count"]
    cells = (
        expectation["expectation"],
        expectation["column"],
        format_bounds(expectation),
        "" if observed is None else observed,
        ", ".join(map(repr, expectation["unexpected_examples"])),
    )
    escaped = "".join(f"<td>{escape(str(cell))}</td>" for cell in cells)
    return f"<tr><td>{_status(expectation['success'])}</td>{escaped}</tr>"
