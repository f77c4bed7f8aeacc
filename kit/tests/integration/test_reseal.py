"""The one-off migration: a log written in clear before encryption is written again sealed,
as `python -m schoolgate_kit.reseal DATA_DIR` runs it, and reads back the same."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from schoolgate_contracts import Metadata, NewEvent
from schoolgate_contracts.roster import PupilEnrolled
from schoolgate_kit.crypto import Keyring
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.keys import with_data_dir_secrets
from schoolgate_kit.keystores import SqliteKeyStore
from schoolgate_kit.settings import Settings
from schoolgate_kit.testing.events import award

NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)


def enrolled(pupil: str, first: str) -> NewEvent:
    event = PupilEnrolled(
        pupil_id=pupil, first_name=first, surname="Clearwater", year_group_id="y", class_id="c"
    )
    meta = Metadata(occurred_at=NOW, school_id="sch_a", actor="stf", correlation_id="c")
    return NewEvent(event_id=uuid.uuid4(), event=event, metadata=meta)


async def a_clear_log(data: Path) -> list[tuple[object, ...]]:
    store = await SqliteEventStore.open(data / "events.db", clock=lambda: NOW)  # no keyring
    await store.append("roster-sch_a", [enrolled("pup_1", "Persephone")], expected_version=None)
    await store.append("award-1", [award("pup_1", school_id="sch_a")], expected_version=None)
    await store.append("roster-sch_a", [enrolled("pup_2", "Octavia")], expected_version=0)
    await store.close()
    v1 = json.dumps(
        {
            "pupil_id": "pup_3",
            "first_name": "Ignatius",
            "surname": "Old",
            "year_group_id": "y",
            "class_id": "c",
        }
    )
    meta = Metadata(occurred_at=NOW, school_id="sch_a", actor="a", correlation_id="c")
    with sqlite3.connect(data / "events.db") as conn:
        conn.execute(
            "INSERT INTO events (position, event_id, stream, version, type, schema_version,"
            " data, metadata, recorded_at) VALUES (4, ?, 'roster-sch_a', 2, 'PupilEnrolled',"
            " 1, ?, ?, ?)",
            (str(uuid.uuid4()), v1, meta.model_dump_json(), NOW.isoformat()),
        )
        rows = conn.execute(
            "SELECT position, event_id, stream, version, type FROM events ORDER BY position"
        ).fetchall()
    return rows


def files_of(data: Path, prefix: str) -> bytes:
    return b"".join(p.read_bytes() for p in data.iterdir() if p.name.startswith(prefix))


def everything(data: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(data / "events.db") as conn:
        return conn.execute("SELECT * FROM events ORDER BY position").fetchall()


def run(data: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHOOLGATE_")}
    return subprocess.run(
        [sys.executable, "-m", "schoolgate_kit.reseal", str(data)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_a_clear_log_is_written_again_sealed_and_reads_the_same(tmp_path: Path) -> None:
    before = await a_clear_log(tmp_path)
    assert b"Persephone" in (tmp_path / "events.db").read_bytes()

    done = run(tmp_path)
    assert done.returncode == 0, done.stderr
    # the award too: which child a point went to is sealed under its week's key
    assert "4 events, 4 with personal values now sealed" in done.stderr

    kept = files_of(tmp_path, "events")
    for clear in (b"Persephone", b"Octavia", b"Ignatius", b"Clearwater"):
        assert clear not in kept
    settings = with_data_dir_secrets(Settings(data_dir=tmp_path))
    assert settings.master_key is not None
    keyring = Keyring(
        settings.master_key.get_secret_value(), SqliteKeyStore(tmp_path / "private.db")
    )
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=lambda: NOW, keyring=keyring)
    batch = await store.read_all(after=0)
    assert [
        (e.position, str(e.event_id), e.stream, e.version, e.event_type) for e in batch.events
    ] == before
    names = [e.event.first_name for e in batch.events if isinstance(e.event, PupilEnrolled)]
    assert names == ["Persephone", "Octavia", "Ignatius"]
    assert batch.events[1].event.pupil_id == "pup_1"  # type: ignore[attr-defined]
    [(award_data,)] = sqlite3.connect(tmp_path / "events.db").execute(
        "SELECT data FROM events WHERE type = 'PointAwarded'"
    )
    assert json.loads(award_data)["pupil_id"]["$sealed"] == "sch_a/points-week/2026-11-16"
    keyring.erase("person", "pup_1")
    first = (await store.read_stream("roster-sch_a"))[0]
    assert isinstance(first.event, PupilEnrolled) and first.event.first_name == "removed"
    await store.close()


async def test_it_refuses_a_log_in_use_and_leaves_it_as_it_was(tmp_path: Path) -> None:
    await a_clear_log(tmp_path)
    original = everything(tmp_path)
    writer = sqlite3.connect(tmp_path / "events.db", isolation_level=None, timeout=0.1)
    writer.execute("BEGIN IMMEDIATE")
    try:
        done = run(tmp_path)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert done.returncode != 0 and "stop Schoolgate first" in done.stderr
    assert everything(tmp_path) == original
    assert files_of(tmp_path, "events.db.resealing") == b""
