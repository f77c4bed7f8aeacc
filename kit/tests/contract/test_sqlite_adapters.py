"""The embedded adapters against the port contracts, on real SQLite files."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from schoolgate_contracts import BrokenEvent, RecordedEvent, UnknownEventType
from schoolgate_kit.eventstore import (
    NO_STREAM,
    AppendResult,
    Batch,
    EventIdReused,
    WrongExpectedVersion,
)
from schoolgate_kit.eventstore import sqlite as sqlite_store
from schoolgate_kit.eventstore.sqlite import SqliteEventStore, _page
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.sqlite import GroupCommit, SqliteDatabase, connect, insert_many, transaction
from schoolgate_kit.testing.events import ManualClock, award, count_reads, target
from schoolgate_kit.testing.eventstore_contract import EventStoreContract
from schoolgate_kit.testing.readmodels_contract import ReadModelStoreContract
from schoolgate_kit.testing.waiting import until


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


async def test_broken_metadata_fails_where_it_is_read_naming_stream_and_position(
    tmp_path: Path,
) -> None:
    """Metadata is decoded when first read (most projections never read it)."""
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=ManualClock())
    await store.append("award-1", [award(), award()], expected_version=NO_STREAM)
    conn = sqlite3.connect(tmp_path / "events.db")
    conn.execute("UPDATE events SET metadata = '{\"school_id\": 5}' WHERE position = 2")
    conn.commit()
    conn.close()
    first, second = (await store.read_all()).events
    assert first.metadata.school_id == "school-1"
    assert second.event.event_type == "PointAwarded"
    with pytest.raises(BrokenEvent, match=r"award-1.*position 2"):
        second.metadata  # noqa: B018
    await store.close()


async def test_a_typed_page_never_sorts_the_rest_of_the_log(tmp_path: Path) -> None:
    """A page of some types comes from the type index in order, then by position: no
    temporary sort of every later event of those types (which made a rebuild quadratic)."""
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=ManualClock())
    await store.append("award-1", [award() for _ in range(3)], expected_version=NO_STREAM)
    plans: list[str] = []
    conn = sqlite3.connect(tmp_path / "events.db")

    def page(c: sqlite3.Connection) -> object:
        c.set_trace_callback(plans.append)
        try:
            return _page(c, 0, 2, ["PointAwarded", "DailyTargetSet"])
        finally:
            c.set_trace_callback(None)

    rows, _head = await store._db.read(page)  # type: ignore[misc]
    assert [row[3] for row in rows] == [1, 2]
    for statement in plans:
        if statement.startswith("SELECT") and "FROM events" in statement:
            plan = " ".join(
                str(step[-1]) for step in conn.execute(f"EXPLAIN QUERY PLAN {statement}")
            )
            assert "TEMP B-TREE" not in plan, (statement, plan)
    conn.close()
    await store.close()


async def test_a_typed_subscriber_is_not_woken_by_each_commit_of_other_types(
    tmp_path: Path,
) -> None:
    """It moves past this process's commits of other types without reading the log, is
    told how far it got within a poll interval, and still sees its own types, including
    those another process wrote between ours."""
    store = await SqliteEventStore.open(
        tmp_path / "events.db", clock=ManualClock(), poll_interval=0.05
    )
    other = await SqliteEventStore.open(tmp_path / "events.db", clock=ManualClock())
    reads = count_reads(store)
    batches: list[Batch] = []

    async def follow() -> None:
        async for batch in store.subscribe(types=["DailyTargetSet"]):
            batches.append(batch)

    await store.append("award-0", [award()], expected_version=NO_STREAM)
    task = asyncio.create_task(follow())
    try:
        await until(lambda: bool(batches))  # told at once that there is nothing for it
        reads_before = reads.count
        for _ in range(40):
            await store.append(f"award-{uuid.uuid4().hex}", [award()], expected_version=NO_STREAM)
        head = await store.head()
        await until(lambda: batches[-1].up_to == head)
        assert all(not b.events for b in batches)
        assert reads.count - reads_before < 10, f"{reads.count - reads_before} reads for 40 commits"

        await other.append("targets-1", [target()], expected_version=NO_STREAM)  # not ours
        await store.append("award-x", [award()], expected_version=NO_STREAM)
        await store.append("targets-2", [target()], expected_version=NO_STREAM)
        await until(lambda: sum(len(b.events) for b in batches) == 2)
        assert [e.stream for b in batches for e in b.events] == ["targets-1", "targets-2"]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await other.close()
        await store.close()


async def test_a_commit_wakes_only_the_subscribers_following_its_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not even looked at by the others: waking every subscriber on every commit cost the
    embedded server, with 40 of them, nearly half of an award's CPU."""
    store = await SqliteEventStore.open(
        tmp_path / "events.db", clock=ManualClock(), poll_interval=30
    )
    looked: dict[str, int] = {"targets": 0, "all": 0}
    recent = store._recent

    def counting(types: Any, after: int, limit: int) -> Batch | None:
        looked["all" if types is None else "targets"] += 1
        return recent(types, after, limit)

    monkeypatch.setattr(store, "_recent", counting)
    seen: dict[str, list[Batch]] = {"targets": [], "all": []}

    async def follow(name: str, types: list[str] | None) -> None:
        async for batch in store.subscribe(types=types):
            seen[name].append(batch)

    await store.append("award-0", [award()], expected_version=NO_STREAM)
    tasks = [
        asyncio.create_task(follow("targets", ["DailyTargetSet"])),
        asyncio.create_task(follow("all", None)),
    ]
    try:
        await until(lambda: bool(seen["targets"]) and bool(seen["all"]))
        before = dict(looked)
        for number in range(20):
            await store.append(f"award-{number + 1}", [award()], expected_version=NO_STREAM)
        await until(lambda: sum(len(b.events) for b in seen["all"]) == 21)
        assert looked["targets"] == before["targets"], "woken by commits of other types"
        assert looked["all"] > before["all"]

        await store.append("targets-1", [target()], expected_version=NO_STREAM)
        await until(lambda: any(b.events for b in seen["targets"]), within=2)  # not 30 s
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await store.close()


