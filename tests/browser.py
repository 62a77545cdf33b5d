"""Debian's headless Chromium for the browser tests (installed by .ci/browser.sh; Playwright's own browser
download cannot work on this machine), driven by Playwright for Python."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]  # fmt: skip
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: run .ci/browser.sh")


@contextlib.asynccontextmanager
async def chromium(launch_timeout_ms: int = 30_000) -> AsyncIterator[Any]:
    """A running headless Chromium (a Playwright Browser), closed afterwards."""
    playwright_api = pytest.importorskip("playwright.async_api")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=launch_timeout_ms)
        try:
            yield browser
        finally:
            await browser.close()
