"""A pupil signs in the classroom way (class code, then their picture) and sees their points."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from .steps import assert_accessible, open_page, sign_in  # type: ignore[import-not-found]

pytestmark = pytest.mark.browser


async def test_a_pupil_signs_in_with_the_class_code_and_their_picture(
    embedded: str, ids: dict[str, str], phone: Page, browser: Browser
) -> None:
    teacher = phone
    await sign_in(teacher, embedded, "teacher@demo.school", "demo-teacher-pass")
    await teacher.get_by_label("Teamwork").check()
    await teacher.get_by_role("button", name="Sam K.").click()
    await expect(teacher.get_by_role("status")).to_have_text("Sam K. got a point for Teamwork.")
    await open_page(teacher, "Class code")
    await teacher.get_by_role("button", name="Show a class code").click()
    code = (await teacher.locator("#class-code").inner_text()).strip()
    assert len(code) == 6
    await assert_accessible(teacher)

    tablet = await browser.new_page(viewport={"width": 800, "height": 1100}, has_touch=True)
    await tablet.goto(embedded)
    await tablet.get_by_role("link", name="Pupils: sign in with your class code").click()
    await tablet.get_by_label("Class code").fill(code.lower())
    await tablet.get_by_role("button", name="Next").click()
    await expect(tablet.get_by_role("heading", name="Tap your picture")).to_be_visible()
    await expect(tablet.get_by_role("button", name="Sam L.")).to_be_visible()
    await assert_accessible(tablet)

    await tablet.get_by_role("button", name="Sam K.").click()
    await expect(tablet.get_by_role("heading", name="Hello, Sam K.!")).to_be_visible()
    total = tablet.locator(f'.total[data-pupil="{ids["sam-k"]}"]')
    for _ in range(20):  # the weekly total is a projection: it may lag the award a moment
        if await total.inner_text() == "1":
            break
        await tablet.get_by_role("button", name="Check again").click()
        await tablet.wait_for_timeout(250)
    await expect(total).to_have_text("1")
    await expect(tablet.get_by_text("Teamwork")).to_be_visible()
    await assert_accessible(tablet)

    # The next child on the same device starts from the pictures again.
    await tablet.get_by_role("button", name="Sign out").click()
    await expect(tablet.get_by_role("heading", name="Tap your picture")).to_be_visible()
