"""The roster's own reader on an export, outside the app, in an interpreter of its own.

    python -m bench.read_alone < export.zip   # prints JSON: seconds, peak_bytes, high_water

``seconds`` is the wall time of ``Reader.read`` (its reading process started and ended
included, as the job's ``reading.seconds`` is); ``peak_bytes`` is what the reader reports
(``ReadResult.peak_bytes``); ``high_water`` is its reading process's VmHWM, sampled from here
until that process ended. This module imports the reader alone: the reading process, spawned
from here, imports this module again first and is measured with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from schoolgate_roster.reading import Reader

from bench.csv_alone import high_water

SCHOOL = "demo-school"


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # a process's name may hold spaces and brackets: its parent follows the last ")"
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(stat.parent.name))
    return found


async def read(data: bytes) -> dict[str, float | int]:
    me = os.getpid()
    before = children(me)
    sampled = [0]
    stop = threading.Event()

    def sample() -> None:
        # VmHWM only grows: the last sample before the process ends is its peak, give or
        # take what it grew in its last two milliseconds
        while not stop.is_set():
            for pid in children(me) - before:
                sampled[0] = max(sampled[0], high_water(pid))
            stop.wait(0.002)

    sampler = threading.Thread(target=sample, name="reader-sampler", daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        result = await Reader().read(
            "application/zip", data, school_id=SCHOOL, progress=lambda _done, _total: None
        )
        seconds = time.perf_counter() - started
    finally:
        stop.set()
        sampler.join()
    return {"seconds": seconds, "peak_bytes": result.peak_bytes, "high_water": sampled[0]}


def measure(data: bytes, *, timeout: float) -> dict[str, float | int]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.read_alone"],
        input=data,
        capture_output=True,
        timeout=timeout,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    measured: dict[str, float | int] = json.loads(done.stdout)
    return measured


if __name__ == "__main__":
    print(json.dumps(asyncio.run(read(sys.stdin.buffer.read()))))
