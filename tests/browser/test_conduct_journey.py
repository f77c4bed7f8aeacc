"""When the school changes its code of conduct, a parent is asked to agree again."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from .steps import assert_accessible, caught_up, sign_in  # type: ignore[import-not-found]

pytestmark = pytest.mark.browser


async def test_a_changed_code_of_conduct_is_shown_until_the_parent_agrees(
    embedded: str, phone: Page, other_phone: Page
) -> None:
    leader = other_phone
    await sign_in(leader, embedded, "leader@demo.school", "demo-leader-pass")
    changed = await leader.request.put(
        f"{embedded}/api/consent/schools/demo-school/code-of-conduct",
        data={"text": "We are kind to everyone.\n\nWe never share photos of other children."},
    )
    assert changed.ok, await changed.text()
    await caught_up(leader, embedded, changed)  # the parent's next sign-in reads it

    parent = phone
    await sign_in(parent, embedded, "parent@demo.school", "demo-parent-pass")
    notice = parent.get_by_role("heading", name="The school's code of conduct has changed")
    await expect(notice).to_be_visible()
    await expect(parent.get_by_text("We never share photos of other children.")).to_be_visible()
    await assert_accessible(parent)
    await parent.get_by_label("I have read the new code of conduct and I agree to it").check()
    await parent.get_by_role("button", name="Agree").click()
    await expect(notice).to_have_count(0, timeout=10_000)
    await expect(parent.get_by_text("Ada", exact=True)).to_be_visible()
