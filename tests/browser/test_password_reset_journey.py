"""Email journeys on the demo school with a real SMTP server: a parent who forgot their
password asks for a link, reads it in the email that arrived, chooses a new password and signs
in with it; a parent turns class stories to the daily round-up and keeps messages at once,
then gets the message's email now and finds the story waiting for the round-up."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Browser, expect
from schoolgate_kit.testing.smtp import LoopbackSmtp

from ..conftest import start_demo, until  # type: ignore[import-not-found]
from .steps import assert_accessible, new_phone, sign_in  # type: ignore[import-not-found]

pytestmark = pytest.mark.browser
PARENT = "parent3@demo.school"  # Sam's parent, in the demo
ADAS_PARENT = ("parent@demo.school", "demo-parent-pass")
TEACHER = {"email": "teacher@demo.school", "password": "demo-teacher-pass"}
LEADER = {"email": "leader@demo.school", "password": "demo-leader-pass"}
SCHOOL = "demo-school"


@pytest.fixture(scope="module")
def school_with_mail(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, LoopbackSmtp]]:
    with LoopbackSmtp.running() as mail:
        base, proc = start_demo(
            tmp_path_factory.mktemp("mail"), env={"SCHOOLGATE_SMTP_URL": mail.url}
        )
        try:
            yield base, mail
        finally:
            proc.stop()


async def test_a_parent_resets_a_forgotten_password(
    school_with_mail: tuple[str, LoopbackSmtp], browser: Browser
) -> None:
    base, mail = school_with_mail
    parent = await new_phone(browser)
    await parent.goto(base)
    await parent.get_by_role("link", name="Forgot your password?").click()
    await expect(parent.get_by_role("heading", level=1, name="Forgotten password")).to_be_visible()
    await assert_accessible(parent)
    await parent.get_by_label("Email").fill(PARENT)
    await parent.get_by_role("button", name="Send me a link").click()
    await expect(parent.locator(".done")).to_contain_text("If an account uses this email")

    def links() -> list[str]:
        # the demo family had other emails before (being linked to their child)
        return [t for m in mail.to(PARENT) for t in re.findall(r"#reset=([\w-]+)", m.body("plain"))]

    await until(links, within=20, why="the reset email")
    token = links()[-1]
    await parent.goto(f"{base}/#reset={token}")
    await expect(
        parent.get_by_role("heading", level=1, name="Choose a new password")
    ).to_be_visible()
    await assert_accessible(parent)
    await parent.get_by_label("New password", exact=True).fill("a brand new pass phrase")
    await parent.get_by_label("Type the password again").fill("a brand new pass phrase")
    await parent.get_by_role("button", name="Save my new password").click()
    await expect(parent.locator("#status")).to_contain_text("Sign in with it now")
    await expect(parent.get_by_role("button", name="Sign in")).to_be_visible()

    await sign_in(parent, base, PARENT, "a brand new pass phrase")
    # the link has done its work
    await parent.goto(f"{base}/#reset={token}")
    await expect(parent.get_by_text("This link has been used")).to_be_visible()


async def test_a_parent_chooses_the_round_up_for_stories_and_messages_at_once(
    school_with_mail: tuple[str, LoopbackSmtp], browser: Browser
) -> None:
    base, mail = school_with_mail
    parent = await new_phone(browser)
    await sign_in(parent, base, *ADAS_PARENT)
    await parent.get_by_role("navigation").get_by_role("link", name="Notifications").click()
    await parent.get_by_role("link", name="Choose what you hear about, and how").click()
    await expect(
        parent.get_by_role("heading", level=1, name="How you hear from school")
    ).to_be_visible()
    await assert_accessible(parent)
    await parent.get_by_label("Class stories: By email").select_option(
        label="In the daily round-up"
    )
    await parent.get_by_label("Messages: By email").select_option(label="At once")
    await expect(parent.get_by_label("Safety notices: By email")).to_have_count(0)  # locked
    await parent.get_by_role("button", name="Save my choices").click()
    await expect(parent.locator("#status")).to_contain_text("Your choices are saved")

    async with (
        httpx.AsyncClient(base_url=base, timeout=20) as teacher,
        httpx.AsyncClient(base_url=base, timeout=20) as leader,
    ):
        assert (await teacher.post("/api/session", json=TEACHER)).status_code == 200
        assert (await leader.post("/api/session", json=LEADER)).status_code == 200
        me = (await teacher.get("/api/me")).json()
        oak = next(c for c, name in me["classes"].items() if name == "Oak")
        pupils = (await leader.get(f"/api/roster/schools/{SCHOOL}/pupils")).json()
        ada = next(p["pupil_id"] for p in pupils if p["first_name"] == "Ada")
        posted = await teacher.post(
            f"/api/stories/schools/{SCHOOL}/posts",
            json={"audience": {"kind": "classes", "class_ids": [oak]}, "text": "Bean planting"},
        )
        assert posted.status_code == 201, posted.text
        sent = await teacher.post(
            f"/api/messaging/schools/{SCHOOL}/conversations",
            json={"pupil_id": ada, "text": "Ada read beautifully today"},
        )
        assert sent.status_code == 201, sent.text

        def subjects() -> list[str]:
            return [str(m.message["Subject"]) for m in mail.to("parent@demo.school")]

        await until(
            lambda: "Message from Ms Oak about Ada" in subjects(), within=20, why="the message"
        )
        # the story waits for the evening round-up: the school's support view says so
        consent = await leader.get(f"/api/consent/schools/{SCHOOL}/pupils/{ada}/consent")
        assert consent.status_code == 200, consent.text
        guardians = [g["parent_id"] for g in consent.json()["guardians"]]
        centre = f"/api/notifications/schools/{SCHOOL}/notifications"

        async def waiting_for_the_round_up() -> bool:
            for parent_id in guardians:
                seen = await leader.get(f"{centre}/sent", params={"person": f"parent:{parent_id}"})
                assert seen.status_code == 200, seen.text
                if any(w["route"] == "digest" for w in seen.json()["waiting"]):
                    return True
            return False

        await until(waiting_for_the_round_up, within=20, why="the story filed for the round-up")
        assert "New story for Oak" not in subjects()

    # and in the app, both are there at once
    await parent.get_by_role("navigation").get_by_role("link", name="Notifications").click()
    await expect(parent.get_by_text("New story for Oak")).to_be_visible()
    await expect(parent.get_by_text("Message from Ms Oak about Ada")).to_be_visible()
    await assert_accessible(parent)


async def test_a_leader_sets_the_round_up_and_sends_an_emergency_notice(
    school_with_mail: tuple[str, LoopbackSmtp], browser: Browser
) -> None:
    base, mail = school_with_mail
    leader = await new_phone(browser)
    await sign_in(leader, base, LEADER["email"], LEADER["password"])
    await leader.goto(f"{base}/#school-notifications")
    await expect(
        leader.get_by_role("heading", level=1, name="School notifications")
    ).to_be_visible()
    await assert_accessible(leader)
    await leader.get_by_label("The daily round-up goes at").fill("18:15")
    await leader.get_by_role("button", name="Save the time").click()
    await expect(leader.locator("#status")).to_contain_text("18:15")
    await leader.get_by_label("What families need to know").fill(
        "Snow: the school is closed today."
    )
    await leader.get_by_role("button", name="Send to every family now").click()
    # the browser itself asks for the confirmation first
    await leader.get_by_label("I understand this reaches every family now").check()
    await leader.get_by_role("button", name="Send to every family now").click()
    await expect(leader.locator("#status")).to_contain_text("Every family is being told now")

    def urgent() -> list[str]:
        return [
            m.body("plain")
            for m in mail.to("parent2@demo.school")
            if m.message["Subject"] == "Demo Primary School: urgent"
        ]

    await until(urgent, within=20, why="the emergency email")
    assert "Snow: the school is closed today." in urgent()[0]
