"""notifications: a whole-school story to every family, by push and by email.

One school of ``FAMILIES`` pupils, one parent each, every parent with a push subscription (a
browser-like key pair on the loopback push service, in a process of its own, which checks
each push's VAPID signature and decrypts it) and an email address (a real SMTP server,
aiosmtpd, in a process of its own). Every family chose school stories at once on both
channels (the default is the evening round-up). The pieces run as the embedded worker runs
them: the SQLite event store, the relay onto the in-process bus, the notifications
service's projections and its three reactors (the notification centre, push, email).

(a) Post to last delivery: a PostPublished for the whole school is appended; the time until
    the last family's push AND email have arrived. Target: under 10 s.
(b) Notifications/s: the pushes delivered per second of (a)'s push fan-out, beside a raw
    loop in the same run that only encrypts and POSTs the same pushes to the same
    subscriptions with the same sender (no event, no recipients, no stores). Target: 70%.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import Any

from schoolgate_contracts import Event, Metadata, NewEvent
from schoolgate_contracts.consent import GuardianLinked
from schoolgate_contracts.notifications import NotificationPreferencesChanged
from schoolgate_contracts.stories import Audience, PostPublished
from schoolgate_kit.app import Followed, projected
from schoolgate_kit.bus.memory import InProcessBus
from schoolgate_kit.clock import utc_now
from schoolgate_kit.contacts import Contacts
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.media.filesystem import FilesystemMediaStore
from schoolgate_kit.private.sqlite import SqlitePrivateStore
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.relay import run_relay
from schoolgate_kit.runtime import Parts, run_workers
from schoolgate_kit.testing.push_service import PushServiceProcess
from schoolgate_kit.testing.roster import school_facts, seed_school
from schoolgate_notifications import push
from schoolgate_notifications.projections import PROJECTIONS
from schoolgate_notifications.reactors import HANDLED
from schoolgate_notifications.service import DEFINITION, workers_of
from schoolgate_notifications.settings import NotificationsSettings

from bench.common import Result

NAME = "notifications"
FAMILIES = 2_000
QUICK_FAMILIES = 300
CLASSES = 20
SCHOOL = "bench-school"
SUBJECT = "mailto:office@bench.school"


def _smtp_server(url: Any, count: Synchronized[int], last: Synchronized[float]) -> None:
    """The SMTP server's process: counts what arrived and when the last one did."""
    from schoolgate_kit.testing.smtp import LoopbackSmtp

    with LoopbackSmtp.running() as server:
        url.value = server.url.encode()
        seen = 0
        while True:
            arrived = len(server.arrived)
            if arrived != seen:
                seen = arrived
                count.value, last.value = arrived, time.time()
            time.sleep(0.002)


@contextlib.contextmanager
def smtp_process() -> Iterator[tuple[str, Synchronized[int], Synchronized[float]]]:
    spawn = multiprocessing.get_context("spawn")
    url = spawn.Array("c", 200)
    count = spawn.Value("i", 0)
    last = spawn.Value("d", 0.0)
    proc = spawn.Process(target=_smtp_server, args=(url, count, last), daemon=True)
    proc.start()
    try:
        deadline = time.monotonic() + 30
        while not url.value and time.monotonic() < deadline:
            time.sleep(0.01)
        yield url.value.decode(), count, last
    finally:
        proc.terminate()
        proc.join(10)


def _metadata() -> Metadata:
    return Metadata(
        occurred_at=datetime.now(UTC), school_id=SCHOOL, actor="bench", correlation_id="bench"
    )


async def _append(store: SqliteEventStore, stream: str, events: list[Event]) -> int:
    metadata = _metadata()
    batch = [NewEvent(event_id=uuid.uuid4(), event=e, metadata=metadata) for e in events]
    appended = await store.append(stream, batch, expected_version=None)
    return appended.position


async def _school(store: SqliteEventStore, families: int) -> list[str]:
    pupils = [f"p{n}" for n in range(families)]
    classes = {f"c{c}": pupils[c::CLASSES] for c in range(CLASSES)}
    await seed_school(store, SCHOOL, school_facts(SCHOOL, classes))
    parents = [f"parent-{n}" for n in range(families)]
    await _append(
        store,
        "bench-guardians",
        [
            GuardianLinked(pupil_id=pupil, parent_id=parent, invite_id=f"i-{parent}")
            for pupil, parent in zip(pupils, parents, strict=True)
        ],
    )
    choices = {"school_stories": {"push": "instant", "email": "instant"}}
    await _append(
        store,
        "bench-preferences",
        [
            NotificationPreferencesChanged(person_id=p, audience="parent", choices=choices)
            for p in parents
        ],
    )
    return parents


async def _devices(
    private: SqlitePrivateStore, pushes: PushServiceProcess, parents: list[str]
) -> tuple[push.VapidKeys, list[push.Subscription]]:
    now = utc_now()
    keys = await push.vapid_keys(private, now=now)
    made = await pushes.new_subscriptions(len(parents), keys.application_server_key)
    subscriptions = []
    for parent, browser in zip(parents, made, strict=True):
        person = f"parent:{parent}"
        subscriptions.append(
            await push.subscribe(private, person, browser, now, allow_loopback=True)
        )
        await Contacts(private).set(person, f"{parent}@home.example", "en", "", now)
    return keys, subscriptions