class Numbers(GroupCommit[int]):
    """Numbers into table t, a group at a time; seven is refused and written by no one."""

    def run(self, conn: sqlite3.Connection, group: list[int]) -> list[tuple[bool, object]]:
        outcomes: list[tuple[bool, object]] = []
        for n in group:
            if n == 7:
                outcomes.append((False, ValueError("seven is refused")))
                continue
            conn.execute("INSERT INTO t (n) VALUES (?)", (n,))
            outcomes.append((True, n))
        return outcomes


async def test_concurrent_writes_commit_together_and_one_refusal_reaches_only_its_writer(
    tmp_path: Path,
) -> None:
    db = SqliteDatabase(tmp_path / "group.db")
    await db.write(lambda c: c.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    told: list[tuple[bool, object]] = []  # what each committed group's hook was given
    answered: list[object] = []

    def after_commit(outcomes: list[tuple[bool, object]]) -> None:
        assert not {value for ok, value in outcomes if ok} & set(answered), "told too late"
        told.extend(outcomes)

    commits = Numbers(db, after_commit=after_commit)
    transactions = 0

    def count(statement: str) -> None:
        nonlocal transactions
        transactions += statement.startswith("BEGIN")

    await db.write(lambda c: c.set_trace_callback(count))

    async def write(n: int) -> object:
        value = await commits.submit(n)
        answered.append(value)
        return value

    outcomes = await asyncio.gather(*(write(n) for n in range(20)), return_exceptions=True)
    assert isinstance(outcomes[7], ValueError)
    assert [value for ok, value in told if ok] == [n for n in range(20) if n != 7]
    assert [type(value) for ok, value in told if not ok] == [ValueError]
    assert [o for o in outcomes if not isinstance(o, Exception)] == [n for n in range(20) if n != 7]
    rows = await db.read(lambda c: [r[0] for r in c.execute("SELECT n FROM t ORDER BY n")])
    assert rows == [n for n in range(20) if n != 7]
    assert transactions < 20, "concurrent writes should share transactions"
    await commits.close()
    await db.close()


async def test_one_group_decides_each_append_after_those_before_it(tmp_path: Path) -> None:
    """Appends that commit together are each decided as if made one after another: a
    later one sees the versions and event ids of earlier ones, a refused one writes
    nothing and leaves its neighbours alone, and positions stay gap-free."""
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=ManualClock())
    await store.append("other", [award()], expected_version=NO_STREAM)
    transactions = 0

    def count(statement: str) -> None:
        nonlocal transactions
        transactions += statement.startswith("BEGIN IMMEDIATE")

    await store._db.write(lambda c: c.set_trace_callback(count))
    first = [award("p1"), award("p1")]
    twice = award("p3")
    outcomes = await asyncio.gather(
        store.append("one", first, expected_version=NO_STREAM),
        store.append("one", [award("p1")], expected_version=1),  # after the first
        store.append("two", [award("p2")], expected_version=5),  # wrong version
        store.append("one", first, expected_version=NO_STREAM),  # a retry of the first
        store.append("three", [twice, twice], expected_version=NO_STREAM),  # an id twice
        store.append("three", [first[0]], expected_version=NO_STREAM),  # another's id
        store.append("three", [award("p3")], expected_version=NO_STREAM),
        return_exceptions=True,
    )
    assert transactions == 1, "the appends were meant to share one transaction"
    assert outcomes[0] == AppendResult(version=1, position=3)
    assert outcomes[1] == AppendResult(version=2, position=4)
    assert isinstance(outcomes[2], WrongExpectedVersion)
    assert outcomes[3] == outcomes[0]
    assert isinstance(outcomes[4], EventIdReused)
    assert isinstance(outcomes[5], EventIdReused)
    assert outcomes[6] == AppendResult(version=0, position=5)
    log = (await store.read_all(after=0)).events
    assert [(e.position, e.stream, e.version) for e in log] == [
        (1, "other", 0),
        (2, "one", 0),
        (3, "one", 1),
        (4, "one", 2),
        (5, "three", 0),
    ]
    assert [e.event_id for e in log[1:3]] == [e.event_id for e in first]
    await store.close()


