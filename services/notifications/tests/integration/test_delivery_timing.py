"""Digests, staff quiet hours and the push limiter, on a clock the test moves, with real
parts: SQLite read models and private store, a real SMTP server (aiosmtpd) and a loopback
push service that checks VAPID and decrypts.

- A family that chose the daily round-up for stories gets none at once and ONE email at the
  school's digest time, with both children's news in it; the next round sends nothing again.
- A teacher's messages on Friday evening are held: nothing at 07:59 on Monday, one
  "While you were away" email at 08:00 that counts them all, never one each.
- Three points in a minute reach the phone as one push now and one "Ada got 3 points" after
  the gap, under the same tag, so the phone shows one notification.
- A story scheduled for Monday morning is told on Monday morning, not when it was written.
- An event delivered twice sends nothing twice; a mail server that is down is a retry, and
  the retry sends each email once.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.envelope import Metadata
from schoolgate_contracts.points import PointAwarded
from schoolgate_kit.contacts import Contacts
from schoolgate_kit.mail import Mailer, SmtpServer
from schoolgate_kit.private.sqlite import SqlitePrivateStore
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.testing.events import ManualClock
from schoolgate_kit.testing.push_service import LoopbackPushService
from schoolgate_kit.testing.smtp import LoopbackSmtp
from schoolgate_notifications import push
from schoolgate_notifications.channels import EmailChannel, PushChannel
from schoolgate_notifications.compose import Note
from schoolgate_notifications.delivery import (
    PENDING,
    SENT,
    Outbox,
    PushesFirst,
    Retry,
    Scheduler,
)
from schoolgate_notifications.projections import (
    CALENDARS,
    POSTS_GONE,
    PREFERENCES,
    post_key,
    preferences_key,
)
from schoolgate_notifications.timing import Limits

SCHOOL = "school-a"
PARENT = "parent:p-ada"
TEACHER = "staff:s-oak"
# a Friday in the school's winter (London = UTC): the digest at 17:30, the day 08:00-17:00
FRIDAY = datetime(2026, 11, 20, tzinfo=UTC)
DETAILS = {
    "name": "Oakfield",
    "timezone": "Europe/London",
    "working_days": [0, 1, 2, 3, 4],
    "day_starts": "08:00:00",
    "day_ends": "17:00:00",
    "week_start": 0,
    "terms": [],
    "holidays": [],
}


@pytest.fixture
def smtp() -> Iterator[LoopbackSmtp]:
    with LoopbackSmtp.running() as server:
        yield server


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[SqliteReadModelStore, SqlitePrivateStore]]:
    readmodels = await SqliteReadModelStore.open(tmp_path / "readmodels.db")
    private = await SqlitePrivateStore.open(tmp_path / "private.db")
    await readmodels.commit(
        CALENDARS,
        0,
        {SCHOOL: {"school_id": SCHOOL, "details": DETAILS, "digest_at": "17:30"}},
        None,
    )
    yield readmodels, private
    await private.close()
    await readmodels.close()


def email_outbox(
    stores: tuple[SqliteReadModelStore, SqlitePrivateStore], smtp: LoopbackSmtp, clock: ManualClock
) -> Outbox:
    readmodels, private = stores

    async def opened() -> SqlitePrivateStore:
        return private

    async def school_name(school_id: str) -> str:
        return "Oakfield"

    mailer = Mailer(SmtpServer.parse(smtp.url), "Oakfield <office@oakfield.example>")
    channel = EmailChannel(
        private=opened,
        mailer=mailer,
        clock=clock,
        secret="s" * 48,
        public_base_url="https://school.example",
        school_names=school_name,
    )
    return Outbox(channel, readmodels, opened, clock, retry_after=(0.0,))


def event(at: datetime) -> RecordedEvent:
    return RecordedEvent(
        event_id=uuid.uuid4(),
        stream=f"post-{uuid.uuid4().hex}",
        version=0,
        position=1,
        recorded_at=at,
        metadata=Metadata(occurred_at=at, school_id=SCHOOL, actor="t", correlation_id="c"),
        event=PointAwarded(
            award_id="a",
            pupil_id="ada",
            class_id="oak",
            school_way_id="kind",
            awarded_by="t",
            school_date=at.date(),
            week_start=at.date(),
            awarded_at=at,
        ),
    )


def story(recipient: str, pupil: str) -> Note:
    return Note(
        recipient, SCHOOL, "class_stories", "New story for Oak", "From Ms Oak.",
        "#news", pupil_id=None, extra={"sender": "Ms Oak", "subject": f"Oak ({pupil})"},
    )  # fmt: skip


def message(recipient: str) -> Note:
    return Note(
        recipient, SCHOOL, "messages", "A family wrote about Ada", "",
        "#conversation=c1", pupil_id="ada", pupil_name="Ada", extra={"sender": "Ada's family"},
    )  # fmt: skip


async def choose(readmodels: SqliteReadModelStore, person: str, choices: dict[str, Any]) -> None:
    doc = {"school_id": SCHOOL, "person_id": person.split(":")[1], "choices": choices}
    await readmodels.commit(PREFERENCES, 0, {preferences_key(SCHOOL, person): doc}, None)


async def test_the_digest_comes_once_at_the_schools_time_with_every_childs_news(
    stores: tuple[SqliteReadModelStore, SqlitePrivateStore], smtp: LoopbackSmtp
) -> None:
    readmodels, private = stores
    clock = ManualClock(FRIDAY + timedelta(hours=10))
    await Contacts(private).set(PARENT, "family@home.example", "en", "Jo", clock())
    await choose(readmodels, PARENT, {"class_stories": {"email": "digest"}})
    outbox = email_outbox(stores, smtp, clock)
    scheduler = Scheduler([outbox])
    first, second = event(clock()), event(clock())
    await outbox.handle(first, [story(PARENT, "Ada")])
    await outbox.handle(second, [story(PARENT, "Ben")])
    await outbox.handle(first, [story(PARENT, "Ada")])  # delivered again: filed once
    assert await scheduler.run_once() == 0
    clock.now = FRIDAY + timedelta(hours=17, minutes=29)
    assert await scheduler.run_once() == 0
    assert smtp.to("family@home.example") == []
    clock.now = FRIDAY + timedelta(hours=17, minutes=30, seconds=5)
    assert await scheduler.run_once() == 1
    [mail] = smtp.to("family@home.example")
    assert mail.message["Subject"] == "Your round-up from school"
    text = mail.body("plain")
    assert "Class stories" in text and text.count("Ms Oak") == 2  # both stories, one email
    assert await scheduler.run_once() == 0  # sent: nothing waits any more
    assert await readmodels.find(PENDING, {"recipient": PARENT}) == []
    sent = await readmodels.find(SENT, {"recipient": PARENT})
    assert len(sent) == 2 and {d["kind"] for d in sent} == {"digest"}


async def test_a_story_scheduled_for_monday_is_told_on_monday_not_when_it_was_written(
    stores: tuple[SqliteReadModelStore, SqlitePrivateStore], smtp: LoopbackSmtp
) -> None:
    """A teacher writes on Friday evening the story families may see on Monday at 09:00:
    nobody hears of it on Friday; at 09:00 on Monday each family that chose stories at once
    gets it, as itself, and a family that chose the round-up gets it in Monday's."""
    readmodels, private = stores
    clock = ManualClock(FRIDAY + timedelta(hours=18))
    other = "parent:p-ben"
    for who, address in ((PARENT, "family@home.example"), (other, "ben@home.example")):
        await Contacts(private).set(who, address, "en", "Jo", clock())
    await choose(readmodels, PARENT, {"class_stories": {"email": "instant"}})
    await choose(readmodels, other, {"class_stories": {"email": "digest"}})
    outbox = email_outbox(stores, smtp, clock)
    scheduler = Scheduler([outbox])
    monday_nine = FRIDAY + timedelta(days=3, hours=9)
    written = event(clock())
    notes = [replace(story(who, "Ada"), shows_from=monday_nine) for who in (PARENT, other)]
    await outbox.handle(written, notes)
    await outbox.handle(written, notes)  # delivered again: filed once
    for when in (FRIDAY + timedelta(hours=17, minutes=31, days=1), monday_nine - timedelta(1)):
        clock.now = when  # Saturday's round-up, and Monday a moment before nine
        assert await scheduler.run_once() == 0
    assert smtp.arrived == []
    clock.now = monday_nine + timedelta(seconds=1)
    assert await scheduler.run_once() == 1
    [mail] = smtp.to("family@home.example")
    assert mail.message["Subject"] == "New story for Oak"
    assert await scheduler.run_once() == 0
    assert smtp.to("ben@home.example") == []
    clock.now = monday_nine + timedelta(hours=8, minutes=31)  # Monday's round-up
    assert await scheduler.run_once() == 1
    [digest] = smtp.to("ben@home.example")
    assert digest.message["Subject"] == "Your round-up from school"
    assert len(smtp.to("family@home.example")) == 1


