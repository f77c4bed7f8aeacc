"""The projection runner on real SQLite files: live, replay, rebuild and swap are one path."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from schoolgate_contracts import RecordedEvent
from schoolgate_kit.eventstore import NO_STREAM
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.projections import Projection, catch_up, rebuild, run_projection
from schoolgate_kit.readmodels import Doc
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
        assert gc.isenabled(), "a rebuild pauses cycle collection only while it runs"
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


async def test_a_changed_projection_is_rebuilt_before_the_runner_goes_on(
    parts: tuple[SqliteEventStore, SqliteReadModelStore],
) -> None:
    """A release that folds events differently must not keep documents the old one made."""
    store, readmodels = parts
    await write_awards(store, 9)

    async def run_until_caught_up(projection: Projection) -> None:
        """Run it until it has projected one more award, written after it started: until
        its checkpoint reaches that award's position (being caught up with the log as it
        was when the runner started is not enough)."""
        task = asyncio.create_task(run_projection(projection, store, readmodels))
        try:
            await write_awards(store, 1)
            written = await store.head()

            async def projected() -> bool:
                generation = await readmodels.active_generation(projection.name)
                return generation is not None and (
                    await readmodels.checkpoint(projection.name, generation) >= written
                )

            await until(projected, why="the award written after the runner started")
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    await run_until_caught_up(weekly_totals)
    before = await all_docs(readmodels)
    assert sum(int(d["total"]) for d in before.values()) == 10

    def doubled(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
        once = weekly_totals.evolve(doc, recorded)
        return None if once is None else {**once, "doubled": True}

    # the same fold again: nothing is rebuilt, the one new award is simply added
    await run_until_caught_up(weekly_totals)
    again = await all_docs(readmodels)
    assert sum(int(d["total"]) for d in again.values()) == 11
    assert not any(d.get("doubled") for d in again.values())
    # a new version: every document is made again by the new fold
    task = asyncio.create_task(
        run_projection(
            replace(weekly_totals, evolve=doubled, evolve_in_place=None, version=2),
            store,
            readmodels,
        )
    )

    async def rebuilt() -> bool:
        after = await all_docs(readmodels)
        return after.keys() == again.keys() and all(d.get("doubled") for d in after.values())

    try:
        await until(rebuilt, why="every document made again by version 2")
        await write_awards(store, 1)  # and it goes on live afterwards

        async def counted() -> bool:
            docs = await all_docs(readmodels)
            return sum(int(d["total"]) for d in docs.values()) == 12

        await until(counted, why="the runner follows new awards after the rebuild")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_catching_up_a_generation_that_holds_documents_adds_to_them(
    parts: tuple[SqliteEventStore, SqliteReadModelStore],
) -> None:
    """The second pass of a rebuild, or a resumed one: documents written by an earlier pass
    are loaded, not started again, and no event is counted twice."""
    store, readmodels = parts
    await write_awards(store, 20)
    generation = await readmodels.start_generation(WEEKLY_TOTALS)
    first = await catch_up(weekly_totals, store, readmodels, generation, fresh=True)
    await write_awards(store, 9)
    second = await catch_up(
        weekly_totals, store, readmodels, generation, batch_size=4, commit_every=5
    )
    assert first == 20 and second == 29
    await readmodels.activate(WEEKLY_TOTALS, generation)
    docs = await all_docs(readmodels)
    assert sum(int(d["total"]) for d in docs.values()) == 29
    assert docs["p0:2026-11-16"]["total"] == 3  # awards 0 and 14 of the first pass, 0 of the second


async def test_the_live_runner_does_not_read_back_what_it_just_wrote(
    parts: tuple[SqliteEventStore, SqliteReadModelStore],
) -> None:
    store, readmodels = parts
    loaded: list[set[str]] = []
    load = readmodels.load

    async def counted(projection: str, generation: int, keys: Any) -> dict[str, Doc]:
        if projection == WEEKLY_TOTALS:
            loaded.append(set(keys))
        return await load(projection, generation, keys)

    readmodels.load = counted  # type: ignore[method-assign]
    task = asyncio.create_task(run_projection(weekly_totals, store, readmodels))
    try:
        for _ in range(6):  # one pupil, one week, six separate commits
            await write_awards(store, 1, pupils=1)
            head = await store.head()
            await until(functools.partial(_at, readmodels, head), why="reached the head")
        doc = await readmodels.get(WEEKLY_TOTALS, weekly_total_key("p0", "2026-11-16"))
        assert doc is not None and doc["total"] == 6
        assert sum(1 for keys in loaded if "p0:2026-11-16" in keys) == 1
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _at(readmodels: SqliteReadModelStore, head: int) -> bool:
    return await readmodels.checkpoint(WEEKLY_TOTALS, 1) >= head
