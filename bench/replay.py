"""replay: events/s rebuilding weekly totals from a large award log.

Baseline: a scan that only reads and decodes the same rows through ``store.read_all`` pages
of 5,000, doing nothing else, in one process.

The rebuild is the one an operator runs: weekly totals add up, so it folds parts of the log
in ``rebuild_workers()`` processes (one per CPU, at most 4) and merges them. The same
rebuild in one process is measured too and shown beside it. When the rebuild misses its
target, a cProfile of a smaller one-process rebuild is attached to the result (the event
loop's thread only: time spent in SQLite reader/writer threads shows up as waiting).
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import time
from datetime import UTC, datetime
from pathlib import Path

from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.projections import PARALLEL_FROM, rebuild, rebuild_workers
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_points.projections import WEEKLY_TOTALS, weekly_totals

from bench.common import Result, write_award_log

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
    write_award_log(log, PROFILE_EVENTS)
    store = await SqliteEventStore.open(log, clock=utc_now)
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
    started = time.perf_counter()
    if not log.exists():
        write_award_log(log, count)
    written = time.perf_counter() - started
    os.sync()  # the log on disk before anything is timed: writing it back slowed the reads

    store = await SqliteEventStore.open(log, clock=utc_now)
    try:
        scanned, scan_seconds = await _scan(store)
        assert scanned == count, f"scan saw {scanned} of {count} events"
        seconds, docs, points = await _rebuild(store, here / "readmodels.db")
        alone, _, alone_points = await _rebuild(store, here / "alone.db", workers=1)
    finally:
        await store.close()

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
            "in_one_process_seconds": alone,
            "log_written_seconds": written,  # about 0 when an earlier run wrote it
        },
    )
    if profile or not met:
        result.details["profile"] = await _profile(here)
    return [result]
