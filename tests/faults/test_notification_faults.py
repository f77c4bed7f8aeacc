"""Issue 22's fault test: a whole-school story's fan-out, by email and push, meets a broker
restart and a SIGKILL of the notifications worker half-way, over real RabbitMQ.

Afterwards every family has the story once: one entry in their notification centre, one
email as their mail app counts them (a resend after the crash carries the same Message-ID,
which mail apps show once) and at least one push on their phone, every copy under the same
tag (the phone shows one notification per tag). Nobody is left out.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from schoolgate_contracts import Event, Metadata, NewEvent
from schoolgate_contracts.consent import GuardianLinked
from schoolgate_contracts.notifications import NotificationPreferencesChanged
from schoolgate_contracts.stories import Audience, PostPublished
from schoolgate_kit.contacts import Contacts
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.private.sqlite import SqlitePrivateStore
from schoolgate_kit.testing.events import ManualClock
from schoolgate_kit.testing.push_service import BrowserSubscription, LoopbackPushService
from schoolgate_kit.testing.roster import school_facts, seed_school
from schoolgate_kit.testing.smtp import LoopbackSmtp
from schoolgate_notifications import push
from schoolgate_notifications.delivery import SENT
from schoolgate_notifications.reactors import CENTRE, HANDLED

from ..conftest import Cluster, PrivateBroker, until  # type: ignore[import-not-found]
from .test_faults import query  # type: ignore[import-not-found]

pytestmark = pytest.mark.rabbitmq
FAMILIES = 240
SCHOOL = "fault-school"
STORY = "New story for fault-school"


async def _append(store: SqliteEventStore, stream: str, events: list[Event]) -> None:
    metadata = Metadata(
        occurred_at=datetime.now(UTC), school_id=SCHOOL, actor="t", correlation_id="c"
    )
    batch = [NewEvent(event_id=uuid.uuid4(), event=e, metadata=metadata) for e in events]
    await store.append(stream, batch, expected_version=None)


async def seed(tmp: Path, pushes: LoopbackPushService) -> dict[str, BrowserSubscription]:
    """The school, its families (who chose school stories at once), their addresses and
    devices: written before the worker first starts."""
    store = await SqliteEventStore.open(tmp / "events.db", clock=ManualClock())
    private = await SqlitePrivateStore.open(tmp / "private.db")
    pupils = [f"p{n}" for n in range(FAMILIES)]
    await seed_school(store, SCHOOL, school_facts(SCHOOL, {"c1": pupils}))
    links = [GuardianLinked(pupil_id=p, parent_id=f"par-{p}", invite_id=f"i-{p}") for p in pupils]
    await _append(store, "guardians", list(links))
    choices = {"school_stories": {"push": "instant", "email": "instant"}}
    chosen = [
        NotificationPreferencesChanged(person_id=f"par-{p}", audience="parent", choices=choices)
        for p in pupils
    ]
    await _append(store, "preferences", list(chosen))
    now = datetime.now(UTC)
    keys = await push.vapid_keys(private, now=now)
    devices = {}
    for p in pupils:
        person = f"parent:par-{p}"
        device = pushes.new_subscription(keys.application_server_key)
        await push.subscribe(private, person, device.to_json(), now, allow_loopback=True)
        await Contacts(private).set(person, f"par-{p}@home.example", "en", "", now)
        devices[person] = device
    await private.close()
    await store.close()
    return devices


async def post_story(tmp: Path) -> None:
    store = await SqliteEventStore.open(tmp / "events.db", clock=ManualClock())
    story = PostPublished(
        post_id="post-1",
        author_id="head",
        audience=Audience(kind="school"),
        text="Sports day on Friday.",
        visible_from=datetime.now(UTC),
    )
    await _append(store, f"post-{uuid.uuid4().hex}", [story])
    await store.close()


def count(tmp: Path, projection: str) -> int:
    rows = query(
        tmp / "readmodels.db", "SELECT count(*) FROM documents WHERE projection = ?", projection
    )
    return int(str(rows[0][0])) if rows else 0


async def test_a_fan_out_survives_a_broker_restart_and_a_killed_worker(
    tmp_path: Path, private_broker: PrivateBroker
) -> None:
    cluster = Cluster(tmp_path, private_broker.url)
    with LoopbackSmtp.running() as smtp:
        async with LoopbackPushService() as pushes:
            devices = await seed(tmp_path, pushes)
            env = {
                "SCHOOLGATE_SMTP_URL": smtp.url,
                "SCHOOLGATE_ALLOW_LOOPBACK_PUSH": "1",
                "SCHOOLGATE_PUSH_CONTACT": "mailto:office@fault.school",
                # the story follows the "you are linked" push at once: no gap to hold it
                "SCHOOLGATE_PUSH_GAP_SECONDS": "0",
            }
            try:
                cluster.process("relay", "schoolgate_kit", "relay")
                worker = cluster.process(
                    "notifications-worker", "schoolgate_notifications", "work", **env
                )
                # every family is first told it is linked to its child, in the app, by push
                # and by email: the story's fan-out starts after all of that
                await until(
                    lambda: (
                        count(tmp_path, HANDLED) >= FAMILIES
                        and count(tmp_path, SENT) >= 2 * FAMILIES
                    ),
                    within=120,
                    why="links told",
                )
                await post_story(tmp_path)

                def stories() -> list[str]:
                    return [
                        str(m.message["Message-ID"])
                        for m in smtp.arrived
                        if m.message["Subject"] == STORY
                    ]

                await until(
                    lambda: len(stories()) >= FAMILIES // 5, every=0.005, within=60,
                    why="the fan-out under way",
                )  # fmt: skip
                worker.kill()
                sent_before = len(stories())
                assert sent_before < FAMILIES, "the fan-out ended before the fault"
                # the broker goes down with the event unacknowledged, and comes back
                private_broker.stop()
                private_broker.start()
                cluster.process(
                    "notifications-worker-again", "schoolgate_notifications", "work", **env
                )
                await until(
                    lambda: len(set(stories())) == FAMILIES, within=120, why="every family's email"
                )

                def pushed(device: BrowserSubscription) -> list[dict[str, str]]:
                    return [p for p in pushes.received(device) if p["title"] == STORY]

                await until(
                    lambda: all(pushed(d) for d in devices.values()), within=120,
                    why="every family's push",
                )  # fmt: skip
            finally:
                cluster.stop()
    # one email per family as mail apps count them: a resend has the same Message-ID
    by_family = Counter(m.rcpt_tos[0] for m in smtp.arrived if m.message["Subject"] == STORY)
    ids_by_family = {
        address: {
            str(m.message["Message-ID"]) for m in smtp.to(address) if m.message["Subject"] == STORY
        }
        for address in by_family
    }
    assert len(by_family) == FAMILIES
    assert all(len(ids) == 1 for ids in ids_by_family.values())
    # a resend is bounded by what was in flight and not yet recorded when the worker died
    assert sum(by_family.values()) - FAMILIES <= 64 + 50
    # every copy of a push carries one tag: the phone shows one notification
    for device in devices.values():
        assert len({p.get("tag") for p in pushed(device)}) == 1
    # the notification centre: one entry per family, however often the event came
    centre = query(
        tmp_path / "readmodels.db",
        "SELECT count(*) FROM documents WHERE projection = ? AND json_extract(doc, '$.title') = ?",
        CENTRE,
        STORY,
    )
    assert centre == [(FAMILIES,)]
