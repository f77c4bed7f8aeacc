"""A parent's abusive message is reported and a leader suspends them; a leader switches
messaging off for the whole school and families see why, until it is switched back on."""

from __future__ import annotations

import re
import time

import pytest
from playwright.async_api import Browser, expect

from .steps import assert_accessible, caught_up, new_phone, open_page, sign_in  # type: ignore[import-not-found]

pytestmark = pytest.mark.browser
LEADER = ("leader@demo.school", "demo-leader-pass")
TEACHER = ("teacher@demo.school", "demo-teacher-pass")
PARENT = ("parent@demo.school", "demo-parent-pass")
OTHER_PARENT = ("parent2@demo.school", "demo-parent2-pass")
MESSAGING = "/api/messaging/schools/demo-school"
ABUSE = "You are useless and everyone knows it. Watch yourself at pick-up."
REASON = "Rude and threatening"
NOTICE = "We have switched messages off while we fix a problem. Please phone the office."
PHONE = "01632 960123"
OFF = "Messages to the school are switched off"


async def test_a_reported_parent_is_suspended_and_messaging_can_be_switched_off(
    embedded: str, ids: dict[str, str], browser: Browser
) -> None:
    started = time.monotonic()
    parent = await new_phone(browser)
    await sign_in(parent, embedded, *PARENT)
    sent = await parent.request.post(
        f"{embedded}{MESSAGING}/conversations",
        data={"pupil_id": ids["ada"], "to": "class", "text": ABUSE},
    )
    assert sent.status == 201, await sent.text()
    message = await sent.json()
    await caught_up(parent, embedded, sent)

    # the teacher reads it in the conversation and reports it to the leaders
    teacher = await new_phone(browser)
    await sign_in(teacher, embedded, *TEACHER)
    await teacher.goto(f"{embedded}/#conversation={message['conversation_id']}")
    await expect(teacher.get_by_text(ABUSE)).to_be_visible()
    await teacher.get_by_role("button", name="Report").click()
    await teacher.get_by_label("What is wrong with this message?").fill(REASON)
    # another message arrives while the report is written: the page shows it, and the
    # report keeps what was typed
    more = await parent.request.post(
        f"{embedded}{MESSAGING}/conversations/{message['conversation_id']}/messages",
        data={"text": "And another thing."},
    )
    assert more.status == 201, await more.text()
    await expect(teacher.get_by_text("And another thing.")).to_be_visible()
    await expect(teacher.get_by_label("What is wrong with this message?")).to_have_value(REASON)
    async with teacher.expect_response(
        lambda r: r.url.endswith("/report") and r.request.method == "POST"
    ) as answer:
        await teacher.get_by_role("button", name="Send the report").click()
    reported = await answer.value
    assert reported.status == 201, await reported.text()
    await expect(teacher.get_by_text("A school leader will look at it.")).to_be_visible()
    await caught_up(teacher, embedded, reported)

    leader = await browser.new_page()
    await sign_in(leader, embedded, *LEADER)
    await expect(
        leader.locator("#view").get_by_role("link", name="Reported messages (1 to decide)")
    ).to_be_visible()
    await open_page(leader, "Reported messages")
    report = leader.get_by_role("article", name=f"“{REASON}”")
    await expect(report).to_contain_text("Reported by Ms Oak")
    await expect(report).to_contain_text("about Ada")
    await assert_accessible(leader)
    await report.get_by_role("button", name="Read and decide").click()
    await expect(leader.get_by_role("heading", name="A reported message")).to_be_focused()
    await expect(leader.locator(".report-message.reported")).to_contain_text(ABUSE)
    await expect(
        leader.get_by_role("heading", name="The whole conversation about Ada, class Oak")
    ).to_be_visible()
    await assert_accessible(leader)
    await leader.get_by_label("A note for the record (optional)").fill("Threatened Ms Oak.")
    await leader.get_by_role("button", name="Suspend the sender").click()
    await expect(leader.get_by_role("status")).to_have_text("Decision recorded: sender suspended.")
    await expect(
        leader.get_by_text("No reported message is waiting for a decision.")
    ).to_be_visible()
    decided = leader.locator(".decided li").first
    await expect(decided).to_contain_text("Decision: sender suspended")
    await expect(decided).to_contain_text("Threatened Ms Oak.")

    # the parent's open session and a new sign-in are both refused
    again = await parent.request.post(
        f"{embedded}{MESSAGING}/conversations",
        data={"pupil_id": ids["ada"], "to": "class", "text": "Hello?"},
    )
    assert again.status == 403 and "suspended" in await again.text(), await again.text()
    fresh = await new_phone(browser)
    signing_in = await fresh.request.post(
        f"{embedded}/api/session", data={"email": PARENT[0], "password": PARENT[1]}
    )
    assert signing_in.status == 403 and "suspended" in await signing_in.text()

    # the family's message still waits for a reply: counted for Oak, naming no member of staff
    await open_page(leader, "Replies waiting")
    waiting = leader.get_by_role("table", name="Families waiting for a reply")
    await expect(waiting.get_by_role("row", name="Oak")).to_have_text(re.compile(r"^Oak\s*1\s*0"))
    await expect(waiting).not_to_contain_text("Ms Oak")
    await assert_accessible(leader)

    # the kill switch: another family sees the leader's notice, then not once it is back on
    family = await new_phone(browser)
    await sign_in(family, embedded, *OTHER_PARENT)
    await open_page(leader, "Messaging settings")
    await assert_accessible(leader)
    await leader.get_by_label("The school's phone number").fill(PHONE)
    await leader.get_by_role("button", name="Save", exact=True).click()
    await expect(leader.get_by_role("status")).to_have_text(
        "Saved. The office's hours, phone number and words are updated."
    )
    await leader.get_by_label("The notice families see").fill(NOTICE)
    await leader.get_by_role("button", name="Switch messaging off").click()
    await expect(leader.get_by_role("status")).to_have_text(
        "Messaging is switched off for the whole school. Families see your notice."
    )
    await expect(leader.get_by_role("region", name=OFF)).to_contain_text(NOTICE)
    await assert_accessible(leader)
    await family.reload()
    await expect(family.get_by_role("region", name=OFF)).to_contain_text(NOTICE)
    await expect(family.get_by_role("region", name=OFF)).to_contain_text(PHONE)
    await assert_accessible(family)
    refused = await family.request.post(
        f"{embedded}{MESSAGING}/conversations",
        data={"pupil_id": ids["leo"], "to": "class", "text": "Is there swimming today?"},
    )
    assert refused.status >= 400, await refused.text()

    await leader.get_by_role("button", name="Switch back on").click()
    await expect(leader.get_by_role("status")).to_have_text(
        "Messaging is on again. Families can write to the school."
    )
    await family.reload()
    await expect(family.locator('[data-messaging="on"]')).to_be_attached()
    await expect(family.get_by_role("region", name=OFF)).to_have_count(0)

    # a story is for families: a pupil's full name is flagged before it is posted
    await open_page(leader, "Post a story")
    await leader.get_by_label("Your story").fill("Ben Okri read his poem to the class today.")
    await leader.get_by_role("button", name="Post", exact=True).click()
    await expect(leader.get_by_role("heading", name="You named Ben Okri.")).to_be_focused()
    await expect(
        leader.get_by_text("We use first names only: please change it before publishing.")
    ).to_be_visible()
    await assert_accessible(leader)
    await leader.get_by_label("Your story").fill("Ben read his poem to the class today.")
    await leader.get_by_role("button", name="Post", exact=True).click()
    await expect(leader.get_by_role("status")).to_contain_text("Your story is posted to")
    # the writer may also keep the name, openly
    await leader.get_by_label("Your story").fill("Well done to Cara Diaz, our swimmer of the year.")
    await leader.get_by_role("button", name="Post", exact=True).click()
    await leader.get_by_role("button", name="Publish anyway").click()
    await expect(leader.get_by_role("status")).to_contain_text("Your story is posted to")
    await expect(leader.get_by_label("Your story")).to_have_value("")
    print(f"journey took {time.monotonic() - started:.1f}s")
