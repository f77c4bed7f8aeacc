"""Uploads are made safe in throwaway processes, so a decompression bomb costs one of them.

Each upload's ``make_safe`` runs in a process of its own, forked from a small fork server
that has already imported the decoders (so a job starts in a few milliseconds, not the
quarter of a second a fresh interpreter takes). The process may grow by at most
``memory_max_bytes`` of address space and use ``DECODE_CPU_SECONDS`` of CPU; it sends back
the clean copy and exits, which gives all its memory back to the system. A file that
needs more memory than that fails its allocation (``MemoryError``) or gets the process
killed; either way the upload is answered 422 "too large to process" and the web process
never held more than the bytes uploaded and the clean copy.

At most ``concurrency`` such processes run at once; other uploads wait their turn.

Why not a ``ProcessPoolExecutor``: when one of its workers dies, every job in flight fails
and the pool is broken for good, so one bomb would fail its neighbours' uploads too.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import multiprocessing
import resource
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import ForkServerContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import structlog

from schoolgate_kit.media.safety import SafeMedia, UnsafeMedia, make_safe, too_large_to_process

log = structlog.get_logger()

DECODE_CPU_SECONDS = 60
"""CPU time one upload may use: a 50-megapixel photo takes about one second; this only
stops a file crafted to keep a decoder busy from holding a slot for ever."""

PRELOADED = ["schoolgate_kit.media.safety"]
"""Imported once by the fork server, so each job's process has Pillow and pypdf ready."""

Work = Callable[[bytes], SafeMedia]


class DecoderClosed(RuntimeError):
    """The service is shutting down: no new decodes start."""


@dataclass(frozen=True)
class _Finished:
    outcome: tuple[Any, ...] | None
    """What the process sent back; None when it died before it could."""
    exitcode: int | None


def _context() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    assert isinstance(context, ForkServerContext)
    # Only takes effect when the fork server starts (the first decode of the process).
    context.set_forkserver_preload(PRELOADED)
    return context


def _address_space() -> int:
    """This process's current virtual size in bytes (what RLIMIT_AS counts)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def _run_job(sender: Connection, work: Work, data: bytes, memory_max: int, cpu: int) -> None:
    """The decoding process: limit itself, do the work, send back what came of it."""
    # Counted from where this process already is (the interpreter, the decoders and the
    # uploaded bytes), so the setting means "what one decode may add", whatever the
    # interpreter's own size.
    limit = _address_space() + memory_max
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    outcome: tuple[Any, ...]
    try:
        outcome = ("safe", work(data))
    except UnsafeMedia as refused:
        outcome = ("unsafe", refused.detail, refused.reason)
    except MemoryError:
        outcome = ("too-large",)
    except Exception as error:  # a bug, not the file's fault: the parent answers 500
        outcome = ("failed", f"{type(error).__name__}: {error}")
    del data
    try:
        sender.send(outcome)
    except MemoryError:  # the clean copy fitted, but not a pickled copy of it as well
        sender.send(("too-large",))


class _Job:
    """One upload's process, waited for from a thread so the event loop never blocks."""

    def __init__(self, work: Work, data: bytes, memory_max: int, cpu: int) -> None:
        self._args = (work, data, memory_max, cpu)
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._killed = False

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def kill(self) -> None:
        with self._lock:
            self._killed = True
            if self._process is not None and self._process.exitcode is None:
                self._process.kill()

    def run(self) -> _Finished:
        context = _context()
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=_run_job, args=(sender, *self._args), name="schoolgate-decode", daemon=True
        )
        with self._lock:
            if self._killed:
                receiver.close()
                sender.close()
                return _Finished(None, None)
            process.start()
            self._process = process
        sender.close()  # so that the process's death reads as end of file here
        outcome: tuple[Any, ...] | None
        try:
            outcome = receiver.recv()
        except (EOFError, OSError):
            outcome = None
        finally:
            receiver.close()
        process.join()
        return _Finished(outcome, process.exitcode)


@dataclass
class Decoder:
    """Runs ``work`` (``make_safe``) on uploads, each in its own limited process.

    Plain arguments, no settings: each service that takes uploads builds its own from its
    own settings, and its processes and turns are that service's alone."""

    concurrency: int
    memory_max_bytes: int
    work: Work | None = None
    """What to run; ``make_safe`` with this memory budget unless a test says otherwise."""
    cpu_seconds: int = DECODE_CPU_SECONDS
    _work: Work = field(init=False, repr=False)
    _slots: asyncio.Semaphore = field(init=False, repr=False)
    _threads: ThreadPoolExecutor | None = field(init=False, repr=False, default=None)
    _jobs: set[_Job] = field(init=False, repr=False, default_factory=set)
    _closed: bool = field(init=False, repr=False, default=False)
    _queued: int = field(init=False, repr=False, default=0)

    def __post_init__(self) -> None:
        self._work = self.work or functools.partial(make_safe, memory_budget=self.memory_max_bytes)
        self._slots = asyncio.Semaphore(self.concurrency)

    @property
    def running(self) -> list[int]:
        """Process ids of the decodes under way (for tests and diagnostics)."""
        return [pid for job in list(self._jobs) if (pid := job.pid) is not None]

    @property
    def queued(self) -> int:
        """Uploads waiting for their turn."""
        return self._queued

    async def make_safe(self, data: bytes) -> SafeMedia:
        """``make_safe(data)``, run in a process of its own with its limits."""
        self._queued += 1
        try:
            await self._slots.acquire()
        finally:
            self._queued -= 1
        try:
            finished = await self._run(data)
        finally:
            self._slots.release()
        return _result(finished, data)

    async def _run(self, data: bytes) -> _Finished:
        if self._closed:
            raise DecoderClosed("the service is shutting down")
        if self._threads is None:
            self._threads = ThreadPoolExecutor(self.concurrency, "schoolgate-decode")
        job = _Job(self._work, data, self.memory_max_bytes, self.cpu_seconds)
        self._jobs.add(job)
        try:
            waiting = asyncio.get_running_loop().run_in_executor(self._threads, job.run)
            try:
                return await asyncio.shield(waiting)
            except asyncio.CancelledError:
                # The turn is held until the process is gone, so that abandoned requests
                # cannot pile up decodes beyond the limit.
                job.kill()
                with contextlib.suppress(BaseException):
                    await waiting
                raise
        finally:
            self._jobs.discard(job)

    async def close(self) -> None:
        """Stop taking decodes and end those under way (their requests get 422)."""
        self._closed = True
        for job in list(self._jobs):
            job.kill()
        if self._threads is not None:
            await asyncio.to_thread(self._threads.shutdown, wait=True)


def _kind(data: bytes) -> str:
    """What the upload looks like, as ``make_safe`` decides it, for the words of a refusal."""
    return "PDF" if data.startswith(b"%PDF-") else "video" if data[4:8] == b"ftyp" else "picture"


def _result(finished: _Finished, data: bytes) -> SafeMedia:
    match finished.outcome:
        case ("safe", SafeMedia() as safe):
            return safe
        case ("unsafe", str(detail), str(reason)):
            raise UnsafeMedia(detail, reason=reason)
        case ("failed", str(error)):
            raise RuntimeError(f"making an upload safe failed: {error}")
        case ("too-large",):
            log.warning("decode-memory-limit", size=len(data))
            raise too_large_to_process(_kind(data))
        case _:
            # Killed: by its memory or CPU limit, by the kernel's OOM killer, or by close().
            log.warning("decode-process-died", exitcode=finished.exitcode, size=len(data))
            raise too_large_to_process(_kind(data))
