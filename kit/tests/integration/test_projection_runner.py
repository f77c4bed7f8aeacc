"""The projection runner on real SQLite files: live, replay, rebuild and swap are one path."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from schoolgate_kit.eventstore import NO_STREAM
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.projections import rebuild, run_projection
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.testing.events import ManualClock, award
from schoolgate_kit.testing.waiting import until
from schoolgate_points.projections import WEEKLY_TOTALS, weekly_total_key, weekly_totals


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[tuple[SqliteEventStore, SqliteReadModelStore]]:
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=ManualClock())
    readmodels = await SqliteReadModelStore.open(tmp_path / "readmodels.db")
    yield store, readmodels
    await readmodels.close()
    await store.close()


async def write_awards(store: SqliteEventStore, count: int, pupils: int = 7) -> None:
    for i in range(count):
        await store.append(
            f"award-{uuid.uuid4().hex}",
            [award(f"p{i % pupils}", on=date(2026, 11, 16 + i % 14))],
            expected_version=NO_STREAM,
        )


async def all_docs(readmodels: SqliteReadModelStore) -> dict[str, dict[str, object]]:
    docs = await readmodels.find(WEEKLY_TOTALS, {})
    return {f"{d['pupil_id']}:{d['week_start']}": d for d in docs}


async def test_live_projection_counts_every_award_once(
    parts: tuple[SqliteEventStore, SqliteReadModelStore],
) -> None:
    store, readmodels = parts
    await write_awards(store, 30)
    task = asyncio.create_task(run_projection(weekly_totals, store, readmodels, batch_size=4))
    try:
        await until(lambda: not task.done())
        await write_awards(store, 12)

        async def total() -> int:
            return sum(int(d["total"]) for d in (await all_docs(readmodels)).values())

        for _ in range(200):
            if await total() == 42:
                break
            await asyncio.sleep(0.02)
        assert await total() == 42
        doc = await readmodels.get(WEEKLY_TOTALS, weekly_total_key("p0", "2026-11-16"))
        assert doc is not None and doc["total"] >= 1
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_rebuild_equals_live_and_the_live_runner_follows_the_new_generation(
    parts: tuple[SqliteEventStore, SqliteReadModelStore],
) -> None:
    store, readmodels = parts
    await write_awards(store, 50)
    task = asyncio.create_task(run_projection(weekly_totals, store, readmodels))
    try:
        for _ in range(200):
            if await readmodels.checkpoint(WEEKLY_TOTALS, 1) == await store.head():
                break
            await asyncio.sleep(0.02)
        live = await all_docs(readmodels)
        progress: list[tuple[int, int]] = []
        generation = await rebuild(
            weekly_totals,
            store,
            readmodels,
            batch_size=7,
            progress=lambda at, of: progress.append((at, of)),
        )
        assert generation == 2
        assert await readmodels.active_generation(WEEKLY_TOTALS) == 2
        assert await all_docs(readmodels) == live
        assert progress and progress[-1][0] == progress[-1][1]
        # new events after the swap land in the new generation
        await write_awards(store, 5)
        for _ in range(200):
            if await readmodels.checkpoint(WEEKLY_TOTALS, 2) == await store.head():
                break
            await asyncio.sleep(0.02)
        assert sum(int(d["total"]) for d in (await all_docs(readmodels)).values()) == 55
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
