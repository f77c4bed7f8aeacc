"""The embedded event store: one SQLite file in WAL mode.

Appends from concurrent callers are grouped into one transaction (group commit), each decided
after those before it, so one conflict never fails its neighbours. The global position is an
INTEGER PRIMARY KEY, given as one past the head: SQLite has one writer and a refused append
takes no position, so positions are gap-free and in commit order. Subscribers in this process
are woken on commit. Writes by other processes are noticed at once when those processes share
a socket with this one (``share_commits``: each commit sends a ping, and the new events are
read from the file once for all subscribers), and otherwise by a cheap head check every
``poll_interval``.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import heapq
import itertools
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import structlog
from schoolgate_contracts import (
    BrokenEvent,
    Event,
    EventRegistry,
    NewEvent,
    RecordedEvent,
    UnknownEventType,
    registry,
)

from schoolgate_kit import metrics
from schoolgate_kit.crypto import Keyring
from schoolgate_kit.eventstore.port import (
    AppendResult,
    Batch,
    EventIdReused,
    WrongExpectedVersion,
)
from schoolgate_kit.sqlite import GroupCommit, Outcome, SqliteDatabase, connect, insert_many
from schoolgate_kit.wire import metadata_json, recorded

log = structlog.get_logger()

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    stream TEXT NOT NULL,
    version INTEGER NOT NULL,
    type TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    data TEXT NOT NULL,
    metadata TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    UNIQUE (stream, version)
);
CREATE INDEX IF NOT EXISTS events_by_type ON events (type, position);
"""

COLUMNS = "event_id, stream, version, position, type, schema_version, data, metadata, recorded_at"
MAX_GROUP = 256
LOOKUP_CHUNK = 500
RECENT_EVENTS = 1024
"""Events of this process's latest commits kept for live subscribers, who are near the end
(up to twice as many before the older half goes); one further behind reads the file.
Kept, they are objects the cycle collector walks in every full collection: with 4,096
commits kept, those took 50-130 ms under the freshness benchmark's load; now 10-25 ms."""

Row = tuple[str, str, int, int, str, int, str, str, str]
"""The ``COLUMNS`` of one stored event."""


@dataclass(frozen=True, slots=True)
class _Commit:
    """One group commit of this process: positions ``first`` to ``last``, as recorded."""

    first: int
    last: int
    types: frozenset[str]
    events: tuple[RecordedEvent, ...]


@dataclass(eq=False, slots=True)
class _Subscriber:
    """A live subscription of this process: the types it follows, and its doorbell."""

    types: frozenset[str] | None
    woken: asyncio.Event


@dataclass(frozen=True, slots=True)
class _Append:
    """One append as the writer thread needs it: its rows already encoded, on the event
    loop, so the thread's transaction runs little Python (see ``_Appends``)."""

    stream: str
    events: Sequence[NewEvent]
    expected_version: int | None
    recorded_at: datetime
    rows: tuple[tuple[str, str, int, str, str], ...]
    """Per event: its id, type, schema version, data and metadata."""


@dataclass(frozen=True, slots=True)
class _Written:
    """An append's result, what it held, and whether it wrote (a retry of stored events
    does not)."""

    result: AppendResult
    stream: str
    events: Sequence[NewEvent]
    recorded_at: datetime
    wrote: bool


