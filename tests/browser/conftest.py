"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by Playwright,
with a fresh profile every test and no network of its own (no updates, no sync, no QUIC).
The tests skip when the browser is absent; CI installs it (.ci/run)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

if not CHROMIUM.exists():
    pytest.skip(
        f"no browser at {CHROMIUM}: install Debian's chromium (apt-get install chromium) to run the browser tests",
        allow_module_level=True,
    )
pytest.importorskip("playwright.async_api", reason="playwright is not installed (pip install -e .[dev])")

from playwright.async_api import BrowserContext, async_playwright  # noqa: E402


@pytest.fixture
def artifacts_dir() -> Path:
    """Where screenshots are kept: BROWSER_ARTIFACTS_DIR (CI keeps it), else a temporary folder."""
    folder = Path(os.environ.get("BROWSER_ARTIFACTS_DIR") or Path(tempfile.gettempdir()) / "ediary-browser-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
async def browser_context() -> AsyncIterator[BrowserContext]:
    async with async_playwright() as p:
        with tempfile.TemporaryDirectory(prefix="ediary-chromium-") as profile:
            context = await p.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
                locale="ru-RU",
                viewport={"width": 1400, "height": 900},
            )
            try:
                yield context
            finally:
                await context.close()
