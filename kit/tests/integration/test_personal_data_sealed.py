"""Personal values are stored encrypted per person, and erasing a person destroys their key.

Real SQLite files throughout: the event file and the private store's file are searched
byte for byte for what must not be there.
"""

from __future__ import annotations

import json
import pickle
import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from schoolgate_contracts import BrokenEvent, Metadata, NewEvent, registry
from schoolgate_contracts.consent import PupilCareStatusRecorded
from schoolgate_contracts.points import POINTS_WEEK, PointAwarded
from schoolgate_contracts.roster import PupilDetailsChanged, PupilEnrolled
from schoolgate_contracts.stories import Attachment, Audience, PostPublished
from schoolgate_kit.crypto import Keyring
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.keystores import SqliteKeyStore
from schoolgate_kit.wire import from_message, to_message

MASTER = "a-test-master-key-" + uuid.uuid4().hex
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


def new(event: object, school: str = "sch_a") -> NewEvent:
    return NewEvent(
        event_id=uuid.uuid4(),
        event=event,
        metadata=Metadata(occurred_at=NOW, school_id=school, actor="stf_1", correlation_id="c"),
    )


def enrolled(pupil: str, first: str, surname: str = "Marker-Surname") -> PupilEnrolled:
    return PupilEnrolled(
        pupil_id=pupil,
        first_name=first,
        surname=surname,
        year_group_id="yg_1",
        class_id="cls_1",
        source_id=f"UPN-{first}",
    )


class Deployment:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.events = tmp / "events.db"
        self.private = tmp / "private.db"

    def keyring(self, **options: float) -> Keyring:
        return Keyring(MASTER, SqliteKeyStore(self.private), **options)  # type: ignore[arg-type]

    async def store(self, keyring: Keyring | None = None) -> SqliteEventStore:
        return await SqliteEventStore.open(self.events, clock=clock, keyring=keyring)

    def bytes_kept(self) -> bytes:
        return b"".join(p.read_bytes() for p in sorted(self.tmp.iterdir()) if p.is_file())


@pytest.fixture
async def deployment(tmp_path: Path) -> AsyncIterator[Deployment]:
    yield Deployment(tmp_path)


async def test_personal_values_are_stored_sealed_and_read_back_in_clear(
    deployment: Deployment,
) -> None:
    keyring = deployment.keyring()
    store = await deployment.store(keyring)
    await store.append("roster-sch_a", [new(enrolled("pup_1", "Zebedee"))], expected_version=None)
    [event] = await store.read_stream("roster-sch_a")
    assert isinstance(event.event, PupilEnrolled)
    assert (event.event.first_name, event.event.surname) == ("Zebedee", "Marker-Surname")
    assert event.event.source_id == "UPN-Zebedee"
    await store.close()
    kept = deployment.bytes_kept()
    for secret in (b"Zebedee", b"Marker-Surname", b"UPN-Zebedee"):
        assert secret not in kept
    assert b"pup_1" in kept  # ids are not personal: the log still says who is who


async def test_erasing_a_pupil_makes_every_read_say_removed_and_leaves_others_alone(
    deployment: Deployment,
) -> None:
    keyring = deployment.keyring()
    store = await deployment.store(keyring)
    await store.append(
        "roster-sch_a",
        [new(enrolled("pup_1", "Zebedee")), new(enrolled("pup_2", "Ermintrude"))],
        expected_version=None,
    )
    care = PupilCareStatusRecorded(pupil_id="pup_1", in_care=True, recorded_by="stf_1")
    await store.append("guardianship-pup_1", [new(care)], expected_version=None)

    assert keyring.erase("person", "pup_1") == ["sch_a/person/pup_1"]

    # another process, with nothing cached, rebuilding from position 0
    fresh = await deployment.store(deployment.keyring())
    batch = await fresh.read_all(after=0)
    first, second, status = (e.event for e in batch.events)
    assert isinstance(first, PupilEnrolled) and isinstance(second, PupilEnrolled)
    assert (first.first_name, first.surname, first.source_id) == ("removed", "removed", None)
    assert second.first_name == "Ermintrude"
    assert isinstance(status, PupilCareStatusRecorded) and status.in_care is False
    # and the process that erased knows at once
    assert next(e.event for e in await store.read_stream("roster-sch_a")) == first

    # written about them afterwards: written as the placeholder, and no key is made again
    later = PupilDetailsChanged(pupil_id="pup_1", first_name="Zeb", surname="Again")
    await store.append("roster-sch_a", [new(later)], expected_version=None)
    [again] = await fresh.read_stream("roster-sch_a", from_version=2)
    assert isinstance(again.event, PupilDetailsChanged) and again.event.first_name == "removed"
    await store.close()
    await fresh.close()
    kept = deployment.bytes_kept()
    assert b"Zeb" not in kept and b"Again" not in kept


