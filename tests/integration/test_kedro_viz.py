"""`kedro viz build` writes a static site that renders every registered pipeline, with its layers, in Chromium.

The browser is Debian's `chromium` driven by Playwright through `executable_path` (no browser download).
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project
from playwright.sync_api import Page, expect, sync_playwright

from tests.integration.test_catalog_layers import LAYER_ORDER

CHROMIUM = shutil.which("chromium")
RENDER_TIMEOUT_MS = 60_000  # two shared cores: parsing the 5 MB bundle and laying out the graph can be slow

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH (Debian: apt-get install chromium)"),
]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def built_site(project_copy: Path) -> Path:
    """Runs the user's command; kedro-viz always writes to `build/` under the project and exits 0 even on failure."""
    result = subprocess.run(
        [sys.executable, "-m", "kedro", "viz", "build"], cwd=project_copy, capture_output=True, text=True, timeout=300
    )
    site = project_copy / "build"
    built = result.returncode == 0 and (site / "index.html").is_file() and (site / "api" / "main").is_file()
    assert built, f"kedro viz build failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return site


@pytest.fixture
def site_url(built_site: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(built_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _registered_pipeline_names(project: Path) -> list[str]:
    bootstrap_project(project)
    return sorted(pipelines)


def _api(site: Path, endpoint: str) -> dict:
    return json.loads((site / "api" / endpoint).read_text())


def _assert_api_lists_pipelines_and_ordered_layers(site: Path, names: list[str]) -> None:
    main = _api(site, "main")
    assert {p["id"] for p in main["pipelines"]} >= set(names)
    assert main["layers"] == LAYER_ORDER
    for name in names:
        tasks = [n for n in _api(site, f"pipelines/{name}")["nodes"] if n["type"] == "task"]
        assert tasks, f"kedro-viz built no task nodes for pipeline {name!r}"


def _open_pipeline(page: Page, url: str, name: str) -> list[str]:
    """Opens one pipeline's graph and returns the labels of the nodes it drew."""
    # Each zoo model is a namespace, drawn collapsed (its datasets and their layers hidden) unless expanded.
    page.goto(f"{url}/?pid={name}&expandAllPipelines=true")
    expect(page.locator(".pipeline-list__option--active .menu-option__content")).to_have_attribute(
        "title", name, timeout=RENDER_TIMEOUT_MS
    )
    page.locator(".pipeline-flowchart__nodes g.pipeline-node").first.wait_for(timeout=RENDER_TIMEOUT_MS)
    return page.locator(".pipeline-flowchart__nodes .pipeline-node__text").all_text_contents()


def test_built_site_renders_every_pipeline_with_layers(
    project_copy: Path, built_site: Path, site_url: str, tmp_path: Path
):
    names = _registered_pipeline_names(project_copy)
    assert {"__default__", "ingest", "validate", "features", "ctr_training"} <= set(names)
    _assert_api_lists_pipelines_and_ordered_layers(built_site, names)

    screenshot = tmp_path / "kedro_viz.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1200})
            # The page links Google Fonts; a test must not depend on (or wait for) the network.
            page.route(lambda url: not url.startswith(site_url), lambda route: route.abort())
            # A first visit opens a feature tour over the graph; kedro-viz keeps that setting in localStorage.
            page.add_init_script("localStorage.setItem('KedroViz', JSON.stringify({showFeatureHints: false}))")
            # __default__ last: it must band all eight layers, and the screenshot shows the whole graph.
            for name in sorted(names, key=lambda name: name == "__default__"):
                drawn = _open_pipeline(page, site_url, name)
                api_nodes = _api(built_site, f"pipelines/{name}")["nodes"]
                assert drawn and set(drawn) <= {n["name"] for n in api_nodes}, (name, drawn)
                its_layers = [layer for layer in LAYER_ORDER if layer in {n.get("layer") for n in api_nodes}]
                bands = page.locator(".pipeline-layer-name")
                expect(bands).to_have_count(len(its_layers), timeout=RENDER_TIMEOUT_MS)
                # A stage that only reads other stages' outputs (auction_eval reads raw truth, features
                # and model inputs side by side) gives kedro-viz no order among those input layers; the
                # whole graph does, so only __default__ must band them in exactly the catalog's order.
                drawn_layers = bands.all_inner_texts()
                assert sorted(drawn_layers) == sorted(its_layers), (name, drawn_layers)
            assert drawn_layers == its_layers == LAYER_ORDER
            page.screenshot(path=screenshot)
        finally:
            browser.close()
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