class _Appends(GroupCommit[_Append]):
    """Appends, a group in a handful of statements.

    Each statement the writer thread runs lets go of the GIL while SQLite works, and the
    thread must win it back from the event loop afterwards; with the loop busy, that waits
    up to the interpreter's 5 ms switch interval. One savepoint per append took a group
    of six appends 32 statements (a savepoint, two lookups, the insert and a release
    each), and a group's transaction then sometimes took 30-100 ms. Here every append is
    decided against one lookup of the group's ids and one of its streams' versions, and
    the rows go in together (``insert_many``). Positions are given, not left to the rowid:
    one after the head, in order, so still gap-free.
    """

    def run(self, conn: sqlite3.Connection, group: list[_Append]) -> list[Outcome]:
        ids = [row[0] for append in group for row in append.rows]
        stored: dict[str, tuple[str, int, int]] = {}  # event id: stream, version, position
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for event_id, stream, version, position in conn.execute(
                "SELECT event_id, stream, version, position FROM events"
                f" WHERE event_id IN ({marks})",
                chunk,
            ):
                stored[event_id] = (stream, version, position)
        streams = list({append.stream for append in group})
        versions: dict[str, int] = {}
        for chunk in _chunks(streams):
            marks = ",".join("?" * len(chunk))
            versions.update(
                conn.execute(
                    f"SELECT stream, max(version) FROM events WHERE stream IN ({marks})"
                    " GROUP BY stream",
                    chunk,
                ).fetchall()
            )
        head = int(conn.execute("SELECT max(position) FROM events").fetchone()[0] or 0)
        rows: list[tuple[int, str, str, int, str, int, str, str, str]] = []
        outcomes: list[Outcome] = []
        for append in group:
            try:
                written = _decide(append, stored, versions, head)
            except (EventIdReused, WrongExpectedVersion) as exc:
                outcomes.append((False, exc))
                continue
            outcomes.append((True, written))
            if not written.wrote:
                continue
            at = append.recorded_at.isoformat()
            first = written.result.version - len(append.rows) + 1
            for offset, (event_id, type_, schema, data, metadata) in enumerate(append.rows):
                head += 1
                version = first + offset
                rows.append(
                    (head, event_id, append.stream, version, type_, schema, data, metadata, at)
                )
                stored[event_id] = (append.stream, version, head)
            versions[append.stream] = written.result.version
        insert_many(
            conn,
            "events (position, event_id, stream, version, type, schema_version, data, metadata,"
            " recorded_at)",
            9,
            rows,
        )
        return outcomes


def _decide(
    append: _Append,
    stored: dict[str, tuple[str, int, int]],
    versions: dict[str, int],
    head: int,
) -> _Written:
    """What ``append`` comes to, given the events stored (or written earlier in its group)
    and each stream's version: a retry of stored events writes nothing."""
    ids = [row[0] for row in append.rows]
    found = [stored[event_id] for event_id in ids if event_id in stored]
    if found:
        if len(found) == len(ids) and all(stream == append.stream for stream, _, _ in found):
            _, version, position = max(found, key=lambda hit: hit[1])
            result = AppendResult(version=version, position=position)
            return _Written(result, append.stream, append.events, append.recorded_at, False)
        raise EventIdReused(f"some event ids of this append are already stored: {found}")
    if len(set(ids)) != len(ids):
        raise EventIdReused("this append holds the same event id twice")
    current = versions.get(append.stream, -1)
    if append.expected_version is not None and append.expected_version != current:
        raise WrongExpectedVersion(append.stream, append.expected_version, current)
    result = AppendResult(version=current + len(ids), position=head + len(ids))
    return _Written(result, append.stream, append.events, append.recorded_at, True)