async def test_an_erased_key_leaves_no_copy_in_the_private_store_file(
    deployment: Deployment,
) -> None:
    keyring = deployment.keyring()
    store = await deployment.store(keyring)
    await store.append("roster-sch_a", [new(enrolled("pup_1", "Zebedee"))], expected_version=None)
    await store.close()
    [(wrapped,)] = sqlite3.connect(deployment.private).execute(
        "SELECT wrapped FROM data_keys WHERE key_id = 'sch_a/person/pup_1'"
    )
    assert len(wrapped) > 32 and bytes(wrapped) in deployment.private.read_bytes() + (
        deployment.private.with_name("private.db-wal").read_bytes()
    )
    keyring.erase("person", "pup_1")
    keyring.store.close()
    files = [p for p in deployment.tmp.iterdir() if p.name.startswith("private.db")]
    assert not any(bytes(wrapped) in p.read_bytes() for p in files)


async def test_another_process_sees_an_erasure_once_its_cached_key_is_old(
    deployment: Deployment,
) -> None:
    now = [0.0]
    reader_keys = deployment.keyring(ttl=60.0, monotonic=lambda: now[0])
    writer = await deployment.store(deployment.keyring())
    reader = await deployment.store(reader_keys)
    await writer.append("roster-sch_a", [new(enrolled("pup_1", "Zebedee"))], expected_version=None)
    [before] = await reader.read_stream("roster-sch_a")
    assert isinstance(before.event, PupilEnrolled) and before.event.first_name == "Zebedee"
    assert writer.keyring is not None
    writer.keyring.erase("person", "pup_1")
    now[0] = 61.0
    [after] = await reader.read_stream("roster-sch_a")
    assert isinstance(after.event, PupilEnrolled) and after.event.first_name == "removed"
    await writer.close()
    await reader.close()


async def test_a_record_key_is_one_schools_even_where_ids_collide(deployment: Deployment) -> None:
    keyring = deployment.keyring()
    store = await deployment.store(keyring)

    def post(school: str, words: str) -> NewEvent:
        return new(
            PostPublished(
                post_id="post_1",
                author_id="stf_1",
                audience=Audience(kind="school"),
                text=words,
                attachments=(Attachment(media_id="m1", kind="image", alt_text=f"{words} alt"),),
                visible_from=NOW,
            ),
            school,
        )

    await store.append("post-a-1", [post("sch_a", "Sports day")], expected_version=None)
    await store.append("post-b-1", [post("sch_b", "Harvest")], expected_version=None)
    keyring.erase("post", "post_1", school_id="sch_a")
    [a] = await store.read_stream("post-a-1")
    [b] = await store.read_stream("post-b-1")
    assert isinstance(a.event, PostPublished) and isinstance(b.event, PostPublished)
    assert (a.event.text, a.event.attachments[0].alt_text) == ("removed", "removed")
    assert (b.event.text, b.event.attachments[0].alt_text) == ("Harvest", "Harvest alt")
    await store.close()


async def test_the_bus_carries_personal_values_sealed(deployment: Deployment) -> None:
    keyring = deployment.keyring()
    store = await deployment.store(keyring)
    await store.append("roster-sch_a", [new(enrolled("pup_1", "Zebedee"))], expected_version=None)
    [stored] = await store.read_stream("roster-sch_a")
    message = to_message(stored, keyring)
    assert b"Zebedee" not in message.body
    consumer = deployment.keyring()
    assert from_message(message, keyring=consumer) == stored
    with pytest.raises(BrokenEvent):
        from_message(message)  # without a keyring it cannot be read, never read wrongly
    await store.close()


async def test_an_upcast_event_goes_on_the_bus_sealed_again(deployment: Deployment) -> None:
    """A version-1 enrolment stored in clear is sent on sealed, not as clear text."""
    keyring = deployment.keyring()
    store = await deployment.store(keyring)
    await store.close()
    data = json.dumps(
        {
            "pupil_id": "pup_9",
            "first_name": "Dougal",
            "surname": "Old",
            "year_group_id": "y",
            "class_id": "c",
        }
    )
    meta = json.dumps(
        {
            "occurred_at": NOW.isoformat(),
            "school_id": "sch_a",
            "actor": "a",
            "correlation_id": "c",
            "causation_id": None,
        }
    )
    with sqlite3.connect(deployment.events) as conn:
        conn.execute(
            "INSERT INTO events (position, event_id, stream, version, type, schema_version,"
            " data, metadata, recorded_at) VALUES (1, ?, 'roster-sch_a', 0, 'PupilEnrolled', 1,"
            " ?, ?, ?)",
            (str(uuid.uuid4()), data, meta, NOW.isoformat()),
        )
    store = await deployment.store(keyring)
    [old] = await store.read_stream("roster-sch_a")
    assert isinstance(old.event, PupilEnrolled) and old.event.first_name == "Dougal"
    assert b"Dougal" not in to_message(old, keyring).body
    assert from_message(to_message(old, keyring), keyring=keyring).event == old.event
    await store.close()


