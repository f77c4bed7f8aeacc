"""What the HTTP benchmarks share: a server in a process of its own on loopback, and a load
generator in another, so neither the server nor the load steals the other's interpreter."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
from schoolgate_kit.testing.processes import free_port

from bench.common import percentile


def ms(values: list[float], q: float) -> float:
    """The ``q``-th percentile of seconds, in milliseconds."""
    return percentile(values, q) * 1000


@contextlib.contextmanager
def serving(name: str, args: list[str], env: dict[str, str], here: Path) -> Iterator[str]:
    """``python -m <args> --port P``-style server (the port goes in ``env`` as
    SCHOOLGATE_PORT and after ``--port`` when ``args`` ends with it); its URL once ready."""
    port = free_port()
    argv = [sys.executable, "-m", *args]
    if argv[-1] == "--port":
        argv.append(str(port))
    env = {**env, "SCHOOLGATE_HOST": "127.0.0.1", "SCHOOLGATE_PORT": str(port)}
    log_path = here / f"{name}.log"
    with log_path.open("ab") as log:
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited:\n{log_path.read_text()[-3000:]}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} did not start within 60 s")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@dataclass
class Load:
    answered: int = 0
    failed: int = 0
    items: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else float("nan")


T = TypeVar("T")


LOAD_NICENESS = 10
"""The load generator yields the CPU to the server it measures. Clients would be other
machines; here they share the server's two cores, at the same priority. At 500 awards/s,
three paired runs (a cold server, no lighter phases first) gave a freshness p99 of 289,
352 and 287 ms with the load at the server's priority, and 155, 249 and 196 ms with it
niced. A load that falls behind still shows: latency counts from when each request was
due, not from when it went."""


def _run_load(
    load: Callable[..., Awaitable[Any]], args: tuple[Any, ...], go: Event, out: Connection
) -> None:
    try:
        os.nice(LOAD_NICENESS)
        go.wait()
        out.send(asyncio.run(load(*args)))
    finally:
        out.close()


class LoadProcess(Generic[T]):
    """Runs ``load(*args)`` in a new interpreter; started early (importing takes a while),
    it waits for ``go``. ``load`` must be a module-level function (it is pickled)."""

    def __init__(self, load: Callable[..., Awaitable[T]], *args: Any) -> None:
        spawn = multiprocessing.get_context("spawn")
        self._go = spawn.Event()
        self._receiver, sender = spawn.Pipe(duplex=False)
        self._proc = spawn.Process(
            target=_run_load, args=(load, args, self._go, sender), daemon=True
        )
        self._proc.start()
        sender.close()

    def go(self) -> LoadProcess[T]:
        self._go.set()
        return self

    async def result(self) -> T:
        if not await asyncio.to_thread(self._receiver.poll, 120):
            raise TimeoutError("the load generator did not finish")
        load: T = self._receiver.recv()
        await asyncio.to_thread(self._proc.join, 10)
        return load

    async def run(self) -> T:
        return await self.go().result()

    def stop(self) -> None:
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(10)
