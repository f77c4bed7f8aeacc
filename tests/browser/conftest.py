"""Real-browser journeys: Debian's Chromium driven by Playwright, pages checked by axe-core."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
HAVE_AXE = AXE.exists()
# The machine has no internet: keep Chromium from trying to reach Google's services.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.fail("Chromium is missing: make test installs Debian's chromium package")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        await browser.close()


async def _phone(browser: Browser) -> Page:
    """A fresh phone-sized browser context: parents use Schoolgate on their phones."""
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    return await context.new_page()


@pytest.fixture
async def phone(browser: Browser) -> Page:
    return await _phone(browser)


@pytest.fixture
async def other_phone(browser: Browser) -> Page:
    return await _phone(browser)


async def accessibility_problems(page: Page) -> list[dict[str, Any]]:
    """Serious or critical axe-core violations on the page as it is now."""
    if not HAVE_AXE:
        pytest.fail("axe-core is missing: make test runs npm ci in tests/browser")
    # evaluated from outside the page: the app's Content-Security-Policy (script-src 'self')
    # rightly refuses an inline <script>, and the journeys run with that policy on
    await page.evaluate(AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = await page.evaluate("async () => await axe.run(document)")
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
