"""The event store contract: subclass ``EventStoreContract`` and provide a ``store`` fixture.

The fixture yields an empty store (or one whose streams are unique to the test: use
``self.stream(...)`` names, which carry a random suffix so a shared server works too).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from schoolgate_contracts import NewEvent
from schoolgate_contracts.points import PointAwarded

from schoolgate_kit.eventstore import (
    NO_STREAM,
    Batch,
    EventIdReused,
    EventStore,
    WrongExpectedVersion,
)
from schoolgate_kit.testing.events import award, target


class EventStoreContract:
    gap_free_positions = True
    """SQLite's positions count 1, 2, 3...; KurrentDB's commit positions only increase."""

    def stream(self, name: str = "points") -> str:
        return f"{name}-{uuid.uuid4().hex}"

    async def test_append_then_read_stream(self, store: EventStore) -> None:
        stream = self.stream()
        first, second = award("p1"), award("p1", way="teamwork")
        result = await store.append(stream, [first, second], expected_version=NO_STREAM)
        assert result.version == 1
        events = await store.read_stream(stream)
        assert [e.event_id for e in events] == [first.event_id, second.event_id]
        assert [e.version for e in events] == [0, 1]
        assert isinstance(events[1].event, PointAwarded)
        assert events[1].event.school_way_id == "teamwork"
        assert events[0].metadata.school_id == "school-1"
        assert events[0].stream == stream
        assert events[0].position < events[1].position == result.position

    async def test_read_missing_stream_is_empty(self, store: EventStore) -> None:
        assert await store.read_stream(self.stream()) == []

    async def test_expected_version_conflict_is_typed_and_writes_nothing(
        self, store: EventStore
    ) -> None:
        stream = self.stream()
        await store.append(stream, [award()], expected_version=NO_STREAM)
        with pytest.raises(WrongExpectedVersion) as caught:
            await store.append(stream, [award()], expected_version=NO_STREAM)
        assert caught.value.actual == 0
        with pytest.raises(WrongExpectedVersion):
            await store.append(stream, [award()], expected_version=5)
        assert len(await store.read_stream(stream)) == 1
        await store.append(stream, [award()], expected_version=0)
        await store.append(stream, [award()], expected_version=None)
        assert len(await store.read_stream(stream)) == 3

    async def test_same_event_ids_again_write_nothing(self, store: EventStore) -> None:
        stream = self.stream()
        events = [award(), award()]
        first = await store.append(stream, events, expected_version=NO_STREAM)
        again = await store.append(stream, events, expected_version=NO_STREAM)
        assert again.version == first.version
        assert len(await store.read_stream(stream)) == 2

    async def test_reusing_some_event_ids_is_refused(self, store: EventStore) -> None:
        stream = self.stream()
        reused = award()
        await store.append(stream, [reused], expected_version=NO_STREAM)
        with pytest.raises((EventIdReused, WrongExpectedVersion)):
            await store.append(stream, [award(), reused], expected_version=0)
        assert len(await store.read_stream(stream)) == 1

    async def test_global_log_is_in_commit_order(self, store: EventStore) -> None:
        before = await store.head()
        a, b = self.stream(), self.stream()
        await store.append(a, [award("a")], expected_version=NO_STREAM)
        await store.append(b, [award("b")], expected_version=NO_STREAM)
        await store.append(a, [award("a")], expected_version=0)
        batch = await store.read_all(after=before, limit=100)
        mine = [e for e in batch.events if e.stream in {a, b}]
        assert [e.stream for e in mine] == [a, b, a]
        positions = [e.position for e in batch.events]
        assert positions == sorted(positions)
        assert len(set(positions)) == len(positions)
        if self.gap_free_positions:
            assert positions == list(range(before + 1, before + 1 + len(positions)))
        assert await store.head() == batch.events[-1].position

    async def test_read_all_pages_and_filters_by_type(self, store: EventStore) -> None:
        before = await store.head()
        stream = self.stream()
        await store.append(stream, [award() for _ in range(5)], expected_version=NO_STREAM)
        first = await store.read_all(after=before, limit=2)
        assert len(first.events) == 2 and not first.caught_up
        rest = await store.read_all(after=first.up_to, limit=100)
        assert len(rest.events) == 3 and rest.caught_up
        only = await store.read_all(after=before, limit=100, types=["PointAwarded"])
        assert len(only.events) == 5
        none = await store.read_all(after=before, limit=100, types=["SomethingElse"])
        assert none.events == [] and none.caught_up

    async def test_pages_of_some_types_are_exactly_those_events_in_order(
        self, store: EventStore
    ) -> None:
        """Dense types (most of the log) and a sparse one (a few events far apart)."""
        before = await store.head()
        stream = self.stream()
        written: list[NewEvent] = []
        for i in range(40):
            written.append(target(f"pupil-{i}") if i % 13 == 5 else award(f"pupil-{i}"))
        await store.append(stream, written, expected_version=NO_STREAM)

        async def paged(types: list[str], limit: int) -> list[uuid.UUID]:
            seen: list[uuid.UUID] = []
            position = before
            while True:
                batch = await store.read_all(after=position, limit=limit, types=types)
                assert len(batch.events) <= limit
                assert all(e.event_type in types for e in batch.events)
                seen += [e.event_id for e in batch.events]
                assert batch.up_to >= position
                position = batch.up_to
                if batch.caught_up:
                    return seen

        def ids(*types: str) -> list[uuid.UUID]:
            return [e.event_id for e in written if e.event.event_type in types]

        assert await paged(["PointAwarded"], 7) == ids("PointAwarded")
        assert await paged(["DailyTargetSet"], 2) == ids("DailyTargetSet")
        both = ["PointAwarded", "DailyTargetSet"]
        assert await paged(both, 4) == ids(*both)
        assert await paged(["DailyTargetSet", "SomethingElse"], 1) == ids("DailyTargetSet")

    async def test_concurrent_appends_to_one_stream_never_both_win(self, store: EventStore) -> None:
        stream = self.stream()
        await store.append(stream, [award()], expected_version=NO_STREAM)
        outcomes = await asyncio.gather(
            *(store.append(stream, [award()], expected_version=0) for _ in range(10)),
            return_exceptions=True,
        )
        wins = [o for o in outcomes if not isinstance(o, BaseException)]
        assert len(wins) == 1
        assert all(isinstance(o, WrongExpectedVersion) for o in outcomes if o not in wins)
        assert len(await store.read_stream(stream)) == 2

    async def test_subscription_catches_up_then_continues_live(self, store: EventStore) -> None:
        before = await store.head()
        stream = self.stream()
        await store.append(stream, [award(), award()], expected_version=NO_STREAM)
        seen: list[str] = []
        live = asyncio.Event()

        async def follow() -> None:
            subscription: AsyncIterator[Batch] = store.subscribe(after=before, batch_size=1)
            async for batch in subscription:
                seen.extend(e.stream for e in batch.events if e.stream == stream)
                if len(seen) == 3:
                    live.set()
                    return

        task = asyncio.create_task(follow())
        for _ in range(100):
            if len(seen) == 2:
                break
            await asyncio.sleep(0.02)
        assert len(seen) == 2
        await store.append(stream, [award()], expected_version=1)
        await asyncio.wait_for(live.wait(), timeout=5)
        await task
