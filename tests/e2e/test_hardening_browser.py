"""The web app lives within its Content-Security-Policy: every page of every role opens in a
real Chromium without one violation (no inline script or style, nothing from elsewhere)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
ACCOUNTS = {
    "teacher": ("teacher@demo.school", "demo-teacher-pass"),
    "leader": ("leader@demo.school", "demo-leader-pass"),
    "office": ("office@demo.school", "demo-office-pass"),
    "parent": ("parent@demo.school", "demo-parent-pass"),
}
# Before any of the page's own scripts: every violation the browser reports, kept on window.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${where}`);
});
"""


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.fail("Chromium is missing: make test installs Debian's chromium package")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        await browser.close()


async def violations(page: Page) -> list[str]:
    found: list[str] = await page.evaluate("window.cspViolations")
    return found


@pytest.mark.parametrize("role", sorted(ACCOUNTS))
async def test_every_page_opens_without_breaking_the_content_security_policy(
    embedded: str, browser: Browser, role: str
) -> None:
    context = await browser.new_context()
    await context.add_init_script(RECORD_VIOLATIONS)
    page = await context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    response = await page.goto(embedded)
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    email, password = ACCOUNTS[role]
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert await violations(page) == []
    links = page.get_by_role("navigation").get_by_role("link")
    names = [name.strip() for name in await links.all_inner_texts()]
    for name in names:
        await links.filter(has_text=name).first.click()
        await page.wait_for_load_state("networkidle")
        assert await violations(page) == [], f"{role} on {name}"
    assert not [m for m in console if "Content Security Policy" in m], console
    await context.close()