async def test_a_scheduled_story_deleted_before_it_shows_is_never_told(
    stores: tuple[SqliteReadModelStore, SqlitePrivateStore], smtp: LoopbackSmtp
) -> None:
    readmodels, private = stores
    clock = ManualClock(FRIDAY + timedelta(hours=18))
    await Contacts(private).set(PARENT, "family@home.example", "en", "Jo", clock())
    await choose(readmodels, PARENT, {"class_stories": {"email": "instant"}})
    outbox = email_outbox(stores, smtp, clock)
    monday_nine = FRIDAY + timedelta(days=3, hours=9)
    kept, deleted = (
        replace(story(PARENT, "Ada"), post_id=post, shows_from=monday_nine)
        for post in ("post-kept", "post-deleted")
    )
    await outbox.handle(event(clock()), [kept])
    await outbox.handle(event(clock()), [deleted])
    # on Saturday the teacher deletes one: the projection of deleted stories says so
    gone = {post_key(SCHOOL, "post-deleted"): {"school_id": SCHOOL}}
    await readmodels.commit(POSTS_GONE, 0, gone, None)
    clock.now = monday_nine + timedelta(seconds=1)
    assert await Scheduler([outbox]).run_once() == 1
    assert len(smtp.to("family@home.example")) == 1
    assert await readmodels.find(PENDING, {"recipient": PARENT}) == []  # forgotten, not kept