def _chunks(values: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield values[start : start + LOOKUP_CHUNK]


@dataclass(frozen=True)
class SqliteLogReader:
    """The event file, read page by page by a process of its own (``SharedLog``)."""

    path: Path
    keyring: Keyring | None = None

    def pages(
        self, *, after: int, up_to: int, types: Collection[str], batch_size: int
    ) -> Iterator[list[RecordedEvent]]:
        conn = connect(self.path)
        try:
            while after < up_to:
                rows, _ = _page(conn, after, batch_size, types)
                within = rows[: bisect.bisect_right(rows, up_to, key=lambda row: row[3])]
                if within:
                    yield _decode_page(registry, within, self.keyring)
                if len(within) < batch_size:
                    return  # the page reached the end of the log, or went past up_to
                after = within[-1][3]
        finally:
            conn.close()


class SqliteEventStore:
    def __init__(
        self,
        db: SqliteDatabase,
        *,
        clock: Callable[[], datetime],
        events: EventRegistry = registry,
        poll_interval: float = 0.25,
        keyring: Keyring | None = None,
    ) -> None:
        """``keyring``: personal values are written sealed under their subjects' keys, and
        opened when read (``schoolgate_kit.crypto``). Without one they are written as they
        are, as in a test of something else."""
        self._db = db
        self.keyring = keyring
        self._clock = clock
        self._events = events
        self._poll_interval = poll_interval
        self._writes = _Appends(db, max_group=MAX_GROUP, after_commit=self._after_commit)
        self._subscribers: set[_Subscriber] = set()
        self._commits: list[_Commit] = []
        self._kept = 0  # events in _commits
        self._known: int | None = None
        """The log is in ``_commits`` up to here, with no gap: later commits are kept only
        from the next position on. None until the head is first read."""
        self._peers: list[socket.socket] = []
        self._behind = False  # another process wrote past _known
        self._catching_up: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        path: Path,
        *,
        clock: Callable[[], datetime],
        events: EventRegistry = registry,
        poll_interval: float = 0.25,
        synchronous: str = "FULL",
        keyring: Keyring | None = None,
    ) -> SqliteEventStore:
        db = SqliteDatabase(path, synchronous=synchronous)
        await db.write(lambda conn: conn.executescript(SCHEMA))
        store = cls(db, clock=clock, events=events, poll_interval=poll_interval, keyring=keyring)
        store._known = await store.head()
        return store

    def share_commits(self, peer: socket.socket) -> None:
        """Ping ``peer`` after each commit that wrote, and read what the other end's process
        committed as soon as it pings back: its subscribers hear of this process's events,
        and this one's of its, within milliseconds instead of at the next poll.

        ``peer`` is one end of a ``socket.socketpair(AF_UNIX, SOCK_SEQPACKET)`` whose other
        end the other process's store shares. The caller keeps and closes it. A ping is one
        byte and says nothing but "look": the events come from the file, so a lost ping
        only delays them to the next ping or poll. If the other end closes, the socket is
        simply no longer used.
        """
        peer.setblocking(False)
        asyncio.get_running_loop().add_reader(peer.fileno(), self._heard, peer)
        self._peers.append(peer)

    def _ping(self) -> None:
        for peer in list(self._peers):
            try:
                peer.send(b"!")
            except BlockingIOError:  # its pings are unread: it will look anyway
                pass
            except OSError:  # the other end is gone
                self._drop(peer)

    def _heard(self, peer: socket.socket) -> None:
        while True:
            try:
                ping = peer.recv(4096)
            except BlockingIOError:
                break
            except OSError:
                ping = b""
            if not ping:  # the other end closed
                self._drop(peer)
                break
        self._fall_behind()

    def stop_sharing(self, peer: socket.socket) -> None:
        """No more pings to or from ``peer`` (``share_commits``)."""
        self._drop(peer)

    def _drop(self, peer: socket.socket) -> None:
        with contextlib.suppress(ValueError):
            self._peers.remove(peer)
            asyncio.get_running_loop().remove_reader(peer.fileno())

    def _fall_behind(self) -> None:
        """Another process may have written: read the log past ``_known`` once, for every
        subscriber, in a task of its own."""
        self._behind = True
        if self._catching_up is None or self._catching_up.done():
            self._catching_up = asyncio.create_task(self._catch_up(), name="sqlite-catch-up")

    async def _catch_up(self) -> None:
        while self._behind:
            self._behind = False
            try:
                if self._known is None:
                    self._known = await self.head()
                    self._wake(None)
                    continue
                while True:
                    batch = await self.read_all(after=self._known, limit=RECENT_EVENTS)
                    new = [e for e in batch.events if e.position > self._known]
                    if new:
                        types = frozenset(e.event_type for e in new)
                        self._keep(_Commit(new[0].position, new[-1].position, types, tuple(new)))
                        self._wake(types)
                    if batch.caught_up:
                        break
            except Exception:  # subscribers still poll; the next ping or commit tries again
                log.exception("eventstore.catch_up_failed", database=self._db.path.name)
                return

    # -- writing -------------------------------------------------------------------------

    async def append(
        self, stream: str, events: Sequence[NewEvent], *, expected_version: int | None
    ) -> AppendResult:
        if not events:
            raise ValueError("append needs at least one event")
        started = time.perf_counter()
        keyring = self.keyring
        if keyring is not None:
            wanted = keyring.uncached(keyring.key_ids(events))
            if wanted:  # a person's first words: their key is made, off the event loop
                await asyncio.to_thread(keyring.load, wanted, create=True)
            encode: Callable[[NewEvent], str] = keyring.seal
        else:
            encode = _plain
        append = _Append(
            stream,
            events,
            expected_version,
            # appends are committed in the order they were made, so recorded_at never goes back
            self._clock(),
            tuple(
                (
                    str(new.event_id),
                    new.event.event_type,
                    new.event.schema_version,
                    encode(new),
                    metadata_json(new.metadata),
                )
                for new in events
            ),
        )
        written: _Written = await self._writes.submit(append)
        metrics.APPEND_SECONDS.observe(time.perf_counter() - started)
        return written.result

    def _after_commit(self, outcomes: list[Outcome]) -> None:
        """Keep what a group commit wrote and wake the subscribers following its types.

        Only those: woken on every commit, each of the embedded server's 40 subscribers
        ran its loop for nothing, about 11 µs each (40 idle subscribers more than doubled
        the CPU of an append). The others move past such commits when they next look, at
        the latest after ``poll_interval``.
        """
        written = [value for ok, value in outcomes if ok and value.wrote]
        types: frozenset[str] | None = None  # not known: every subscriber looks
        try:
            types = self._remember(written)
        finally:  # subscribers are woken even if keeping the events failed: they read the file
            self._wake(types)
            if written:
                self._ping()

    def _wake(self, types: frozenset[str] | None) -> None:
        """Wake the subscribers following any of ``types`` (all of them for None)."""
        if types is not None and not types:
            return
        for subscriber in self._subscribers:
            if types is None or subscriber.types is None or not types.isdisjoint(subscriber.types):
                subscriber.woken.set()

    def _remember(self, appends: list[_Written]) -> frozenset[str] | None:
        """Keep what this commit wrote, as a reader would get it, for live subscribers; the
        types of the subscribers to wake now: those it wrote, None where it kept nothing it
        wrote (all look), or none when another process's commit came first (the catch-up
        reads both, keeps them and wakes them).

        A group's events are one run of positions: SQLite has one writer, and a refused
        append takes none (``_Appends``). Anything unexpected is simply not kept, and
        subscribers then read the file as before.
        """
        written: list[RecordedEvent] = []
        for append in appends:
            count = len(append.events)
            for offset, new in enumerate(append.events, start=1 - count):
                written.append(
                    RecordedEvent(
                        event_id=new.event_id,
                        stream=append.stream,
                        version=append.result.version + offset,
                        position=append.result.position + offset,
                        recorded_at=append.recorded_at,
                        metadata=new.metadata,
                        event=new.event,
                    )
                )
        if not written:
            return frozenset()  # nothing new: nobody need look
        written.sort(key=lambda e: e.position)
        first, last = written[0].position, written[-1].position
        if last - first + 1 != len(written):
            return None
        types = frozenset(e.event.event_type for e in written)
        if self._known is not None and first != self._known + 1:
            if last > self._known:  # another process wrote in between: read it all from there
                self._fall_behind()
            return frozenset()
        self._keep(_Commit(first, last, types, tuple(written)))
        return types

    def _keep(self, commit: _Commit) -> None:
        """Keep the next commit of the log, this process's or read from the file."""
        self._commits.append(commit)
        self._known = commit.last
        self._kept += len(commit.events)
        if self._kept > 2 * RECENT_EVENTS:
            old = 0
            while self._kept > RECENT_EVENTS and old < len(self._commits) - 1:  # not the newest
                self._kept -= len(self._commits[old].events)
                old += 1
            del self._commits[:old]

    def _recent(self, types: Collection[str] | None, after: int, limit: int) -> Batch | None:
        """The next batch from this process's own recent commits, without reading the file.

        Only while the log past ``after`` is exactly those commits, one after another;
        ``None`` when unsure (another process wrote in between, or they are too old to be
        remembered), and the subscriber reads the file. Commits holding none of ``types``
        are passed over: told after every commit, each of a service's projections read the
        log and wrote its checkpoint on every award.
        """
        commits = self._commits
        start = len(commits)
        while start > 0 and commits[start - 1].last > after:  # subscribers are near the end
            start -= 1
        reached = after
        events: list[RecordedEvent] = []
        for commit in commits[start:]:
            if commit.first != reached + 1:
                break
            if types is None or not commit.types.isdisjoint(types):
                wanted = [e for e in commit.events if types is None or e.event_type in types]
                if events and len(events) + len(wanted) > limit:
                    break
                events += wanted
            reached = commit.last
        if reached == after:
            return None
        return Batch(events=events, up_to=reached, caught_up=reached == commits[-1].last)

    # -- reading -------------------------------------------------------------------------

    async def read_stream(self, stream: str, *, from_version: int = 0) -> list[RecordedEvent]:
        rows = await self._db.read(
            lambda c: c.execute(
                f"SELECT {COLUMNS} FROM events WHERE stream = ? AND version >= ? ORDER BY version",
                (stream, from_version),
            ).fetchall()
        )
        return _decode_page(self._events, rows, self.keyring)

    async def read_all(
        self, *, after: int = 0, limit: int = 1000, types: Collection[str] | None = None
    ) -> Batch:
        rows, head = await self._db.read(lambda c: _page(c, after, limit, types))
        events = _decode_page(self._events, rows, self.keyring)
        full = len(rows) == limit
        up_to = events[-1].position if full else max(head, after)
        return Batch(events=events, up_to=up_to, caught_up=not full)

    async def subscribe(
        self, *, after: int = 0, types: Collection[str] | None = None, batch_size: int = 1000
    ) -> AsyncIterator[Batch]:
        """Batches from ``after`` on, then live.

        Live, this process's own commits come from memory (``_recent``), not the file, and
        only commits holding some of ``types`` wake the subscriber. It moves past the others
        when it next looks, and is told how far it has got (an empty batch) at most once
        per ``poll_interval``.
        """
        position = after
        told, told_at = after, 0.0  # the first "nothing for you" is told at once
        me = _Subscriber(None if types is None else frozenset(types), asyncio.Event())
        self._subscribers.add(me)
        try:
            while True:
                me.woken.clear()  # before reading, so no commit slips between
                batch = self._recent(types, position, batch_size) or await self.read_all(
                    after=position, limit=batch_size, types=types
                )
                if batch.events:
                    position = told = batch.up_to
                    told_at = time.monotonic()
                    yield batch
                    if not batch.caught_up:
                        continue
                else:
                    position = max(position, batch.up_to)
                if position > told and time.monotonic() - told_at >= self._poll_interval:
                    told, told_at = position, time.monotonic()
                    yield Batch(events=[], up_to=position, caught_up=True)
                # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
                # that lands as the wait completes, and the subscription would never stop
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._poll_interval):
                        await me.woken.wait()
        finally:
            self._subscribers.discard(me)

    def log_reader(self) -> SqliteLogReader | None:
        """The file, read by another process: only with the registry every process has."""
        if self._events is not registry:
            return None
        return SqliteLogReader(self._db.path, self.keyring)

    async def head(self) -> int:
        row = await self._db.read(
            lambda c: c.execute("SELECT max(position) FROM events").fetchone()
        )
        return int(row[0] or 0)

    async def ping(self) -> None:
        await self._db.read(lambda c: c.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        for peer in list(self._peers):
            self._drop(peer)
        if self._catching_up is not None:
            self._catching_up.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._catching_up
        await self._writes.close()
        await self._db.close()


def _plain(new: NewEvent) -> str:
    return new.event.model_dump_json()


def _decode(events: EventRegistry, row: Row, keyring: Keyring | None = None) -> RecordedEvent:
    return recorded(
        event_id=row[0],
        stream=row[1],
        version=row[2],
        position=row[3],
        event_type=row[4],
        schema_version=row[5],
        data=row[6],
        metadata=row[7],
        recorded_at=row[8],
        events=events,
        keyring=keyring,
    )


def _decode_page(
    registered: EventRegistry, rows: list[Row], keyring: Keyring | None = None
) -> list[RecordedEvent]:
    """Every row of a page, in one tight loop: a replay spends its time here.

    The envelope's id and metadata stay encoded until read. A row that fails is decoded
    again the slow way, which raises naming its stream and position. With a keyring, a
    type holding personal values is opened through it (and kept sealed for the relay).
    """
    opener = None if keyring is None else keyring.open
    text_opener = None if keyring is None else keyring.open_text

    def loader(kind: str, schema: int) -> Callable[[bytes | str], Event]:
        return registered.loader(kind, schema, opener, text_opener)

    is_current = registered.is_current
    fromisoformat = datetime.fromisoformat
    events: list[RecordedEvent] = []
    if not rows:
        return events
    append = events.append
    # a page is mostly of one type: its loader is looked up when the type changes
    kind, version_of_kind = rows[0][4], rows[0][5]
    load, current = loader(kind, version_of_kind), is_current(kind, version_of_kind)
    try:
        for event_id, stream, version, position, type_, schema, data, metadata, at in rows:
            if type_ != kind or schema != version_of_kind:
                kind, version_of_kind = type_, schema
                load, current = loader(kind, schema), is_current(kind, schema)
            append(
                RecordedEvent(  # by position: a keyword call cost a replay 0.4 µs an event
                    event_id,
                    stream,
                    version,
                    position,
                    fromisoformat(at),
                    metadata,
                    load(data),
                    data if current else None,
                )
            )
    except (UnknownEventType, BrokenEvent, ValueError):
        for row in rows[len(events) :]:
            events.append(_decode(registered, row, keyring))
        raise  # only if the slow way found nothing wrong, which it should not
    return events


def _page(
    conn: sqlite3.Connection, after: int, limit: int, types: Collection[str] | None
) -> tuple[list[Row], int]:
    conn.execute("BEGIN")  # one snapshot for the page and the head
    try:
        head_row = conn.execute("SELECT max(position) FROM events").fetchone()
        head = int(head_row[0] or 0)
        if types is None:
            rows = conn.execute(
                f"SELECT {COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?",
                (after, limit),
            ).fetchall()
        else:
            rows = _page_of_types(conn, after, limit, list(types), head)
    finally:
        conn.execute("COMMIT")
    return rows, head


def _page_of_types(
    conn: sqlite3.Connection, after: int, limit: int, types: list[str], head: int
) -> list[Row]:
    """The next ``limit`` events of these types up to ``head``, without sorting the rest of
    the log.

    ``type IN (...) ORDER BY position`` makes SQLite gather every later event of those
    types and sort them, page after page. Instead the type index bounds the page: the
    ``limit``-th next event of any one type is as far as it can reach. Where the types
    are most of the range it is read in rowid order; where they are rare, each event is
    looked up by its position. Both steps run inside SQLite, never row by row here.
    """
    if not types:
        return []
    bounds = [
        row[0]
        for event_type in types
        for row in conn.execute(
            "SELECT position FROM events WHERE type = ? AND position > ?"
            " ORDER BY position LIMIT 1 OFFSET ?",
            (event_type, after, limit - 1),
        )
    ]
    upper = min(bounds) if bounds else head  # how far the page can reach
    found = sum(
        conn.execute(
            "SELECT count(*) FROM events WHERE type = ? AND position > ? AND position <= ?",
            (event_type, after, upper),
        ).fetchone()[0]
        for event_type in types
    )
    if not found:
        return []
    marks = ",".join("?" * len(types))
    if upper - after <= 2 * found:
        return conn.execute(
            f"SELECT {COLUMNS} FROM events WHERE position > ? AND position <= ?"
            f" AND +type IN ({marks}) ORDER BY position LIMIT ?",
            (after, upper, *types, limit),
        ).fetchall()
    positions = heapq.merge(
        *(
            (
                row[0]
                for row in conn.execute(
                    "SELECT position FROM events WHERE type = ? AND position > ?"
                    " AND position <= ? ORDER BY position",
                    (event_type, after, upper),
                )
            )
            for event_type in types
        )
    )
    wanted = list(itertools.islice(positions, limit))
    rows: list[Row] = []
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        chunk = wanted[start : start + LOOKUP_CHUNK]
        rows += conn.execute(
            f"SELECT {COLUMNS} FROM events WHERE position IN ({','.join('?' * len(chunk))})"
            " ORDER BY position",
            chunk,
        ).fetchall()
    return rows
