"""append: awards/s through the event store port, many streams, concurrent writers.

Baseline: what a naive writer does with the same rows and durability: a plain sqlite3 loop,
WAL, synchronous=FULL, one commit per insert, into a same-shaped table in another file.

The store is measured as a deployment runs it, with a keyring (personal values sealed per
person, ``schoolgate_kit.crypto``), and beside it without one, as before encryption. Awards
hold no personal value; comments do (each sealed under its writer's key, 500 writers), so
they are measured both ways too.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from schoolgate_contracts import NewEvent
from schoolgate_kit.crypto import Keyring
from schoolgate_kit.eventstore import NO_STREAM
from schoolgate_kit.eventstore.sqlite import SCHEMA, SqliteEventStore
from schoolgate_kit.keys import random_token
from schoolgate_kit.keystores import SqliteKeyStore
from schoolgate_kit.sqlite import connect
from schoolgate_kit.testing.events import award
from schoolgate_kit.wire import metadata_json

from bench.common import Result, comments, percentile

NAME = "append"
WRITERS = 64
INSERT = (
    "INSERT INTO events (event_id, stream, version, type, schema_version, data, metadata,"
    " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)

Item = tuple[str, NewEvent]


def utc_now() -> datetime:
    return datetime.now(UTC)


def _awards(count: int) -> list[Item]:
    items: list[Item] = []
    for i in range(count):
        award_id = uuid.uuid4().hex
        new = award(f"pupil-{i % 5000:05d}", award_id=award_id, school_id="school-00")
        items.append((f"award-{award_id}", new))
    return items


def _comments(count: int) -> list[Item]:
    return list(comments(count))


def _naive_writer(path: Path, items: list[Item]) -> float:
    """Seconds for the naive loop; serialising is inside it, as it is inside the store."""
    conn = connect(path)  # the store's own pragmas: WAL, synchronous=FULL
    try:
        conn.executescript(SCHEMA)
        recorded_at = utc_now().isoformat()
        started = time.perf_counter()
        for stream, new in items:
            conn.execute(  # autocommit: one transaction, one WAL sync per row
                INSERT,
                (
                    str(new.event_id),
                    stream,
                    0,
                    new.event.event_type,
                    new.event.schema_version,
                    new.event.model_dump_json(),
                    metadata_json(new.metadata),
                    recorded_at,
                ),
            )
        elapsed = time.perf_counter() - started
        (stored,) = conn.execute("SELECT count(*) FROM events").fetchone()
        assert stored == len(items), f"naive writer stored {stored} of {len(items)}"
        return elapsed
    finally:
        conn.close()


async def _through_store(
    path: Path, items: list[Item], writers: int, keyring: Keyring | None = None
) -> tuple[float, list[float]]:
    store = await SqliteEventStore.open(path, clock=utc_now, keyring=keyring)
    latencies: list[float] = []
    pending = iter(items)

    async def writer() -> None:
        for stream, new in pending:  # one shared iterator: each award is taken once
            started = time.perf_counter()
            await store.append(stream, [new], expected_version=NO_STREAM)
            latencies.append(time.perf_counter() - started)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(writers)))
        elapsed = time.perf_counter() - started
        head = await store.head()
        assert head == len(items), f"store holds {head} of {len(items)} awards"
    finally:
        await store.close()
    return elapsed, latencies


async def run(workdir: Path, *, quick: bool) -> list[Result]:
    count = 3_000 if quick else 20_000
    here = workdir / NAME
    here.mkdir(parents=True, exist_ok=True)
    items = _awards(count)
    serial_items = _awards(count // 10)

    comments = _comments(count // 2)

    def keyring(name: str) -> Keyring:
        return Keyring(random_token(), SqliteKeyStore(here / f"{name}-private.db"))

    baseline_seconds = await asyncio.to_thread(_naive_writer, here / "naive.db", items)
    seconds, latencies = await _through_store(here / "store.db", items, WRITERS, keyring("store"))
    clear_seconds, _ = await _through_store(here / "clear.db", items, WRITERS)
    serial_seconds, _ = await _through_store(here / "serial.db", serial_items, 1, keyring("serial"))
    # first with 500 new writers (each one's key is made, durably, before their comment is
    # written), then as every day after: the same people, their keys made already
    first_words, _ = await _through_store(
        here / "comments.db", comments, WRITERS, comments_keys := keyring("comments")
    )
    sealed_comments, _ = await _through_store(
        here / "comments-again.db", _comments(count // 2), WRITERS, comments_keys
    )
    clear_comments, _ = await _through_store(here / "comments-clear.db", comments, WRITERS)

    figure = count / seconds
    baseline = count / baseline_seconds
    return [
        Result(
            name=NAME,
            unit="awards/s",
            figure=figure,
            baseline=baseline,
            baseline_label="sqlite3 loop, commit per row",
            target=">= 50% of baseline",
            met=figure >= 0.5 * baseline,
            details={
                "awards": count,
                "writers": WRITERS,
                "append_p50_ms": percentile(latencies, 50) * 1000,
                "append_p99_ms": percentile(latencies, 99) * 1000,
                "one_writer_awards_per_s": len(serial_items) / serial_seconds,
                "awards_per_s_without_keyring": count / clear_seconds,
                "comments_per_s_sealed": len(comments) / sealed_comments,
                "comments_per_s_sealed_each_writer_new": len(comments) / first_words,
                "comments_per_s_in_clear": len(comments) / clear_comments,
            },
        )
    ]