@contextlib.asynccontextmanager
async def _worker(parts: Parts, settings: NotificationsSettings) -> AsyncIterator[None]:
    """The embedded worker's part for notifications: relay, bus, projections, reactors."""
    workers_of(parts, settings)
    bus = InProcessBus(parts.readmodels)
    tasks = [
        asyncio.create_task(run_relay(parts.store, bus, parts.readmodels)),
        asyncio.create_task(
            run_workers(
                PROJECTIONS,
                DEFINITION.reactors(parts),
                parts,
                bus,
                tasks=DEFINITION.tasks(parts),
            )
        ),
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await bus.close()


async def _last_push(pushes: PushServiceProcess, wanted: int, within: float) -> float:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        stats = await pushes.stats()
        if stats["delivered"] >= wanted:
            return float(stats["last_at"])
        # the push service times the last push itself: asking often would only take this
        # process's CPU from the pipeline measured
        await asyncio.sleep(0.1)
    raise TimeoutError(f"only {stats['delivered']} of {wanted} pushes arrived")


async def run(workdir: Path, *, quick: bool) -> list[Result]:
    families = QUICK_FAMILIES if quick else FAMILIES
    here = workdir / NAME
    shutil.rmtree(here, ignore_errors=True)
    here.mkdir(parents=True)
    with PushServiceProcess() as pushes, smtp_process() as (smtp_url, emails, last_email):
        store = await SqliteEventStore.open(here / "events.db", clock=utc_now)
        readmodels = await SqliteReadModelStore.open(here / "readmodels.db")
        private = await SqlitePrivateStore.open(here / "private.db")
        media = await FilesystemMediaStore.open(here / "media", clock=utc_now)
        try:
            parents = await _school(store, families)
            settings = NotificationsSettings(
                data_dir=here,
                private_store_url=f"sqlite:///{here / 'private.db'}",
                smtp_url=smtp_url,
                mail_from="Bench School <office@bench.school>",
                allow_loopback_push=True,
                push_contact=SUBJECT,
            )
            parts = Parts(store=store, readmodels=readmodels, media=media, clock=utc_now)
            async with _worker(parts, settings):
                head = await store.head()
                followed = Followed(PROJECTIONS, readmodels, store)
                assert not await projected(followed, head, within=120), "projections behind"
                # each family was told it is linked to its child (in the app only: no device
                # or address yet); the school's story is the first thing to leave
                while len(await readmodels.find(HANDLED, {"school_id": SCHOOL})) < families:  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
                keys, subscriptions = await _devices(private, pushes, parents)

                # (b)'s baseline: the same pushes, encrypted and POSTed, nothing else
                story = push.PushMessage("New story", "From the school.", "/#news")
                raw = await push.raw_push_loop(
                    subscriptions, story, keys=keys, subject=SUBJECT, now=utc_now()
                )
                before = (await pushes.stats())["delivered"]
                started = time.time()
                await _append(
                    store,
                    f"post-{uuid.uuid4().hex}",
                    [
                        PostPublished(
                            post_id="post-1",
                            author_id="head",
                            audience=Audience(kind="school"),
                            text="Sports day is on Friday: bring a hat.",
                            visible_from=datetime.now(UTC),
                        )
                    ],
                )
                last_push = await _last_push(pushes, before + families, within=300)
                deadline = time.monotonic() + 300
                while emails.value < families and time.monotonic() < deadline:  # noqa: ASYNC110 (another process's count)
                    await asyncio.sleep(0.02)
                delivered_emails = emails.value
                last = max(last_push, last_email.value)
        finally:
            await media.close()
            await private.close()
            await readmodels.close()
            await store.close()

    to_last = last - started
    push_seconds = last_push - started
    rate = families / push_seconds if push_seconds > 0 else 0.0
    raw_rate = raw.delivered / raw.seconds if raw.seconds > 0 else 0.0
    details: dict[str, Any] = {
        "families": families,
        "emails": delivered_emails,
        "last push after s": round(push_seconds, 2),
        "last email after s": round(last_email.value - started, 2),
        "raw pushes": raw.delivered,
    }
    return [
        Result(
            name=f"{NAME} post to last delivery",
            unit="s",
            figure=to_last,
            baseline=raw.seconds,
            baseline_label=f"raw loop: {raw.delivered:,} pushes only",
            target=f"< 10 s for {families:,} families, push and email",
            met=to_last < 10 and delivered_emails >= families,
            higher_is_better=False,
            details=details,
        ),
        Result(
            name=f"{NAME} pushes/s",
            unit="/s",
            figure=rate,
            baseline=raw_rate,
            baseline_label="raw loop: encrypt and POST the same pushes",
            target=">= 70% of the raw loop",
            met=raw_rate > 0 and rate / raw_rate >= 0.7,
            details=details,
        ),
    ]
