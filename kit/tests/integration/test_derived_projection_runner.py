"""Derived documents on real SQLite files: written with their document and the checkpoint,
live and in a rebuild, which ends up equal to the live generation."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Mapping
from datetime import date
from pathlib import Path

import pytest
from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.points import PointAwarded
from schoolgate_kit.eventstore import NO_STREAM
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.projections import Projection, rebuild, run_projection
from schoolgate_kit.readmodels import Doc
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.testing.events import ManualClock, award
from schoolgate_kit.testing.waiting import until

NAME = "test.class_pages"


def _evolve(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    assert isinstance(event, PointAwarded)
    total = (doc or {}).get("total", 0) + 1
    return {
        "pupil": event.pupil_id,
        "class": event.class_id,
        "total": total,
        "last": recorded.position,
    }


def _derive(key: str, doc: Doc) -> Mapping[str, Doc]:
    return {f"page|{doc['class']}|{key}": {"target": doc["class"], "sort": doc["last"], **doc}}


pages = Projection(
    name=NAME,
    handles=(PointAwarded,),
    key=lambda r: str(getattr(r.event, "pupil_id")),  # noqa: B009
    evolve=_evolve,
    derive=_derive,
    indexes=(("target", "sort"),),
)


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[tuple[SqliteEventStore, SqliteReadModelStore]]:
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=ManualClock())
    readmodels = await SqliteReadModelStore.open(tmp_path / "readmodels.db")
    yield store, readmodels
    await readmodels.close()
    await store.close()


async def write(store: SqliteEventStore, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        await store.append(
            f"award-{uuid.uuid4().hex}",
            [award(f"p{i % 5}", class_id=f"c{i % 3}", on=date(2026, 11, 16))],
            expected_version=NO_STREAM,
        )


async def page(readmodels: SqliteReadModelStore, target: str) -> list[Doc]:
    return await readmodels.find(NAME, {"target": target}, order_by="sort", descending=True)


async def everything(readmodels: SqliteReadModelStore) -> dict[str, list[Doc]]:
    return {c: await page(readmodels, c) for c in ("c0", "c1", "c2")}


async def test_live_and_rebuilt_derived_documents_are_equal(
    parts: tuple[SqliteEventStore, SqliteReadModelStore],
) -> None:
    store, readmodels = parts
    await write(store, 40)
    task = asyncio.create_task(run_projection(pages, store, readmodels, batch_size=6))
    try:
        await write(store, 17, start=40)
        head = await store.head()
        await until(lambda: _at(readmodels, 1, head), why="the live projection catches up")
        live = await everything(readmodels)
        # every pupil shows once, under the class of its latest award, newest first
        shown = [d["pupil"] for docs in live.values() for d in docs]
        assert sorted(shown) == [f"p{i}" for i in range(5)]
        assert sum(d["total"] for docs in live.values() for d in docs) == 57
        for docs in live.values():
            assert [d["sort"] for d in docs] == sorted((d["sort"] for d in docs), reverse=True)

        assert await rebuild(pages, store, readmodels, batch_size=7) == 2
        assert await everything(readmodels) == live
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _at(readmodels: SqliteReadModelStore, generation: int, head: int) -> bool:
    return await readmodels.checkpoint(NAME, generation) >= head
