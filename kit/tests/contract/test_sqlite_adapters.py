"""The embedded adapters against the port contracts, on real SQLite files."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from schoolgate_contracts import UnknownEventType
from schoolgate_kit.eventstore import NO_STREAM
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.testing.events import ManualClock, award
from schoolgate_kit.testing.eventstore_contract import EventStoreContract
from schoolgate_kit.testing.readmodels_contract import ReadModelStoreContract


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteEventStore]:
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=ManualClock())
    yield store
    await store.close()


@pytest.fixture
async def readmodels(tmp_path: Path) -> AsyncIterator[SqliteReadModelStore]:
    readmodels = await SqliteReadModelStore.open(tmp_path / "readmodels.db")
    yield readmodels
    await readmodels.close()


class TestSqliteEventStore(EventStoreContract):
    async def test_live_events_reach_a_subscriber_within_milliseconds(
        self, store: SqliteEventStore
    ) -> None:
        # The poll interval is 250 ms: delivery in well under that proves it was the wake-up.
        store_head = await store.head()
        got = asyncio.Event()

        async def follow() -> None:
            async for batch in store.subscribe(after=store_head):
                if batch.events:
                    got.set()
                    return

        task = asyncio.create_task(follow())
        await asyncio.sleep(0.3)  # let it catch up and go to sleep on the wake-up event
        loop = asyncio.get_running_loop()
        started = loop.time()
        await store.append("points-live", [award()], expected_version=NO_STREAM)
        await asyncio.wait_for(got.wait(), timeout=5)
        assert loop.time() - started < 0.2
        await task

    async def test_events_survive_reopening_the_file(self, tmp_path: Path) -> None:
        path = tmp_path / "reopen.db"
        first = await SqliteEventStore.open(path, clock=ManualClock())
        await first.append("points-x", [award()], expected_version=NO_STREAM)
        await first.close()
        second = await SqliteEventStore.open(path, clock=ManualClock())
        assert len(await second.read_stream("points-x")) == 1
        assert await second.head() == 1
        await second.close()


class TestSqliteReadModelStore(ReadModelStoreContract):
    pass


async def test_an_unknown_stored_type_fails_loudly_with_stream_and_position(
    tmp_path: Path,
) -> None:
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=ManualClock())
    await store.append("award-1", [award()], expected_version=NO_STREAM)
    conn = sqlite3.connect(tmp_path / "events.db")
    conn.execute("UPDATE events SET type = 'PointsConfiscated' WHERE position = 1")
    conn.commit()
    conn.close()
    with pytest.raises(UnknownEventType, match=r"award-1.*position 1"):
        await store.read_stream("award-1")
    with pytest.raises(UnknownEventType, match=r"award-1.*position 1"):
        await store.read_all()
    await store.close()