async def test_read_model_commits_that_share_a_transaction_are_each_as_if_alone(
    tmp_path: Path,
) -> None:
    """Commits grouped into one transaction: one to a generation that is gone writes
    nothing and answers False, generation 0 is made on first use, and where two commits
    change one document or checkpoint the later wins."""
    store = await SqliteReadModelStore.open(tmp_path / "readmodels.db")
    generation = await store.start_generation("totals")
    transactions = 0

    def count(statement: str) -> None:
        nonlocal transactions
        transactions += statement.startswith("BEGIN IMMEDIATE")

    await store._db.write(lambda c: c.set_trace_callback(count))
    outcomes = await asyncio.gather(
        store.commit("totals", generation, {"a": {"n": 1}, "b": {"n": 1}}, checkpoint=4),
        store.commit("totals", generation + 1, {"a": {"n": 99}}, checkpoint=99),  # gone
        store.commit("totals", generation, {"a": None, "c": {"n": 2}}, checkpoint=None),
        store.commit("ledger", 0, {"only": {"seen": 3}}, checkpoint=3),
        store.commit("totals", generation, {"b": {"n": 3}, "a": {"n": 4}}, checkpoint=7),
        store.commit("totals", generation, {"c": None}, checkpoint=None),
    )
    assert transactions == 1, "the commits were meant to share one transaction"
    assert list(outcomes) == [True, False, True, True, True, True]
    await store.activate("totals", generation)
    assert await store.get_many("totals", ["a", "b", "c"]) == {"a": {"n": 4}, "b": {"n": 3}}
    assert await store.checkpoint("totals", generation) == 7
    assert await store.checkpoint("totals", generation + 1) == 0
    assert await store.get("ledger", "only") == {"seen": 3}
    assert await store.checkpoint("ledger", 0) == 3
    await store.close()


@pytest.mark.parametrize("count", [0, 1, 2, 3, 63, 64, 65, 200])
async def test_insert_many_writes_every_row_in_order(tmp_path: Path, count: int) -> None:
    db = SqliteDatabase(tmp_path / "many.db")
    rows = [(n, f"row {n}") for n in range(count)]

    def write(conn: sqlite3.Connection) -> list[tuple[int, str]]:
        conn.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, n INTEGER, text TEXT)")
        insert_many(conn, "t (n, text)", 2, rows)
        return conn.execute("SELECT n, text FROM t ORDER BY seq").fetchall()

    assert await db.write(write) == rows
    await db.close()


async def test_a_failing_after_commit_hook_still_answers_every_writer(tmp_path: Path) -> None:
    """The writes committed: a hook that raises must not leave their callers waiting, nor
    stop later writes (it once ran inside the writer's loop, and took it down)."""
    db = SqliteDatabase(tmp_path / "hook.db")
    await db.write(lambda c: c.execute("CREATE TABLE t (n INTEGER PRIMARY KEY)"))

    def broken(outcomes: list[tuple[bool, object]]) -> None:
        raise RuntimeError("the hook broke")

    commits = Numbers(db, after_commit=broken)
    async with asyncio.timeout(10):
        assert await asyncio.gather(*(commits.submit(n) for n in range(5))) == list(range(5))
        assert await commits.submit(5) == 5
    rows = await db.read(lambda c: [r[0] for r in c.execute("SELECT n FROM t ORDER BY n")])
    assert rows == list(range(6))
    await commits.close()
    await db.close()


