"""Steps the browser journeys share: signing in, issuing an invite letter, a parent joining."""

from __future__ import annotations

import re

from playwright.async_api import APIResponse, Browser, Page, expect
from schoolgate_kit.testing.waiting import GATEWAY_CAUGHT_UP_PATH

from .conftest import accessibility_problems  # type: ignore[import-not-found]

CONDUCT = "I have read the code of conduct and I agree to it"


async def assert_accessible(page: Page) -> None:
    problems = await accessibility_problems(page)
    assert problems == [], f"{page.url}: {problems}"


async def new_phone(browser: Browser) -> Page:
    """One more phone (a fresh cookie jar) for journeys with more than two people."""
    context = await browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    return await context.new_page()


async def sign_in(page: Page, base: str, email: str, password: str) -> None:
    await page.goto(base)
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def open_page(page: Page, name: str) -> None:
    """Follow a link in the staff menu and wait for its heading."""
    await page.get_by_role("navigation").get_by_role("link", name=name).click()
    await expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()


async def issue_invite(leader: Page, pupil_label: str) -> None:
    """On the invite letters page: make a letter for the pupil with this full name."""
    await leader.get_by_label("Pupil").select_option(label=pupil_label)
    await leader.get_by_role("button", name="Make an invite letter").click()
    await expect(
        leader.get_by_role("heading", name=f"Invite for a parent or carer of {pupil_label}")
    ).to_be_visible()


async def code_on_screen(leader: Page) -> str:
    return (await leader.locator(".invite-code").inner_text()).strip()


async def open_letter(leader: Page) -> Page:
    """Open the printable letter (it opens in a new tab) and check it has a code and a QR."""
    async with leader.context.expect_page() as opened:
        await leader.get_by_role("link", name=re.compile("Open the letter to print")).click()
    letter = await opened.value
    await letter.wait_for_load_state()
    await expect(letter.get_by_role("heading", name="Join Schoolgate")).to_be_visible()
    await expect(letter.locator("svg").first).to_be_visible()
    return letter


async def code_in_letter(letter: Page) -> str:
    code = (await letter.locator(".code").inner_text()).strip()
    assert re.fullmatch(r"[A-Z0-9]{5}-[A-Z0-9]{5}", code), code
    return code


async def open_join_link(page: Page, base: str, code: str) -> None:
    """Open the link a letter's QR code holds (the letter names the school's public address)."""
    url = f"{base}/join?code={code}"
    response = await page.goto(url)
    assert response is not None and response.ok, (
        f"{url} answered {response and response.status}: the gateway must serve the app there"
    )


async def join(
    parent: Page, base: str, code: str, *, name: str, email: str, check: bool = True
) -> None:
    """A new parent opens the letter's link, creates an account and accepts the rules."""
    await open_join_link(parent, base, code.replace("-", ""))
    await expect(parent.get_by_label("Code from the letter")).to_have_value(code)
    if check:
        await assert_accessible(parent)
    await parent.get_by_label("Your name").fill(name)
    await parent.get_by_label("Email").fill(email)
    await parent.get_by_label("Password").fill("correct horse battery")
    await parent.get_by_role("button", name="Create account and join").click()
    await expect(parent.get_by_role("heading", name="The school's code of conduct")).to_be_visible()
    if check:
        await assert_accessible(parent)
    await parent.get_by_label(CONDUCT).check()
    await parent.get_by_role("button", name="Agree and continue").click()


async def sees_child(parent: Page, child: str, tries: int = 20) -> None:
    """The parent's page shows the child, pressing "Check again" while the school catches up."""
    heading = parent.get_by_role("heading", level=2, name=child, exact=True)
    await expect(parent.get_by_role("button", name="Check again")).to_be_visible()
    for _ in range(tries):
        if await heading.count():
            break
        await parent.get_by_role("button", name="Check again").click()
        await expect(parent.get_by_role("button", name="Check again")).to_be_enabled()
        await parent.wait_for_timeout(250)
    await expect(heading).to_be_visible()


async def caught_up(page: Page, base: str, written: APIResponse | int) -> None:
    """Wait until every read the school answers from (the gateway's and each service's)
    shows a write: the answer that made it, or its log position."""
    position = written if isinstance(written, int) else written.headers["x-schoolgate-position"]
    answer = await page.request.get(f"{base}{GATEWAY_CAUGHT_UP_PATH}?position={position}")
    assert answer.ok, await answer.text()
