"""replay: events/s rebuilding weekly totals from a large award log, each award's pupil sealed.

Baseline: a scan that only reads and decodes the same rows through ``store.read_all`` pages
of 5,000, doing nothing else, in one process.

The rebuild is the one an operator runs: weekly totals add up, so it folds parts of the log
in ``rebuild_workers()`` processes (one per CPU, at most 4) and merges them. The same
rebuild in one process is measured too and shown beside it. When the rebuild misses its
target, a cProfile of a smaller one-process rebuild is attached to the result (the event
loop's thread only: time spent in SQLite reader/writer threads shows up as waiting).

The store reads with a keyring, as a deployment's does. An award's one personal value, whose
it is, is sealed under its week's key, stably, so the log is opened as text with one
decryption per child and week; a log of comments (each sealed under its writer's key, 500
writers, a fresh nonce each) is scanned with the keyring and, in clear, without one, to show
what opening values sealed one by one costs.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from schoolgate_kit.crypto import Keyring
from schoolgate_kit.eventstore.sqlite import SCHEMA, SqliteEventStore
from schoolgate_kit.keys import random_token
from schoolgate_kit.keystores import SqliteKeyStore
from schoolgate_kit.projections import PARALLEL_FROM, rebuild, rebuild_workers
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.wire import metadata_json
from schoolgate_points.projections import WEEKLY_TOTALS, weekly_totals

from bench.common import COMMENT_WRITERS, INSERT, Result, comments, write_award_log

NAME = "replay"
PAGE = 5000
PROFILE_EVENTS = 100_000


def utc_now() -> datetime:
    return datetime.now(UTC)


async def _scan(store: SqliteEventStore) -> tuple[int, float]:
    seen = 0
    position = 0
    started = time.perf_counter()
    while True:
        batch = await store.read_all(after=position, limit=PAGE)
        seen += len(batch.events)
        position = batch.up_to
        if batch.caught_up:
            break
    return seen, time.perf_counter() - started


def _write_comments(path: Path, count: int, keyring: Keyring | None) -> None:
    """A log of ``count`` comments, sealed with ``keyring`` (or in clear), in one transaction."""
    if keyring is not None:
        keyring.load([f"school-00/person/par_{n:04d}" for n in range(COMMENT_WRITERS)], create=True)
    rows = []
    for stream, new in comments(count):
        data = new.event.model_dump_json() if keyring is None else keyring.seal(new)
        rows.append(
            (
                str(new.event_id),
                stream,
                new.event.event_type,
                new.event.schema_version,
                data,
                metadata_json(new.metadata),
                utc_now().isoformat(),
            )
        )
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(SCHEMA)
        conn.execute("BEGIN")
        conn.executemany(INSERT, rows)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def _scan_comments(here: Path, count: int) -> tuple[float, float]:
    """Events/s scanning sealed comments with a keyring (nothing cached), and in clear."""
    figures = []
    for sealed in (True, False):
        keyring = (
            Keyring(random_token(), SqliteKeyStore(here / "comments-private.db"))
            if sealed
            else None
        )
        path = here / ("comments-sealed.db" if sealed else "comments-clear.db")
        _write_comments(path, count, keyring)
        if keyring is not None:  # a fresh process's keyring: every key read once
            keyring = Keyring(keyring._secret, SqliteKeyStore(here / "comments-private.db"))
        store = await SqliteEventStore.open(path, clock=utc_now, keyring=keyring)
        try:
            scanned, seconds = await _scan(store)
            assert scanned == count
        finally:
            await store.close()
        figures.append(count / seconds)
    return figures[0], figures[1]


async def _rebuild(
    store: SqliteEventStore, path: Path, *, workers: int = 0
) -> tuple[float, int, int]:
    """Seconds to rebuild into a fresh read-model file; documents and points they hold."""
    readmodels = await SqliteReadModelStore.open(path)
    try:
        started = time.perf_counter()
        await rebuild(weekly_totals, store, readmodels, batch_size=PAGE, workers=workers)
        elapsed = time.perf_counter() - started
        docs = await readmodels.find(WEEKLY_TOTALS, {})
        return elapsed, len(docs), sum(int(doc["total"]) for doc in docs)
    finally:
        await readmodels.close()


async def _profile(workdir: Path) -> str:
    log = workdir / "profile-events.db"
    keyring = Keyring(random_token(), SqliteKeyStore(workdir / "profile-private.db"))
    write_award_log(log, PROFILE_EVENTS, keyring=keyring)
    store = await SqliteEventStore.open(log, clock=utc_now, keyring=keyring)
    profiler = cProfile.Profile()
    try:
        profiler.enable()
        await _rebuild(store, workdir / "profile-readmodels.db", workers=1)
        profiler.disable()
    finally:
        await store.close()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(15)
    stats.sort_stats("cumulative").print_stats(25)
    return out.getvalue()


async def run(workdir: Path, *, quick: bool, profile: bool = False) -> list[Result]:
    count = 100_000 if quick else 1_000_000
    here = workdir / NAME
    here.mkdir(parents=True, exist_ok=True)
    # the log outlives a run (the runner clears ``here`` after each): with --repeat, later
    # runs read the same log instead of spending a minute writing it again
    log = workdir / f"{NAME}-log-{count}" / "events.db"
    # its keys beside it, under a master key made with it (and kept with it for --repeat)
    secret_file = log.parent / "master.key"
    started = time.perf_counter()
    if not log.exists():
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        secret_file.write_text(random_token())
        writer = Keyring(secret_file.read_text(), SqliteKeyStore(log.parent / "private.db"))
        write_award_log(log, count, keyring=writer)
        writer.store.close()
    written = time.perf_counter() - started
    os.sync()  # the log on disk before anything is timed: writing it back slowed the reads

    keyring = Keyring(secret_file.read_text(), SqliteKeyStore(log.parent / "private.db"))
    store = await SqliteEventStore.open(log, clock=utc_now, keyring=keyring)
    try:
        scanned, scan_seconds = await _scan(store)
        assert scanned == count, f"scan saw {scanned} of {count} events"
        seconds, docs, points = await _rebuild(store, here / "readmodels.db")
        alone, _, alone_points = await _rebuild(store, here / "alone.db", workers=1)
    finally:
        await store.close()
        keyring.store.close()
    # the same awards with whose each is in clear, as before encryption: what sealing costs
    clear_log = workdir / f"{NAME}-clear-log-{count}" / "events.db"
    if not clear_log.exists():
        write_award_log(clear_log, count)
    os.sync()
    clear_keys = Keyring(random_token(), SqliteKeyStore(here / "clear-private.db"))
    clear_store = await SqliteEventStore.open(clear_log, clock=utc_now, keyring=clear_keys)
    try:
        clear_seconds, _, _ = await _rebuild(clear_store, here / "clear.db")
    finally:
        await clear_store.close()
        clear_keys.store.close()
    comments = count // 10
    sealed_per_s, clear_per_s = await _scan_comments(here, comments)

    figure = count / seconds
    baseline = count / scan_seconds
    met = figure >= 0.3 * baseline and figure >= 100_000
    result = Result(
        name=NAME,
        unit="events/s",
        figure=figure,
        baseline=baseline,
        baseline_label="read_all pages, decode only",
        target=">= 30% of baseline and >= 100,000/s",
        met=met,
        details={
            "events": count,
            "documents": docs,
            "points_in_documents": points,
            "consistent": "yes"
            if points == alone_points == count
            else f"NO: {points}, {alone_points} in one process, != {count}",
            # the quick run's log is too short to be folded in parts
            "processes": rebuild_workers() if count >= PARALLEL_FROM else 1,
            "rebuild_seconds": seconds,
            "in_one_process_events_per_s": count / alone,
            "awards_in_clear_events_per_s": count / clear_seconds,
            "in_one_process_seconds": alone,
            "log_written_seconds": written,  # about 0 when an earlier run wrote it
            "comments_scanned": comments,
            "sealed_comments_scan_per_s": sealed_per_s,
            "clear_comments_scan_per_s": clear_per_s,
        },
    )
    if profile or not met:
        result.details["profile"] = await _profile(here)
    return [result]
