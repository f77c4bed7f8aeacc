"""A projection-checkpoint watcher that runs in its own process.

It polls the read-model file with its own SQLite connection and records when the active
generation's checkpoint moves. A projection commits its documents and checkpoint in one
transaction, so "checkpoint >= position" is exactly "that event's change is visible".
Its own process keeps the timestamps free of the measured process's GIL and event loop;
``time.monotonic`` is one system-wide clock, so both sides compare.
"""

from __future__ import annotations

import sqlite3
import time
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event

QUERY = "SELECT checkpoint FROM generations WHERE projection = ? AND active = 1"
Samples = list[tuple[float, int]]


def watch(path: str, projection: str, results: Connection, stop: Event, interval: float) -> None:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    samples: Samples = []
    last = -1
    try:
        conn.execute("PRAGMA query_only=ON")
        results.send("ready")
        while not stop.is_set():
            row = conn.execute(QUERY, (projection,)).fetchone()
            seen = time.monotonic()
            checkpoint = 0 if row is None else int(row[0])
            if checkpoint != last:
                samples.append((seen, checkpoint))
                last = checkpoint
            time.sleep(interval)
    finally:
        conn.close()
        results.send(samples)
