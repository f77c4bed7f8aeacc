"""Leaders bring in the roster, print invites, record consent, and look after accounts."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from .steps import (  # type: ignore[import-not-found]
    assert_accessible,
    code_in_letter,
    issue_invite,
    open_letter,
    open_page,
    sign_in,
)

pytestmark = pytest.mark.browser
LEADER = ("leader@demo.school", "demo-leader-pass")
CATCH_UP = 40  # tries, a quarter of a second apart, while read models catch up
ROSTER = (
    b"pupil_id,first_name,surname,year_group,class\n"
    b"nia,Nia,Brown,Year 3,Oak\n"
    b"olu,Olu,Ade,Year 3,Oak\n"
    b"pip,Pip,Green,Year 4,Ash\n"
)
# Records on the page whether a <progress> bar was ever shown, however briefly.
WATCH_PROGRESS = """() => {
  window.sawProgress = false;
  new MutationObserver(() => {
    if (document.querySelector("progress")) window.sawProgress = true;
  }).observe(document.body, { childList: true, subtree: true });
}"""


async def upload(page: Page, name: str, content: bytes) -> None:
    await page.get_by_label("Roster file").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content}]
    )
    await page.get_by_role("button", name="Upload and check").click()


async def test_a_leader_imports_a_roster_then_prints_an_invite_for_a_new_pupil(
    embedded: str, browser: Browser
) -> None:
    leader = await browser.new_page()
    await sign_in(leader, embedded, *LEADER)
    await open_page(leader, "Import pupils")
    await assert_accessible(leader)

    await leader.evaluate(WATCH_PROGRESS)
    await upload(leader, "pupils.csv", ROSTER)
    # every upload is checked first: it shows what it would do and waits to be confirmed
    await expect(leader.get_by_role("heading", name="Check before importing")).to_be_visible()
    await leader.get_by_role("button", name="Import these changes").click()
    await expect(leader.get_by_role("heading", name="Import finished")).to_be_visible()
    assert await leader.evaluate("window.sawProgress"), "no progress was shown"
    report = leader.get_by_role("table", name="Pupils")
    await expect(report.get_by_role("row", name="Added 3")).to_be_visible()
    await expect(report.get_by_role("row", name="Left 0")).to_be_visible()
    await expect(leader.get_by_role("status")).to_have_text(
        "Import finished: 3 added, 0 moved, 0 left."
    )
    await assert_accessible(leader)

    await leader.get_by_role(
        "link", name="Make invite letters for the new pupils' families"
    ).click()
    await expect(leader.get_by_role("heading", level=1, name="Invite letters")).to_be_visible()
    await issue_invite(leader, "Olu Ade")
    await assert_accessible(leader)
    letter = await open_letter(leader)
    await code_in_letter(letter)
    await expect(letter.get_by_text("Olu Ade", exact=True)).to_be_visible()


async def test_a_roster_file_with_mistakes_changes_nothing_and_says_where(
    embedded: str, browser: Browser
) -> None:
    leader = await browser.new_page()
    await sign_in(leader, embedded, *LEADER)
    await open_page(leader, "Import pupils")
    await upload(
        leader,
        "pupils.csv",
        b"pupil_id,first_name,surname,year_group,class\nzed,,Zola,Year 3,Oak\n",
    )
    await expect(leader.get_by_role("heading", name="Nothing was imported")).to_be_visible()
    problems = leader.get_by_role("table", name="Problems in the file")
    await expect(
        problems.get_by_role("row", name=re.compile(r"pupils\.csv 2 .*first_name"))
    ).to_be_visible()
    await expect(leader.get_by_role("alert")).to_have_text(
        "The roster file has problems, so nothing was imported."
    )
    await assert_accessible(leader)


async def test_a_leader_records_photo_consent_and_suspends_then_restores_a_parent(
    embedded: str, browser: Browser, phone: Page
) -> None:
    leader = await browser.new_page()
    await sign_in(leader, embedded, *LEADER)
    await open_page(leader, "Photo consent")
    await leader.get_by_label("Pupil").select_option(label="Ada Lovelace")
    await leader.get_by_label("Yes, they agreed").check()
    await leader.get_by_role("button", name="Save", exact=True).click()
    await expect(leader.get_by_role("status")).to_have_text(
        "Saved: photos of Ada Lovelace are allowed."
    )
    await expect(
        leader.get_by_text("Ada Lovelace may appear in photos, stories and portfolios.")
    ).to_be_visible()
    await assert_accessible(leader)

    await open_page(leader, "Parent accounts")
    await leader.get_by_label("Pupil").select_option(label="Ada Lovelace")
    await leader.get_by_label("Reason for suspending").fill("Abusive messages to staff.")
    await leader.get_by_role("button", name="Suspend this account").click()
    await expect(leader.get_by_role("status")).to_have_text("The account is suspended.")
    await expect(leader.get_by_text("Reason: Abusive messages to staff.")).to_be_visible()
    await assert_accessible(leader)

    await phone.goto(embedded)
    await phone.get_by_label("Email").fill("parent@demo.school")
    await phone.get_by_label("Password").fill("demo-parent-pass")
    await phone.get_by_role("button", name="Sign in").click()
    await expect(phone.get_by_role("alert")).not_to_be_empty()
    await expect(phone.get_by_role("button", name="Sign out")).to_be_hidden()

    await leader.get_by_role("button", name="Lift the suspension").click()
    await expect(leader.get_by_role("status")).to_have_text(
        "The suspension is lifted. They can sign in again."
    )
    await phone.get_by_role("button", name="Sign in").click()
    await expect(phone.get_by_role("heading", level=2, name="Ada")).to_be_visible()


async def test_a_member_of_staff_chooses_a_password_with_a_set_up_link(
    embedded: str, browser: Browser, phone: Page
) -> None:
    leader = await browser.new_page()
    await sign_in(leader, embedded, *LEADER)
    added = await leader.request.post(
        f"{embedded}/api/roster/schools/demo-school/staff",
        data={"display_name": "Mr Rowan", "email": "rowan@demo.school", "role": "office"},
    )
    assert added.ok, await added.text()
    await open_page(leader, "Staff set-up links")

    # Mrs Elm has a password: a link would let whoever holds it replace hers
    await leader.get_by_role("button", name="Make a link for Mrs Elm").click()
    await expect(leader.get_by_role("alert")).to_contain_text("set a password already")
    await expect(leader.get_by_label("Link", exact=True)).to_have_count(0)

    # the new colleague shows once the roster and the gateway have caught up with them
    make = leader.get_by_role("button", name="Make a link for Mr Rowan")
    link_box = leader.get_by_label("Link", exact=True)
    for _ in range(CATCH_UP):
        if await make.count():
            await make.click()
            await expect(make).to_be_enabled()
            if await link_box.count():
                break
        await leader.wait_for_timeout(250)
        await leader.reload()
        await expect(
            leader.get_by_role("heading", level=1, name="Staff set-up links")
        ).to_be_visible()
    link = await link_box.input_value()
    await assert_accessible(leader)

    # The link names the school's public address; this test server has its own.
    token = link.split("#setup=", 1)[1]
    await phone.goto(f"{embedded}/#setup={token}")
    await expect(phone.get_by_role("heading", name="Choose your password")).to_be_visible()
    await assert_accessible(phone)
    await phone.get_by_label("New password").fill("a brand new office password")
    await phone.get_by_label("Type the password again").fill("a brand new office password")
    await phone.get_by_role("button", name="Save password and sign in").click()
    await expect(phone.get_by_role("heading", name="Hello, Mr Rowan")).to_be_visible()
    await expect(phone.get_by_role("status")).to_have_text(
        "Your password is saved. Welcome, Mr Rowan."
    )

    await phone.get_by_role("button", name="Sign out").click()
    await sign_in(phone, embedded, "rowan@demo.school", "a brand new office password")
