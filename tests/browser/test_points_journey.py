"""A teacher awards a point on their phone; the parent sees it in this week's total."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from .steps import assert_accessible, sign_in  # type: ignore[import-not-found]

pytestmark = pytest.mark.browser


async def test_a_teacher_awards_a_point_and_the_parent_sees_it(
    embedded: str, ids: dict[str, str], phone: Page, other_phone: Page
) -> None:
    parent = other_phone
    await parent.goto(embedded)
    await expect(parent.get_by_label("Email")).to_be_visible()
    await assert_accessible(parent)
    await sign_in(parent, embedded, "parent@demo.school", "demo-parent-pass")
    total = parent.locator(f'.total[data-pupil="{ids["ada"]}"]')
    await expect(total).to_be_visible()
    before = int(await total.inner_text())
    await assert_accessible(parent)

    teacher = phone
    await sign_in(teacher, embedded, "teacher@demo.school", "demo-teacher-pass")
    await expect(teacher.get_by_role("heading", name="Award points")).to_be_visible()
    await teacher.get_by_label("Effort").check()
    await teacher.get_by_role("button", name="Ada").click()
    await expect(teacher.get_by_role("status")).to_have_text("Ada got a point for Effort.")
    await assert_accessible(teacher)

    for _ in range(20):  # the weekly total is a projection: it may lag the award a moment
        await parent.get_by_role("button", name="Check again").click()
        await expect(parent.get_by_role("status")).to_have_text("Updated just now.")
        if await total.inner_text() == str(before + 1):
            break
        await parent.wait_for_timeout(250)
    await expect(total).to_have_text(str(before + 1))
    await expect(parent.get_by_text("Effort")).to_be_visible()


async def test_the_sign_in_form_works_from_the_keyboard(embedded: str, phone: Page) -> None:
    await phone.goto(embedded)
    await phone.get_by_label("Email").focus()
    await phone.keyboard.type("teacher@demo.school")
    await phone.keyboard.press("Tab")
    await phone.keyboard.type("demo-teacher-pass")
    await phone.keyboard.press("Enter")
    await expect(phone.get_by_role("heading", name="Award points")).to_be_visible()
    # Each child's picture is a button a keyboard reaches and presses.
    await phone.get_by_role("button", name="Ben").focus()
    await phone.keyboard.press("Enter")
    await expect(phone.get_by_role("status")).to_have_text("Ben got a point for Kindness.")
