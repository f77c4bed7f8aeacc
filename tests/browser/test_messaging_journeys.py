"""Messages between home and school, on a school clock the test moves: a parent writing at
night is told when a reply can come and sees "Read" only once school has opened; a message
about an absence is steered to the office's absence form, which the office records; a class
announcement reaches every family and each reply stays private with the teacher."""

from __future__ import annotations

import asyncio
import io
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from PIL import Image
from playwright.async_api import Browser, Page, expect
from schoolgate_embedded.app import EmbeddedSettings, create_app
from schoolgate_kit.keys import with_data_dir_secrets

from .steps import assert_accessible, caught_up, new_phone, open_page, sign_in  # type: ignore[import-not-found]

pytestmark = pytest.mark.browser
TEACHER = ("teacher@demo.school", "demo-teacher-pass")  # Ms Oak, class Oak (demo.py)
OFFICE = ("office@demo.school", "demo-office-pass")
ADAS_PARENT = ("parent@demo.school", "demo-parent-pass")  # Ada, Oak
SAMS_PARENT = ("parent3@demo.school", "demo-parent3-pass")  # Sam K., Oak


def _a_past_friday() -> datetime:
    """The school's clock runs a few days behind the real one: the services check that an
    identity token was not issued in the future by the real clock, so the school's clock may
    never be ahead of it. A Friday at least four days back keeps the Monday after in the past."""
    day = (datetime.now(UTC) - timedelta(days=4)).date()
    while day.weekday() != 4:
        day -= timedelta(days=1)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


# The demo school keeps London time and the default day, 8:00 to 17:00, Monday to Friday. The
# clock is UTC: outside British summer time it is London's too (the hours are said in London's).
FRIDAY = _a_past_friday()
FRIDAY_MORNING = FRIDAY + timedelta(hours=10)
FRIDAY_NIGHT = FRIDAY + timedelta(hours=21)
MONDAY_OPENING = FRIDAY + timedelta(days=3, hours=8, minutes=1)
MONDAY_MORNING = FRIDAY + timedelta(days=3, hours=10)
MONDAY = FRIDAY + timedelta(days=3)


class SchoolClock:
    """Time that runs as usual from where the test last put it: only ever forward."""

    def __init__(self, start: datetime) -> None:
        self._at = start
        self._since = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._at + timedelta(seconds=time.monotonic() - self._since)

    def at_least(self, when: datetime) -> None:
        with self._lock:
            now = self._at + timedelta(seconds=time.monotonic() - self._since)
            self._at, self._since = max(now, when), time.monotonic()


class ClockedSchool:
    def __init__(self, base: str, clock: SchoolClock) -> None:
        self.base = base
        self.clock = clock


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClockedSchool]:
    """The demo school as `make demo` runs it, but in this process, on a clock the test moves
    (its own thread and event loop, so each test's browser loop is free)."""
    data = tmp_path_factory.mktemp("clocked")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    clock = SchoolClock(FRIDAY_MORNING)
    settings = with_data_dir_secrets(
        EmbeddedSettings(data_dir=Path(data), port=port, environment="development", demo=True)
    )
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, clock=clock), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        assert thread.is_alive(), "the clocked school stopped while starting"
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the clocked school did not start"
        time.sleep(0.2)
    try:
        yield ClockedSchool(base, clock)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def a_photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (120, 120, 120)).save(out, format="PNG")
    return out.getvalue()


async def signed_in(browser: Browser, school: ClockedSchool, who: tuple[str, str]) -> Page:
    """A phone whose own clock says what the school's does, as a real one would."""
    page = await new_phone(browser)
    await page.clock.install(time=school.clock())
    await sign_in(page, school.base, *who)
    return page


async def move_clock(school: ClockedSchool, to: datetime, *phones: Page) -> None:
    school.clock.at_least(to)
    for phone in phones:
        await phone.clock.set_system_time(school.clock())


def position_of(response_headers: dict[str, str]) -> int:
    return int(response_headers["x-schoolgate-position"])


