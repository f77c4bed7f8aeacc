"""Reading an uploaded roster in a process of its own.

Unpacking a zip and parsing its CSV rows is CPU-bound and, for a hostile or merely large
file, memory-hungry: on the web process it stalled every request (a 400 KB zip held the event
loop for 2.6 s, and a thread would still hold the GIL) and grew the process by 1.4 GB that was
never given back. Each upload is read in a fresh process instead, under an address-space
limit, and the process ends with its read: its memory goes back to the system whatever it
read. The web process only waits on a pipe for its progress and its snapshot (plain
dataclasses, pickled), and at most ``concurrency`` are read at once.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from schoolgate_kit.problems import Problem

from schoolgate_roster import importing
from schoolgate_roster.import_diff import (
    Snapshot,
)

Progress = Callable[[int, int], None]
SPAWN = multiprocessing.get_context("spawn")  # never fork a process running an event loop


class ReadFailed(Problem):
    status, slug, title = 422, "roster-file-unreadable", "The roster file could not be read"


@dataclass(frozen=True)
class ReadResult:
    kind: str
    """``importing.ONEROSTER`` or ``importing.SIMPLE_CSV``."""
    total: int
    """Rows read."""
    snapshot: Snapshot
    peak_bytes: int
    """The reading process's peak resident memory."""


def _peak_bytes() -> int:
    """This process's own peak resident memory (``VmHWM``). Not ``ru_maxrss``: a spawned
    process inherits its parent's figure from before the exec, so it would report the web
    process's size whenever that is the larger."""
    try:
        with Path("/proc/self/status").open(encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _child(
    conn: Connection,
    content_type: str,
    school_id: str,
    school_source_id: str | None,
    org: str | None,
    grade_names: str,
    memory_bytes: int,
) -> None:
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        data = conn.recv_bytes()
        kind, tables = importing.open_upload(content_type, data)
        del data
        total = importing.count_rows(tables)
        conn.send(("total", total))
        sent = [0]

        def progress(done: int, total: int) -> None:
            if done - sent[0] >= 100 or done == total:
                sent[0] = done
                conn.send(("progress", done))

        snapshot = importing.read_snapshot(
            kind,
            tables,
            school_id=school_id,
            school_source_id=school_source_id,
            org=org,
            grade_names=grade_names,
            progress=progress,
        )
        conn.send(("done", ReadResult(kind, total, snapshot, _peak_bytes())))
    except Problem as problem:
        conn.send(("problem", _parts(problem)))
    except MemoryError:
        too_big = ReadFailed("the file needs more memory to read than a roster can")
        conn.send(("problem", _parts(too_big)))
    finally:
        conn.close()


class Reader:
    """Reads uploads in fresh processes, ``concurrency`` at a time."""

    def __init__(self, *, concurrency: int = 1, memory_bytes: int = 1024 * 1024 * 1024) -> None:
        self._slots = asyncio.Semaphore(concurrency)
        self._memory = memory_bytes

    async def read(
        self,
        content_type: str,
        data: bytes,
        *,
        school_id: str,
        progress: Progress,
        school_source_id: str | None = None,
        org: str | None = None,
        grade_names: str = "uk",
    ) -> ReadResult:
        """The upload read for this school; its problem raised as it is.

        ``school_source_id`` is the id the school's own system gave it, recorded by an
        earlier import; ``org`` is the school the leader picked among a district file's;
        ``grade_names`` ("uk" or "us") names the year groups the file adds."""
        async with self._slots:
            return await asyncio.to_thread(
                self._read,
                content_type,
                data,
                school_id,
                school_source_id,
                org,
                grade_names,
                progress,
            )

    def _read(
        self,
        content_type: str,
        data: bytes,
        school_id: str,
        school_source_id: str | None,
        org: str | None,
        grade_names: str,
        progress: Progress,
    ) -> ReadResult:
        mine, theirs = SPAWN.Pipe()
        child = SPAWN.Process(
            target=_child,
            args=(
                theirs,
                content_type,
                school_id,
                school_source_id,
                org,
                grade_names,
                self._memory,
            ),
            name="roster-reader",
            daemon=True,
        )
        child.start()
        theirs.close()
        try:
            mine.send_bytes(data)
            total = 0
            while True:
                try:
                    kind, value = mine.recv()
                except EOFError:
                    child.join(5)
                    raise ReadFailed(
                        "reading the file stopped (it needs more memory than a roster can,"
                        f" exit code {child.exitcode})"
                    ) from None
                if kind == "total":
                    total = int(value)
                    progress(0, total)
                elif kind == "progress":
                    progress(int(value), total)
                elif kind == "problem":
                    raise Relayed(*value)
                else:
                    return value  # type: ignore[no-any-return]
        finally:
            mine.close()
            child.join(5)
            if child.is_alive():
                child.kill()
                child.join()


def _parts(problem: Problem) -> tuple[int, str, str, str, dict[str, Any]]:
    """A problem as plain data: exceptions with their own ``__init__`` do not unpickle."""
    return problem.status, problem.slug, problem.title, problem.detail, problem.extra


class Relayed(Problem):
    """A problem the reading process found, as it found it."""

    def __init__(
        self, status: int, slug: str, title: str, detail: str, extra: dict[str, Any]
    ) -> None:
        super().__init__(detail, **extra)
        self.status, self.slug, self.title = status, slug, title
