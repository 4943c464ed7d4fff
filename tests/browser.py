"""Headless Chromium (Debian's package) for tests that look at a page as a person would."""

from __future__ import annotations

import shutil
import subprocess

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="needs headless Chromium: apt-get install chromium"
)
HEADLESS = [
    "--headless",
    "--no-sandbox",  # tests run as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # nothing from outside, whatever the network
    "--virtual-time-budget=15000",  # let the page's scripts run (fetch, render) before the dump
]


def browse(url: str, *args: str) -> str:
    """What Chromium prints for ``url`` (with ``--dump-dom``: the DOM after the scripts ran)."""
    assert CHROMIUM is not None
    done = subprocess.run(
        [CHROMIUM, *HEADLESS, *args, url], capture_output=True, text=True, timeout=120, check=True
    )
    return done.stdout