async def test_a_parent_writing_at_night_is_told_when_a_reply_can_come_and_sees_read_next_day(
    school: ClockedSchool, browser: Browser
) -> None:
    school.clock.at_least(FRIDAY_NIGHT)
    parent = await signed_in(browser, school, ADAS_PARENT)
    await open_page(parent, "Messages")
    await assert_accessible(parent)
    await parent.get_by_role("link", name="New message").click()
    await expect(
        parent.get_by_role("radio", name="Ms Oak and Mr Birch (class Oak)")
    ).to_be_checked()
    promise = (
        "Ms Oak usually replies within one school day. It is now outside school hours:"
        " expect a reply after 8:00 on Monday."
    )
    await expect(parent.get_by_text(promise)).to_be_visible()
    await assert_accessible(parent)
    await parent.get_by_label("Your message").fill(
        "Ada loved the volcano story. Could she bring her rocks in?"
    )
    await parent.get_by_label("Add a photo or PDF (optional)").set_input_files(
        {"name": "rocks.png", "mimeType": "image/png", "buffer": a_photo()}
    )
    await parent.get_by_label("Describe the photo for someone who cannot see it").fill(
        "Three grey rocks on a table"
    )
    await parent.get_by_role("button", name="Send", exact=True).click()
    await expect(parent.get_by_role("status")).to_have_text(f"Sent. {promise}")
    await expect(parent.get_by_role("heading", level=1, name="Ada · Class Oak")).to_be_visible()
    await assert_accessible(parent)

    # Ms Oak looks at half past nine: her receipt waits for the school day
    await move_clock(school, FRIDAY_NIGHT + timedelta(minutes=30), parent)
    teacher = await signed_in(browser, school, TEACHER)
    await open_page(teacher, "Messages")
    row = teacher.get_by_role("listitem").filter(has_text="Ada · Class Oak")
    await expect(row.get_by_text("1 new")).to_be_visible()
    await row.get_by_role("link").click()
    await expect(teacher.get_by_text("Could she bring her rocks in?")).to_be_visible()
    photo = teacher.get_by_role("img", name="Three grey rocks on a table")
    await expect(photo).to_have_js_property("complete", True)
    assert await photo.evaluate("img => img.naturalWidth") > 0, "the thumbnail did not load"
    await teacher.get_by_label("Write a reply").fill("Yes please, on Tuesday.")
    await teacher.get_by_role("button", name="Send", exact=True).click()
    # out of hours the teacher is offered the morning, and may still send now
    await expect(teacher.get_by_role("button", name="Send now")).to_be_visible()
    await assert_accessible(teacher)
    await teacher.get_by_role("button", name="Send at 8:00 on Monday").click()
    await expect(
        teacher.get_by_text(
            f"Scheduled: families see it {MONDAY:%A} {MONDAY.day} {MONDAY:%B} at 08:00"
        )
    ).to_be_visible()
    await open_page(teacher, "Messages")
    await expect(row).to_be_visible()
    await expect(row.get_by_text("1 new")).to_have_count(0)  # her reading is recorded

    await parent.reload()
    await expect(parent.get_by_text("Could she bring her rocks in?")).to_be_visible()
    await expect(parent.get_by_text("Read", exact=True)).to_have_count(0)
    await expect(parent.get_by_text("Yes please, on Tuesday.")).to_have_count(0)

    await move_clock(school, MONDAY_OPENING, parent)
    await parent.reload()
    await expect(parent.get_by_text("Yes please, on Tuesday.")).to_be_visible()
    await expect(parent.get_by_text("Read", exact=True)).to_be_visible()


