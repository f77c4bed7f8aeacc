"""SQLite plumbing shared by the embedded adapters: one writer thread, a few reader threads.

sqlite3 blocks, so every statement runs in an executor; the writer has exactly one thread
and connection (SQLite has one writer anyway), readers get their own connections in WAL mode.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

SYNCHRONOUS = "FULL"
"""Every commit reaches the disk before it is acknowledged: records survive power loss."""


def connect(path: Path, *, synchronous: str = SYNCHRONOUS) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    # Wait for locks before anything else: switching a fresh file to WAL takes a lock that
    # another process opening the same file at the same moment must wait for, not fail on.
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


class SqliteDatabase:
    def __init__(self, path: Path, *, readers: int = 2, synchronous: str = SYNCHRONOUS) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._synchronous = synchronous
        self._writer_pool = ThreadPoolExecutor(1, thread_name_prefix=f"sqlite-w-{path.name}")
        self._reader_pool = ThreadPoolExecutor(readers, thread_name_prefix=f"sqlite-r-{path.name}")
        self._writer: sqlite3.Connection | None = None
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

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
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer_pool, lambda: fn(self._writer_conn()))

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._reader_pool, lambda: fn(self._reader_conn()))

    async def close(self) -> None:
        def close_writer() -> None:
            if self._writer is not None:
                self._writer.close()
                self._writer = None

        loop = asyncio.get_running_loop()
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