async def test_an_email_waits_while_pushes_are_going_and_no_longer(
    stores: tuple[SqliteReadModelStore, SqlitePrivateStore], smtp: LoopbackSmtp
) -> None:
    """Where one process sends both, phones first: an email fan-out waits while a push
    fan-out goes, and goes as soon as it is done (or after ``most`` seconds at worst)."""
    readmodels, private = stores
    clock = ManualClock(FRIDAY + timedelta(hours=10))
    await Contacts(private).set(PARENT, "family@home.example", "en", "Jo", clock())
    await choose(readmodels, PARENT, {"class_stories": {"email": "instant"}})
    outbox = replace(email_outbox(stores, smtp, clock), first=PushesFirst(most=30))
    assert outbox.first is not None
    async with outbox.first.pushing():  # a push fan-out is going
        emailing = asyncio.create_task(outbox.handle(event(clock()), [story(PARENT, "Ada")]))
        done, _ = await asyncio.wait({emailing}, timeout=1)
        assert not done and smtp.to("family@home.example") == []
    await asyncio.wait_for(emailing, 10)
    assert len(smtp.to("family@home.example")) == 1
    # with no push going, an email does not wait at all
    await asyncio.wait_for(outbox.handle(event(clock()), [story(PARENT, "Ben")]), 10)
    assert len(smtp.to("family@home.example")) == 2
    # pushes that start while an email waits do not hold it longer: on a busy day they
    # never stop
    first_fan_out = outbox.first.pushing()
    await first_fan_out.__aenter__()
    emailing = asyncio.create_task(outbox.handle(event(clock()), [story(PARENT, "Di")]))
    await asyncio.wait({emailing}, timeout=0.5)
    async with outbox.first.pushing():  # the next fan-out begins as the first ends
        await first_fan_out.__aexit__(None, None, None)
        await asyncio.wait_for(emailing, 10)
    assert len(smtp.to("family@home.example")) == 3
    # and a push fan-out that never ends holds email back for ``most`` seconds, no longer
    stuck = replace(outbox, first=PushesFirst(most=0.5))
    assert stuck.first is not None
    async with stuck.first.pushing():
        await asyncio.wait_for(stuck.handle(event(clock()), [story(PARENT, "Cy")]), 10)
    assert len(smtp.to("family@home.example")) == 4


async def test_a_teachers_friday_evening_is_one_summary_at_eight_on_monday(
    stores: tuple[SqliteReadModelStore, SqlitePrivateStore], smtp: LoopbackSmtp
) -> None:
    readmodels, private = stores
    clock = ManualClock(FRIDAY + timedelta(hours=17, minutes=30))
    await Contacts(private).set(TEACHER, "oak@school.example", "en", "Ms Oak", clock())
    await choose(readmodels, TEACHER, {"messages": {"email": "instant"}})
    outbox = email_outbox(stores, smtp, clock)
    scheduler = Scheduler([outbox])
    for minutes in (0, 40, 200):
        clock.now = FRIDAY + timedelta(hours=17, minutes=30 + minutes)
        await outbox.handle(event(clock()), [message(TEACHER)])
    assert smtp.to("oak@school.example") == []
    monday = FRIDAY + timedelta(days=3)
    clock.now = monday + timedelta(hours=7, minutes=59)
    assert await scheduler.run_once() == 0
    clock.now = monday + timedelta(hours=8, seconds=1)
    assert await scheduler.run_once() == 1
    [mail] = smtp.to("oak@school.example")
    assert mail.message["Subject"] == "While you were away"
    assert "3 messages" in mail.body("plain")
    # in hours, a message goes at once
    clock.now = monday + timedelta(hours=9)
    await outbox.handle(event(clock()), [message(TEACHER)])
    assert [m.message["Subject"] for m in smtp.to("oak@school.example")][-1] == (
        "A family wrote about Ada"
    )