async def test_an_absence_written_to_the_teacher_goes_to_the_office_who_record_it(
    school: ClockedSchool, browser: Browser
) -> None:
    school.clock.at_least(MONDAY_MORNING)
    parent = await signed_in(browser, school, ADAS_PARENT)
    await parent.goto(f"{school.base}/#write")
    text = "Ada has a temperature and will not be in school today."
    await parent.get_by_label("Your message").fill(text)
    await parent.get_by_role("button", name="Send", exact=True).click()
    await expect(
        parent.get_by_text(
            "This looks like it is about your child being ill. These go to the school office,"
            " who deal with them. Send it to the office instead?"
        )
    ).to_be_visible()
    await expect(parent.get_by_role("button", name="Send to the office")).to_be_visible()
    await expect(parent.get_by_role("button", name="Send to Ms Oak anyway")).to_be_visible()
    await assert_accessible(parent)
    await parent.get_by_role("link", name="Report an absence").click()
    await expect(parent.get_by_role("heading", level=1, name="Report an absence")).to_be_visible()
    await expect(parent.get_by_label("Anything the office should know (optional)")).to_have_value(
        text
    )
    await expect(parent.get_by_label("Why?")).to_have_value("sickness")
    await assert_accessible(parent)
    tuesday = MONDAY + timedelta(days=1)
    await parent.get_by_label("First day away").fill(f"{MONDAY:%Y-%m-%d}")
    await parent.get_by_label("Last day away").fill(f"{tuesday:%Y-%m-%d}")
    async with parent.expect_response(
        lambda r: r.request.method == "POST" and "/absences" in r.url
    ) as sent:
        await parent.get_by_role("button", name="Tell the office").click()
    await expect(parent.get_by_role("heading", name="Thank you: the office knows")).to_be_visible()
    await expect(
        parent.get_by_text(
            "The office has your message that Ada will be away from"
            f" {MONDAY:%A} {MONDAY.day} {MONDAY:%B} to {tuesday:%A} {tuesday.day} {tuesday:%B}."
        )
    ).to_be_visible()
    await assert_accessible(parent)

    office = await signed_in(browser, school, OFFICE)
    await caught_up(office, school.base, position_of(await (await sent.value).all_headers()))
    await open_page(office, "Absences")
    card = office.get_by_role("article", name="Ada (Oak)")
    await expect(card.get_by_text("Not yet in the register")).to_be_visible()
    await expect(card.get_by_text(text)).to_be_visible()
    await assert_accessible(office)
    await card.get_by_role("button", name="Recorded").click()
    await expect(office.get_by_role("status")).to_have_text("Ada's absence is marked as recorded.")
    await expect(card.get_by_text("In the register")).to_be_visible()


async def test_a_class_announcement_reaches_every_family_and_a_reply_stays_private(
    school: ClockedSchool, browser: Browser
) -> None:
    school.clock.at_least(MONDAY_MORNING)
    teacher = await signed_in(browser, school, TEACHER)
    await open_page(teacher, "Messages")
    await teacher.get_by_role("link", name="Announcement to a class").click()
    await expect(
        teacher.get_by_text(
            "Every family in Oak will get this. Their replies come to you privately."
        )
    ).to_be_visible()
    await assert_accessible(teacher)
    await teacher.get_by_label("Your announcement").fill(
        "Swimming on Friday: please bring a towel."
    )
    async with teacher.expect_response(
        lambda r: r.request.method == "POST" and "/announcements" in r.url
    ) as sent:
        await teacher.get_by_role("button", name="Send", exact=True).click()
    await expect(teacher.get_by_role("status")).to_have_text("Sent to every family in Oak.")
    announced = position_of(await (await sent.value).all_headers())

    ada, sam = await asyncio.gather(
        signed_in(browser, school, ADAS_PARENT), signed_in(browser, school, SAMS_PARENT)
    )
    for parent in (ada, sam):
        await caught_up(parent, school.base, announced)
        await open_page(parent, "Messages")
        await expect(parent.get_by_role("link", name="Announcement to Oak")).to_be_visible()
    await ada.get_by_role("link", name="Announcement to Oak").click()
    await expect(ada.get_by_text("Swimming on Friday: please bring a towel.")).to_be_visible()
    await assert_accessible(ada)
    reply = "Ada has no towel of her own, may she borrow one?"
    await ada.get_by_label("Reply privately to the teacher").fill(reply)
    async with ada.expect_response(
        lambda r: r.request.method == "POST" and "/messages" in r.url
    ) as answered:
        await ada.get_by_role("button", name="Send", exact=True).click()
    await expect(ada.get_by_role("status")).to_have_text(
        "Sent privately to the teacher: the other families do not see it."
    )
    await expect(ada.get_by_role("heading", level=1, name="Ada · Class Oak")).to_be_visible()
    replied = position_of(await (await answered.value).all_headers())

    # the teacher's inbox is open: the reply arrives there by itself, as a private conversation
    await open_page(teacher, "Messages")
    private = (
        teacher.get_by_role("listitem").filter(has_text="Ada · Class Oak").filter(has_text=reply)
    )
    await expect(private).to_be_visible()
    await private.get_by_role("link").click()
    await expect(teacher.get_by_text(reply)).to_be_visible()

    await caught_up(sam, school.base, replied)
    await sam.get_by_role("link", name="Announcement to Oak").click()
    await expect(sam.get_by_text("Swimming on Friday: please bring a towel.")).to_be_visible()
    await expect(sam.get_by_text(reply)).to_have_count(0)
    await open_page(sam, "Messages")
    await expect(sam.get_by_role("link", name="Announcement to Oak")).to_be_visible()
    await expect(sam.get_by_text(reply)).to_have_count(0)
    await assert_accessible(sam)
