"""SQLite plumbing shared by the embedded adapters: one writer thread, a few reader threads.

sqlite3 blocks, so every statement runs in an executor; the writer has exactly one thread
and connection (SQLite has one writer anyway), readers get their own connections in WAL mode.

Checkpoints (copying the write-ahead log back into the database file) run in a thread of
their own, every ``checkpoint_every`` seconds, never in a commit: SQLite's automatic ones
ran inside whichever commit crossed 1,000 pages, and that commit, and every award queued
behind it, then waited on the copy and its fsync (a 100-200 ms stall every second or so
under load).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import functools
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Generic, TypeVar

import structlog

T = TypeVar("T")
W = TypeVar("W")
log = structlog.get_logger()

SYNCHRONOUS = "FULL"
"""Every commit reaches the disk before it is acknowledged: records survive power loss."""


CHECKPOINT_EVERY = 0.25
"""Seconds between checkpoints. A checkpoint runs beside the writer, but its fsync of the
database file holds up the event file's commits on the same disk for as long as it takes,
and that grows with the pages it copies. Every second, under the freshness benchmark's
500 awards/s, the read models' checkpoint took mostly 25-45 ms (up to 49), and the slowest
award answer of each 100 ms near one was 5-19 ms slower (median, four runs) than elsewhere.
Every quarter of a second it took mostly 7-17 ms, and the difference was -2 to +3 ms (three
runs). A checkpoint with nothing to copy does not touch the disk."""
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024
"""Bytes of write-ahead log kept on disk once it has been copied back (it is reused)."""


def connect(path: Path, *, synchronous: str = SYNCHRONOUS) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    # Wait for locks before anything else: switching a fresh file to WAL takes a lock that
    # another process opening the same file at the same moment must wait for, not fail on.
    conn.execute("PRAGMA busy_timeout=30000")
    _switch_to_wal(conn)
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA wal_autocheckpoint=0")  # see the module's docstring
    conn.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
    # What a change or a deletion frees is overwritten with zeros, so a name a read model no
    # longer holds (an erased pupil's, a rebuilt projection's) is not left in a free page.
    conn.execute("PRAGMA secure_delete=ON")
    return conn


WAL_SWITCH_SECONDS = 30.0


def _switch_to_wal(conn: sqlite3.Connection) -> None:
    """WAL mode, which a new file takes from whichever connection switches it first.

    Two connections switching a fresh file at once can each hold the shared lock and want
    the exclusive one. SQLite then refuses one of them at once, "database is locked",
    without waiting (waiting would never end): in the test suite, a service and its worker
    starting together sometimes failed so. The refused one tries again once the other has
    switched the file, and finds it in WAL mode already.
    """
    deadline = time.monotonic() + WAL_SWITCH_SECONDS
    while True:
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        else:
            if mode == "wal":
                return
            if time.monotonic() > deadline:
                raise sqlite3.OperationalError(f"the database stayed in {mode} mode, not WAL")
        time.sleep(0.01)


class SqliteDatabase:
    def __init__(
        self,
        path: Path,
        *,
        readers: int = 2,
        synchronous: str = SYNCHRONOUS,
        checkpoint_every: float = CHECKPOINT_EVERY,
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._synchronous = synchronous
        self._writer_pool = ThreadPoolExecutor(1, thread_name_prefix=f"sqlite-w-{path.name}")
        self._reader_pool = ThreadPoolExecutor(readers, thread_name_prefix=f"sqlite-r-{path.name}")
        self._writer: sqlite3.Connection | None = None
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._checkpoint_every = checkpoint_every
        self._checkpoint_pool = ThreadPoolExecutor(1, thread_name_prefix=f"sqlite-c-{path.name}")
        self._checkpoint_conn: sqlite3.Connection | None = None
        self._checkpointer: asyncio.Task[None] | None = None

    def _writer_conn(self) -> sqlite3.Connection:
        if self._writer is None:
            self._writer = connect(self.path, synchronous=self._synchronous)
        return self._writer

    def _reader_conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, synchronous=self._synchronous)
            conn.execute("PRAGMA query_only=ON")
            self._local.conn = conn
            with self._lock:
                self._readers.append(conn)
        return conn

    async def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._checkpointer is None:
            self._checkpointer = asyncio.create_task(
                self._checkpoints(), name=f"sqlite-checkpoints:{self.path.name}"
            )
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer_pool, lambda: fn(self._writer_conn()))

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader_pool, lambda: fn(self._reader_conn()))

    async def _checkpoints(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self._checkpoint_every)
            try:
                await loop.run_in_executor(self._checkpoint_pool, self._checkpoint)
            except sqlite3.Error as exc:  # e.g. another process is checkpointing: next time
                log.info("sqlite.checkpoint_skipped", database=self.path.name, error=str(exc))

    def _checkpoint(self) -> None:
        """Copy what it can without waiting for readers or the writer (``PASSIVE``)."""
        if self._checkpoint_conn is None:
            self._checkpoint_conn = connect(self.path, synchronous=self._synchronous)
        self._checkpoint_conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checkpointer
            self._checkpointer = None

        def close_checkpoints() -> None:
            if self._checkpoint_conn is not None:
                self._checkpoint_conn.close()
                self._checkpoint_conn = None

        def close_writer() -> None:
            if self._writer is not None:
                self._writer.close()
                self._writer = None

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._checkpoint_pool, close_checkpoints)
        self._checkpoint_pool.shutdown(wait=True)
        await loop.run_in_executor(self._writer_pool, close_writer)
        self._writer_pool.shutdown(wait=True)
        self._reader_pool.shutdown(wait=True)
        with self._lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()


class transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolling back on any error."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")


ROWS_PER_INSERT = 64
"""Most rows one ``insert_many`` statement carries: 64 rows of up to 15 columns stay under
the 999 variables older SQLite builds allow."""


def insert_many(
    conn: sqlite3.Connection, into: str, width: int, rows: Sequence[Sequence[Any]], then: str = ""
) -> None:
    """``INSERT INTO {into} VALUES (...), (...), ... {then}``: the rows in a few statements,
    not one step each as ``executemany`` takes them.

    Each step lets go of the GIL, and under load the event loop takes it and keeps it for
    up to the interpreter's switch interval (5 ms) before the thread runs on. With another
    thread holding the GIL 50 ms in every 70, ten rows through ``executemany`` took up to
    32 ms (p99), and as one statement 0.2 ms. The rows go in runs of a power of two, so a
    connection prepares at most seven statements of each kind. (A 150,000-row insert also
    took 0.36 s instead of 0.54-0.77 s.)
    """
    one = "(" + ",".join("?" * width) + ")"
    start = 0
    while start < len(rows):
        size = min(1 << ((len(rows) - start).bit_length() - 1), ROWS_PER_INSERT)
        values = [value for row in rows[start : start + size] for value in row]
        conn.execute(f"INSERT INTO {into} VALUES {','.join([one] * size)} {then}", values)
        start += size


Outcome = tuple[bool, Any]
"""What one write of a group came to: (True, its value) or (False, the exception it raised)."""


class GroupCommit(abc.ABC, Generic[W]):
    """Writes from concurrent callers, taken together in one transaction.

    A subclass says how a group of writes runs inside the transaction (``run``), in as few
    statements as it can (``insert_many`` says why); a caller is answered once the whole
    group has committed. Under load this turns many small transactions into a few larger
    ones; alone, a write goes at once.
    """

    def __init__(
        self,
        db: SqliteDatabase,
        *,
        max_group: int = 256,
        after_commit: Callable[[list[Outcome]], None] | None = None,
    ) -> None:
        """``after_commit`` is given each committed group's outcomes, in order, before any
        caller is answered. If it raises, the error is logged and the callers are answered
        as usual: their writes committed."""
        self._db = db
        self._max_group = max_group
        self._after_commit = after_commit
        self._queue: asyncio.Queue[tuple[W, asyncio.Future[Any]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    @abc.abstractmethod
    def run(self, conn: sqlite3.Connection, group: list[W]) -> list[Outcome]:
        """In the writer thread, inside the group's transaction: one outcome per write, in
        order. A write that fails alone must leave nothing behind; raising fails them all."""

    async def submit(self, work: W) -> Any:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=f"group-commit:{self._db.path}")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._queue.put((work, future))
        return await future

    def _transaction(self, conn: sqlite3.Connection, group: list[W]) -> list[Outcome]:
        with transaction(conn):
            return self.run(conn, group)

    async def _loop(self) -> None:
        while True:
            group = [await self._queue.get()]
            while len(group) < self._max_group and not self._queue.empty():
                group.append(self._queue.get_nowait())
            try:
                outcomes = await self._db.write(
                    functools.partial(self._transaction, group=[work for work, _ in group])
                )
            except BaseException as exc:  # the transaction itself failed: tell every caller
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                continue
            if self._after_commit is not None:
                try:
                    self._after_commit(outcomes)
                except Exception:  # committed all the same: the callers must still hear
                    log.exception("sqlite.after_commit_failed", database=self._db.path.name)
            for (_, future), (ok, value) in zip(group, outcomes, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