async def test_a_mail_server_that_is_down_is_retried_and_sends_once(
    stores: tuple[SqliteReadModelStore, SqlitePrivateStore], smtp: LoopbackSmtp
) -> None:
    _, private = stores
    clock = ManualClock(FRIDAY + timedelta(hours=10))
    for n in range(3):
        await Contacts(private).set(f"parent:p{n}", f"p{n}@home.example", "en", "", clock())
    outbox = email_outbox(stores, smtp, clock)
    notes = [
        Note(f"parent:p{n}", SCHOOL, "messages", "Message from Ms Oak", "", "#messages")
        for n in range(3)
    ]
    smtp.defer("p1@home.example")
    told = event(clock())
    with pytest.raises(Retry):
        await outbox.handle(told, notes)
    assert len(smtp.to("p0@home.example")) == 1 and smtp.to("p1@home.example") == []
    smtp.accept("p1@home.example")
    await outbox.handle(told, notes)  # the bus's redelivery
    await outbox.handle(told, notes)  # and another, as at-least-once may
    assert [len(smtp.to(f"p{n}@home.example")) for n in range(3)] == [1, 1, 1]


async def test_three_points_in_a_minute_buzz_once_then_say_three(
    stores: tuple[SqliteReadModelStore, SqlitePrivateStore],
) -> None:
    readmodels, private = stores
    # the push service checks its tokens against the real time: this clock starts there
    clock = ManualClock(datetime.now(UTC))

    async def opened() -> SqlitePrivateStore:
        return private

    async with LoopbackPushService() as service:
        keys = await push.vapid_keys(private, now=clock())
        device = service.new_subscription(keys.application_server_key)
        await push.subscribe(private, PARENT, device.to_json(), clock(), allow_loopback=True)
        async with push.PushSender(keys, subject="mailto:office@oakfield.example") as sender:

            async def the_sender() -> push.PushSender:
                return sender

            channel = PushChannel(opened, the_sender, clock)
            limits = Limits(most=5, window=timedelta(minutes=10), gap=timedelta(seconds=60))
            outbox = Outbox(channel, readmodels, opened, clock, limits=limits)
            point = Note(
                PARENT, SCHOOL, "points", "Ada got 1 point", "For Kindness.", "#home",
                pupil_id="ada", pupil_name="Ada", extra={"subject": "Kindness"},
            )  # fmt: skip
            for seconds in (0, 10, 20):
                clock.now += timedelta(seconds=seconds and 10)
                await outbox.handle(event(clock()), [point])
            assert [p["title"] for p in service.received(device)] == ["Ada got 1 point"]
            assert await Scheduler([outbox]).run_once() == 0  # the gap has not passed
            clock.now += timedelta(seconds=45)
            assert await Scheduler([outbox]).run_once() == 1
            received = service.received(device)
            assert [p["title"] for p in received] == ["Ada got 1 point", "Ada got 3 points"]
            assert received[0]["tag"] == received[1]["tag"]  # the phone shows one


async def test_a_mail_server_back_within_seconds_is_tried_again_before_the_bus(
    stores: tuple[SqliteReadModelStore, SqlitePrivateStore], smtp: LoopbackSmtp
) -> None:
    _, private = stores
    clock = ManualClock(FRIDAY + timedelta(hours=10))
    await Contacts(private).set("parent:p9", "p9@home.example", "en", "", clock())
    outbox = email_outbox(stores, smtp, clock)
    outbox.retry_after = (0.3,)
    smtp.defer("p9@home.example")
    note = Note("parent:p9", SCHOOL, "messages", "Message from Ms Oak", "", "#messages")

    async def back_soon() -> None:
        await asyncio.sleep(0.1)
        smtp.accept("p9@home.example")

    await asyncio.gather(outbox.handle(event(clock()), [note]), back_soon())
    assert len(smtp.to("p9@home.example")) == 1
