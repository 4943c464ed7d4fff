"""/docs and /redoc render in a real headless browser with no way to reach a CDN.

Chromium (Debian's package) loads the pages from a `concord serve` subprocess while every host
name but 127.0.0.1 resolves to nothing, so a page that needs an asset from outside stays blank.
"""

from __future__ import annotations

import re

import pytest
from browser import browse, needs_chromium
from serve_process import serving

pytestmark = needs_chromium


@pytest.fixture
def api(database_url, tmp_path):
    with serving(database_url, tmp_path / "serve.log") as base:
        yield base


def test_swagger_ui_at_docs_renders_every_route_without_a_cdn(api, tmp_path):
    dom = browse(f"{api}/docs", "--dump-dom")
    paths = set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom))
    summaries = set(re.findall(r'class="opblock-summary-description">([^<]+)<', dom))
    assert {"/health", "/boards", "/tasks/{task_id}/assign", "/users"} <= paths
    assert {"Create Board", "Assign Task", "Health"} <= summaries
    shot = tmp_path / "docs.png"
    browse(f"{api}/docs", f"--screenshot={shot}", "--window-size=1280,1000")
    assert shot.stat().st_size > 20_000  # a blank page compresses to a few kilobytes


def test_redoc_at_redoc_renders_the_operations_without_a_cdn(api):
    dom = browse(f"{api}/redoc", "--dump-dom")
    assert "Download OpenAPI specification" in dom
    assert re.search(r">\s*Create Board\s*<", dom)
    assert re.search(r">\s*Assign Task\s*<", dom)