async def test_a_tampered_value_is_a_broken_event_not_a_wrong_one(deployment: Deployment) -> None:
    keyring = deployment.keyring()
    store = await deployment.store(keyring)
    await store.append("roster-sch_a", [new(enrolled("pup_1", "Zebedee"))], expected_version=None)
    await store.append("roster-sch_a", [new(enrolled("pup_2", "Florence"))], expected_version=0)
    await store.close()
    with sqlite3.connect(deployment.events) as conn:
        # pupil 2's sealed name moved onto pupil 1: sealed under another key id, refused
        (one,), (two,) = conn.execute("SELECT data FROM events ORDER BY position").fetchall()
        swapped = json.loads(one)
        swapped["first_name"] = json.loads(two)["first_name"]
        conn.execute("UPDATE events SET data = ? WHERE position = 1", (json.dumps(swapped),))
    store = await deployment.store(deployment.keyring())
    with pytest.raises(BrokenEvent, match="position 1"):
        await store.read_stream("roster-sch_a")
    await store.close()


async def test_a_rebuild_process_reads_the_log_with_its_own_keyring(
    deployment: Deployment,
) -> None:
    keyring = deployment.keyring()
    store = await deployment.store(keyring)
    await store.append("roster-sch_a", [new(enrolled("pup_1", "Zebedee"))], expected_version=None)
    reader = store.log_reader()
    assert reader is not None
    elsewhere = pickle.loads(pickle.dumps(reader))  # what a worker process is sent
    [[event]] = list(elsewhere.pages(after=0, up_to=1, types=["PupilEnrolled"], batch_size=10))
    assert isinstance(event.event, PupilEnrolled) and event.event.first_name == "Zebedee"
    await store.close()


def test_the_key_cache_is_bounded(tmp_path: Path) -> None:
    keyring = Keyring(MASTER, SqliteKeyStore(tmp_path / "private.db"), cache_size=10)
    keyring.load([f"sch_a/person/pup_{n}" for n in range(50)], create=True)
    assert len(keyring._cache) == 10


def award(pupil: str, day: date) -> PointAwarded:
    return PointAwarded(
        award_id=uuid.uuid4().hex,
        pupil_id=pupil,
        class_id="cls_1",
        school_way_id="way_kind",
        awarded_by="stf_1",
        school_date=day,
        week_start=day - timedelta(days=day.weekday()),
        awarded_at=NOW,
    )


OLD_WEEK, NEW_WEEK = date(2025, 11, 3), date(2026, 11, 30)


async def test_an_awards_pupil_is_sealed_under_its_week_and_erased_with_it(
    deployment: Deployment,
) -> None:
    keyring = deployment.keyring()
    store = await deployment.store(keyring)
    awards = [award("pup_zebedee", OLD_WEEK), award("pup_zebedee", OLD_WEEK + timedelta(days=1))]
    awards += [award("pup_zebedee", NEW_WEEK), award("pup_ermintrude", OLD_WEEK)]
    await store.append("award-1", [new(a) for a in awards], expected_version=None)
    await store.append(
        "award-2", [new(award("pup_zebedee", OLD_WEEK), "sch_b")], expected_version=None
    )
    rows = sqlite3.connect(deployment.events).execute("SELECT data FROM events").fetchall()
    boxes = [json.loads(data)["pupil_id"] for (data,) in rows]
    # stable: one child in one week is one box; another week, child or school, another
    assert boxes[0] == boxes[1]
    assert len({json.dumps(b) for b in boxes}) == 4
    assert b"pup_zebedee" not in deployment.bytes_kept()

    assert keyring.erase_before(POINTS_WEEK, "2026-01-01", school_id="sch_a") == [
        OLD_WEEK.isoformat()
    ]
    for reader in (store, await deployment.store(deployment.keyring())):
        batch = await reader.read_all(after=0)  # the text path, as a replay takes
        pupils = [e.event.pupil_id for e in batch.events]  # type: ignore[attr-defined]
        assert pupils == ["removed", "removed", "pup_zebedee", "removed", "pup_zebedee"]
        # opened as a dict (an upcast event's way, and the bus's), the same
        opened = [
            registry.decode("PointAwarded", 3, data, where="test", opener=keyring.open)
            for (data,) in rows
        ]
        assert [e.pupil_id for e in opened] == pupils  # type: ignore[attr-defined]
        assert from_message(to_message(batch.events[0], keyring), keyring=keyring).event == (
            batch.events[0].event
        )
    await store.close()


async def test_a_week_box_moved_into_another_weeks_award_is_refused(
    deployment: Deployment,
) -> None:
    store = await deployment.store(deployment.keyring())
    await store.append("award-1", [new(award("pup_1", OLD_WEEK))], expected_version=None)
    await store.append("award-2", [new(award("pup_2", NEW_WEEK))], expected_version=None)
    await store.close()
    with sqlite3.connect(deployment.events) as conn:
        (one,), (two,) = conn.execute("SELECT data FROM events ORDER BY position").fetchall()
        moved = json.loads(two)
        moved["pupil_id"] = json.loads(one)["pupil_id"]
        compact = json.dumps(moved, separators=(",", ":"))  # as the store writes: the fast path
        conn.execute("UPDATE events SET data = ? WHERE position = 2", (compact,))
    store = await deployment.store(deployment.keyring())
    with pytest.raises(BrokenEvent, match="position 2"):
        await store.read_all(after=0)
    await store.close()