async def test_live_batches_from_memory_equal_the_events_read_from_the_file(
    tmp_path: Path,
) -> None:
    """Live, a subscriber gets this process's commits without reading the file: exactly
    the events a reader of the file gets, positions, versions, envelopes and all."""
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=ManualClock())
    await store.append("award-0", [award()], expected_version=NO_STREAM)
    heard: list[RecordedEvent] = []
    reads = count_reads(store)

    async def follow() -> None:
        async for batch in store.subscribe(after=1, types=["PointAwarded", "DailyTargetSet"]):
            heard.extend(batch.events)

    task = asyncio.create_task(follow())
    try:
        await asyncio.sleep(0.05)
        reads_before = reads.count
        appends = [
            store.append(
                f"mixed-{i}", [award(f"p{i}"), target(f"p{i}"), award()], expected_version=NO_STREAM
            )
            for i in range(10)
        ]
        await asyncio.gather(*appends)  # several appends in one group commit
        await store.append("mixed-0", [award()], expected_version=2)
        await until(lambda: len(heard) == 31)
        assert reads.count == reads_before, "live batches came from the file"
        from_file = (await store.read_all(after=1, limit=100)).events
        assert heard == from_file
        assert [e.position for e in heard] == list(range(2, 33))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await store.close()


async def test_only_the_latest_commits_are_kept_and_a_subscriber_behind_them_reads_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What is kept for live subscribers stays small (the cycle collector walks all of it),
    and a subscriber that fell behind it still gets every event, from the file."""
    monkeypatch.setattr(sqlite_store, "RECENT_EVENTS", 8)
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=ManualClock())
    try:
        for number in range(20):
            await store.append(f"award-{number}", [award()], expected_version=NO_STREAM)
        await store.append("big", [award() for _ in range(30)], expected_version=NO_STREAM)
        for number in range(5):
            await store.append(f"award-x{number}", [award()], expected_version=NO_STREAM)
        kept = [e.position for commit in store._commits for e in commit.events]
        assert kept == list(range(55 - len(kept) + 1, 55 + 1))  # the newest, in order
        assert len(kept) <= 2 * 8 + 30  # never more than twice the bound, or one commit
        reads = count_reads(store)
        subscription = store.subscribe(after=3)
        first = await anext(subscription)
        await subscription.aclose()
        assert reads.count == 1, "a subscriber behind what is kept reads the file"
        assert [e.position for e in first.events] == list(range(4, 56))
    finally:
        await store.close()


async def _fill(db: SqliteDatabase, rows: int) -> None:
    await db.write(lambda c: c.execute("CREATE TABLE t (n INTEGER PRIMARY KEY, pad TEXT)"))
    blob = "x" * 3000
    for start in range(0, rows, 100):

        def insert(conn: sqlite3.Connection, start: int = start) -> None:
            with transaction(conn):
                conn.executemany(
                    "INSERT INTO t VALUES (?, ?)", [(n, blob) for n in range(start, start + 100)]
                )

        await db.write(insert)


async def test_no_commit_copies_the_log_back(tmp_path: Path) -> None:
    """SQLite's automatic checkpoint ran inside whichever commit crossed 1,000 pages, and
    stalled every award queued behind it: commits never checkpoint here."""
    path = tmp_path / "big.db"
    db = SqliteDatabase(path, checkpoint_every=3600)
    await _fill(db, 3000)  # about 2,300 pages
    assert path.stat().st_size < 100_000, "a commit copied the log back"
    assert await db.read(lambda c: c.execute("SELECT count(*) FROM t").fetchone()[0]) == 3000
    await db.close()


async def test_the_log_is_copied_back_in_the_background(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    db = SqliteDatabase(path, checkpoint_every=0.05)
    await _fill(db, 1000)
    await until(lambda: path.stat().st_size > 3_000_000, within=10, why="copied back")
    await db.close()


def test_connections_opening_a_new_file_at_the_same_moment_all_get_it_in_wal_mode(
    tmp_path: Path,
) -> None:
    """A service and its worker start together on a new file. Both switching it to WAL at
    once can deadlock on the exclusive lock, and SQLite then refuses one at once instead
    of waiting: before the retry, about one opening in a hundred here failed so."""
    openers = 8

    def open_at_once(path: Path, ready: threading.Barrier) -> str:
        ready.wait()
        conn = connect(path)
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
            return str(conn.execute("PRAGMA journal_mode").fetchone()[0])
        finally:
            conn.close()

    with ThreadPoolExecutor(openers) as pool:
        for attempt in range(60):
            ready = threading.Barrier(openers)
            path = tmp_path / f"new-{attempt}.db"
            opening = [pool.submit(open_at_once, path, ready) for _ in range(openers)]
            modes = [future.result() for future in opening]
            assert modes == ["wal"] * openers
