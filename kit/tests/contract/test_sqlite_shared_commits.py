"""Two processes on one SQLite event file, telling each other of their commits.

Each process is played by a store of its own on the same file, with its own connections, as
the embedded web and worker processes open it. Their pings go over a real socket pair.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

from schoolgate_contracts import RecordedEvent
from schoolgate_kit.eventstore import NO_STREAM
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.testing.events import ManualClock, award, count_reads, target
from schoolgate_kit.testing.waiting import until

NEVER = 3600.0
"""A poll interval no test waits out: what arrives, arrived by a ping."""


@contextlib.asynccontextmanager
async def sharing(tmp_path: Path) -> AsyncIterator[tuple[SqliteEventStore, SqliteEventStore]]:
    path = tmp_path / "events.db"
    web = await SqliteEventStore.open(path, clock=ManualClock(), poll_interval=NEVER)
    work = await SqliteEventStore.open(path, clock=ManualClock(), poll_interval=NEVER)
    ends = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    web.share_commits(ends[0])
    work.share_commits(ends[1])
    try:
        yield web, work
    finally:
        await work.close()
        await web.close()
        for end in ends:
            end.close()


@contextlib.asynccontextmanager
async def following(
    store: SqliteEventStore, types: list[str] | None = None
) -> AsyncIterator[list[RecordedEvent]]:
    heard: list[RecordedEvent] = []

    async def follow() -> None:
        async for batch in store.subscribe(types=types):
            heard.extend(batch.events)

    task = asyncio.create_task(follow())
    try:
        await asyncio.sleep(0.05)  # caught up with the empty log, waiting live
        yield heard
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_subscriber_hears_the_other_process_commit_at_once(tmp_path: Path) -> None:
    """With an hour between polls, only the ping can have told it."""
    async with sharing(tmp_path) as (web, work), following(work, ["PointAwarded"]) as heard:
        await web.append("award-1", [award()], expected_version=NO_STREAM)
        await until(lambda: len(heard) == 1, within=5, why="the ping did not arrive")
        assert heard[0].stream == "award-1"


async def test_the_other_process_events_are_read_once_for_all_its_subscribers(
    tmp_path: Path,
) -> None:
    """Each of a process's subscribers reading the file for each of the other's commits
    cost the worker process more than the folding itself."""
    async with (
        sharing(tmp_path) as (web, work),
        following(work, ["PointAwarded"]) as first,
        following(work, ["PointAwarded"]) as second,
        following(work) as everything,
    ):
        reads = count_reads(work)
        for number in range(10):
            await web.append(f"award-{number}", [award()], expected_version=NO_STREAM)
            await until(lambda number=number: len(everything) == number + 1, within=5)
        await until(lambda: len(first) == len(second) == 10, within=5)
        assert reads.count <= 10, f"{reads.count} reads for 10 commits and 3 subscribers"


async def test_both_processes_writing_each_subscriber_gets_every_event_once_in_order(
    tmp_path: Path,
) -> None:
    """What a process keeps for its subscribers stays the log itself, with no gap, while
    the other's commits land between its own."""
    async with (
        sharing(tmp_path) as (web, work),
        following(web) as on_web,
        following(work) as on_work,
        following(work, ["DailyTargetSet"]) as targets,
    ):

        async def write(store: SqliteEventStore, name: str) -> None:
            for number in range(30):
                event = target() if number % 3 == 0 else award()
                await store.append(f"{name}-{number}", [event], expected_version=NO_STREAM)

        await asyncio.gather(write(web, "web"), write(work, "work"), write(web, "web2"))
        logged = (await web.read_all(after=0, limit=1000)).events
        assert len(logged) == 90
        await until(lambda: len(on_web) == len(on_work) == 90, within=10)
        assert on_web == logged
        assert on_work == logged
        await until(lambda: len(targets) == 30, within=5)
        assert targets == [e for e in logged if e.event_type == "DailyTargetSet"]


async def test_when_the_other_process_goes_its_commits_are_still_found_by_polling(
    tmp_path: Path,
) -> None:
    path = tmp_path / "events.db"
    web = await SqliteEventStore.open(path, clock=ManualClock(), poll_interval=NEVER)
    work = await SqliteEventStore.open(path, clock=ManualClock(), poll_interval=0.05)
    ends = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    web.share_commits(ends[0])
    work.share_commits(ends[1])
    try:
        async with following(work) as heard:
            web.stop_sharing(ends[0])
            ends[0].close()  # as a process that died would leave it
            await until(lambda: not work._peers, within=5, why="the closed end was kept")
            await web.append("award-1", [award()], expected_version=NO_STREAM)
            await until(lambda: len(heard) == 1, within=5, why="polling did not find it")
            await work.append("award-2", [award()], expected_version=NO_STREAM)
            await until(lambda: len(heard) == 2, within=5)
            assert [e.stream for e in heard] == ["award-1", "award-2"]
    finally:
        await work.close()
        await web.close()
        ends[1].close()


async def test_a_commit_after_an_unheard_one_of_the_other_process_is_read_once(
    tmp_path: Path,
) -> None:
    """This process's commit lands after another's it has not heard of: both are read from
    the file once, for every subscriber, not also by each subscriber it wakes."""
    path = tmp_path / "events.db"
    web = await SqliteEventStore.open(path, clock=ManualClock(), poll_interval=NEVER)
    work = await SqliteEventStore.open(path, clock=ManualClock(), poll_interval=NEVER)
    try:
        async with following(work) as heard, following(work, ["PointAwarded"]) as awards:
            reads = count_reads(work)
            await web.append("award-1", [award()], expected_version=NO_STREAM)  # no ping
            await work.append("award-2", [award()], expected_version=NO_STREAM)
            await until(lambda: len(heard) == len(awards) == 2, within=5)
            assert [e.stream for e in heard] == ["award-1", "award-2"]
            assert reads.count == 1
    finally:
        await work.close()
        await web.close()
