"""A head teacher opens a real school from the printed link; a member of the office turns on
two-step sign-in and then signs in with a code; anyone signs out everywhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest
from playwright.async_api import Browser, expect

from ..conftest import Process, start_embedded  # type: ignore[import-not-found]
from .steps import assert_accessible, open_page, sign_in  # type: ignore[import-not-found]

pytestmark = pytest.mark.browser
OFFICE = ("office@demo.school", "demo-office-pass")


@pytest.fixture
def fresh_school(tmp_path: Path) -> Iterator[tuple[str, Process]]:
    base, proc = start_embedded(tmp_path, demo=False)
    yield base, proc
    proc.stop()


async def test_a_head_teacher_opens_the_school_from_the_printed_link(
    fresh_school: tuple[str, Process], browser: Browser
) -> None:
    base, proc = fresh_school
    token = re.findall(r"/#open=(\S+)", proc.log_path.read_text())[-1]
    head = await browser.new_page()
    await head.goto(f"{base}/#open={token}")
    await expect(head.get_by_role("heading", level=1, name="Open your school")).to_be_visible()
    await assert_accessible(head)
    await head.get_by_label("School name").fill("Elm Road Primary School")
    await head.get_by_label("The school day starts at").fill("08:30")
    await head.get_by_label("and ends at").fill("15:15")
    await head.get_by_label("Your name").fill("Mrs Okafor")
    await head.get_by_label("Your email").fill("head@elmroad.example")
    await head.get_by_label("Password", exact=True).fill("a long pass phrase")
    await head.get_by_label("Type the password again").fill("a long pass phrase")
    await head.get_by_role("button", name="Open our school").click()
    await expect(head.get_by_role("button", name="Sign out")).to_be_visible()
    await expect(head.locator("#school-name")).to_contain_text("Elm Road Primary School")
    await expect(head.locator("#who")).to_contain_text("Mrs Okafor")
    # the link has done its work
    again = await browser.new_page()
    await again.goto(f"{base}/#open={token}")
    await again.get_by_label("School name").fill("Another")
    await again.get_by_label("Your name").fill("Someone")
    await again.get_by_label("Your email").fill("someone@else.example")
    await again.get_by_label("Password", exact=True).fill("a long pass phrase")
    await again.get_by_label("Type the password again").fill("a long pass phrase")
    await again.get_by_role("button", name="Open our school").click()
    await expect(again.locator("#alert")).to_contain_text("used or has expired")


async def test_the_office_turns_on_two_step_sign_in_and_then_needs_a_code(
    embedded: str, browser: Browser
) -> None:
    office = await browser.new_page()
    await sign_in(office, embedded, *OFFICE)
    await open_page(office, "Your account")
    await assert_accessible(office)
    await office.get_by_role("button", name="Turn on two-step sign-in").click()
    key = (await office.get_by_text(re.compile(r"^Key: ")).inner_text()).removeprefix("Key: ")
    await office.get_by_label("The code your app shows now").fill(pyotp.TOTP(key).now())
    await office.get_by_role("button", name="Turn it on").click()
    await expect(office.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    recovery = (await office.locator(".codes li").all_inner_texts())[0]
    await assert_accessible(office)

    later = await browser.new_page()
    await later.goto(embedded)
    await later.get_by_label("Email").fill(OFFICE[0])
    await later.get_by_label("Password").fill(OFFICE[1])
    await later.get_by_role("button", name="Sign in").click()
    await later.get_by_label("Code from your authenticator app").fill(recovery)
    await later.get_by_role("button", name="Sign in").click()
    await expect(later.get_by_role("button", name="Sign out")).to_be_visible()

    # signing out everywhere ends the first browser's session too
    await open_page(later, "Your account")
    await later.get_by_role("button", name="Sign out everywhere").click()
    await expect(later.get_by_label("Email")).to_be_visible()
    await office.reload()
    await expect(office.get_by_label("Email")).to_be_visible()


async def test_a_leader_sees_every_invite_and_who_joined(embedded: str, browser: Browser) -> None:
    leader = await browser.new_page()
    await sign_in(leader, embedded, "leader@demo.school", "demo-leader-pass")
    await open_page(leader, "Invites and new guardians")
    # the demo's three families joined with letters the head teacher made
    await expect(
        leader.get_by_text(re.compile("joined as a parent or carer of Ada"))
    ).to_be_visible()
    rows = leader.locator("tbody tr")
    await expect(
        rows.filter(has_text="Mr Ash").filter(has_text="made an invite letter")
    ).to_have_count(3)
    await expect(rows.filter(has_text="joined with the code")).to_have_count(3)
    await assert_accessible(leader)


async def test_without_a_mail_server_a_forgotten_password_is_for_the_school_office(
    embedded: str, browser: Browser
) -> None:
    page = await browser.new_page()
    await page.goto(embedded)
    await page.get_by_role("link", name="Forgot your password?").click()
    await expect(page.get_by_role("heading", level=1, name="Forgotten password")).to_be_visible()
    await expect(page.get_by_text("cannot send email")).to_be_visible()
    await expect(page.get_by_text("Please ask the school office")).to_be_visible()
    await expect(page.get_by_label("Email")).to_have_count(0)
    await assert_accessible(page)
