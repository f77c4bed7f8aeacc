"""Families join with the code from a printed letter; a third guardian waits for a leader."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from .steps import (  # type: ignore[import-not-found]
    assert_accessible,
    code_in_letter,
    code_on_screen,
    issue_invite,
    join,
    new_phone,
    open_join_link,
    open_letter,
    open_page,
    sees_child,
    sign_in,
)

pytestmark = pytest.mark.browser
LEADER = ("leader@demo.school", "demo-leader-pass")


async def test_a_parent_joins_with_the_code_from_a_letter_and_sees_their_child(
    embedded: str, ids: dict[str, str], browser: Browser, phone: Page
) -> None:
    leader = await browser.new_page()
    await sign_in(leader, embedded, *LEADER)
    await open_page(leader, "Invite letters")
    await assert_accessible(leader)
    await issue_invite(leader, "Ben Okri")
    await assert_accessible(leader)
    letter = await open_letter(leader)
    await assert_accessible(letter)
    code = await code_in_letter(letter)

    parent = phone
    await join(parent, embedded, code, name="Bola Okri", email="bola@example.org")
    await expect(parent.get_by_role("status")).to_have_text("You are now connected to Ben.")
    await expect(parent.get_by_role("heading", level=2, name="Ben")).to_be_visible()
    await expect(parent.locator(f'.total[data-pupil="{ids["ben"]}"]')).to_have_text("0")
    await assert_accessible(parent)


async def test_a_used_or_wrong_code_makes_no_account_and_a_taken_email_is_explained(
    embedded: str, browser: Browser, phone: Page, other_phone: Page
) -> None:
    leader = await browser.new_page()
    await sign_in(leader, embedded, *LEADER)
    await open_page(leader, "Invite letters")
    await issue_invite(leader, "Eve Jones")
    code = await code_on_screen(leader)
    await join(phone, embedded, code, name="Efe Jones", email="efe@example.org", check=False)
    await sees_child(phone, "Eve")

    # Someone else types a new email and the already used code, then a mistyped one.
    await open_join_link(other_phone, embedded, code)
    for typed in (code, "ZZZZZ-99999"):
        await other_phone.get_by_label("Code from the letter").fill(typed)
        await other_phone.get_by_label("Your name").fill("Someone")
        await other_phone.get_by_label("Email").fill("someone@example.org")
        await other_phone.get_by_label("Password").fill("another long password")
        await other_phone.get_by_role("button", name="Create account and join").click()
        await expect(other_phone.get_by_role("alert")).to_contain_text("That code is not valid")
        await expect(other_phone.get_by_role("heading", name="Create your account")).to_be_visible()
        await assert_accessible(other_phone)
    # No account was made: nobody is signed in, and the password opens nothing.
    assert (await other_phone.request.get(f"{embedded}/api/me")).status == 401
    signing_in = {"email": "someone@example.org", "password": "another long password"}
    tried = await other_phone.request.post(f"{embedded}/api/session", data=signing_in)
    assert tried.status == 401

    # With a working code and an email that already has an account: sign in instead.
    await issue_invite(leader, "Isla Wood")
    fresh = await code_on_screen(leader)
    await other_phone.get_by_label("Code from the letter").fill(fresh)
    await other_phone.get_by_label("Email").fill("efe@example.org")
    await other_phone.get_by_role("button", name="Create account and join").click()
    await expect(other_phone.get_by_role("alert")).to_contain_text("Please sign in instead")
    await expect(other_phone.get_by_role("heading", name="Sign in to join")).to_be_visible()


async def test_a_third_guardian_waits_for_a_leader_to_approve(
    embedded: str, browser: Browser, phone: Page, other_phone: Page
) -> None:
    leader = await browser.new_page()
    await sign_in(leader, embedded, *LEADER)
    await open_page(leader, "Invite letters")
    codes = []
    for _ in range(3):
        await issue_invite(leader, "Cara Diaz")
        codes.append(await code_on_screen(leader))

    for n, (parent, code) in enumerate(zip((phone, other_phone), codes[:2], strict=True)):
        await join(parent, embedded, code, name=f"Carer {n}", email=f"cara{n}@example.org")
        await sees_child(parent, "Cara")

    third = await new_phone(browser)
    await join(third, embedded, codes[2], name="Carer 3", email="cara3@example.org", check=False)
    await expect(
        third.get_by_role("heading", name="Thank you. The school will check this")
    ).to_be_visible()
    await assert_accessible(third)
    await third.get_by_role("button", name="Go to my page").click()
    await expect(third.get_by_role("heading", name="Waiting for the school")).to_be_visible()
    await assert_accessible(third)

    await open_page(leader, "Join requests")
    request = leader.get_by_role("article", name="Request to join for Cara Diaz")
    await expect(request).to_be_visible()
    await assert_accessible(leader)
    await request.get_by_label("Reason").fill("Cara's grandmother collects her every day.")
    await request.get_by_role("button", name="Approve").click()
    await expect(leader.get_by_role("status")).to_have_text("Approved. They can now see Cara Diaz.")
    await expect(leader.get_by_text("No requests are waiting.")).to_be_visible()

    await sees_child(third, "Cara")
    await expect(third.get_by_role("heading", name="Waiting for the school")).to_have_count(0)
    await assert_accessible(third)


async def test_a_parent_renames_changes_password_and_signs_out_everywhere(
    embedded: str, phone: Page, other_phone: Page
) -> None:
    email, password, new_password = "kemi@example.org", "kemi's first password", "kemi's new one!"
    made = await phone.request.post(
        f"{embedded}/api/join/account",
        data={"email": email, "password": password, "display_name": "Kemi"},
    )
    assert made.status == 202, await made.text()
    laptop = other_phone
    for device in (phone, laptop):
        await sign_in(device, embedded, email, password)
    await open_page(phone, "Your account")
    await assert_accessible(phone)

    await phone.get_by_label("Your name").fill("Kemi Adeyemi")
    await phone.get_by_role("button", name="Save name").click()
    await expect(phone.get_by_role("status")).to_have_text(
        "Saved. The school sees your name as Kemi Adeyemi."
    )
    await expect(phone.get_by_label("Language")).to_have_value("en")

    # the old password first; a wrong one changes nothing
    await phone.get_by_label("Current password").fill("not my password")
    await phone.get_by_label("New password").fill(new_password)
    await phone.get_by_role("button", name="Change password").click()
    await expect(phone.get_by_role("alert")).to_contain_text("Please type your password again")
    await phone.get_by_label("Current password").fill(password)
    await phone.get_by_role("button", name="Change password").click()
    await expect(phone.get_by_role("status")).to_contain_text("Your password is changed.")
    await assert_accessible(phone)
    widths = await phone.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide on a {widths[1]} px phone"

    # the laptop was signed out by the new password; signed in again, then out everywhere
    await laptop.reload()
    await expect(laptop.get_by_role("button", name="Sign in")).to_be_visible()
    await sign_in(laptop, embedded, email, new_password)
    await phone.get_by_role("button", name="Sign out everywhere").click()
    await expect(phone.get_by_role("button", name="Sign in")).to_be_visible()
    await laptop.reload()
    await expect(laptop.get_by_role("button", name="Sign in")).to_be_visible()
