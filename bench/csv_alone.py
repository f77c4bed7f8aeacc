"""The import benchmark's baseline: unzip a roster export and parse its files with the csv
module alone, in a fresh interpreter that imports nothing else.

    python bench/csv_alone.py < export.zip   # prints: rows peak_bytes

Run as a script, by its path: through multiprocessing's spawn, the child would first import
the parent's main module again (``bench.run`` and all it imports), and be measured with it.
"""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import time
import zipfile
from pathlib import Path


def high_water(pid: int | str = "self") -> int:
    """A process's peak resident bytes since it started its program (VmHWM); 0 once gone.

    Not ``ru_maxrss``: on Linux that keeps what the process held before its exec, so a
    process spawned from a large one reports at least its parent's size."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def parse(data: bytes, *, timeout: float) -> tuple[float, int, int]:
    """Seconds (starting the interpreter included, as the roster reader's process start is
    in its figure), rows, and the process's peak resident bytes."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__], input=data, capture_output=True, timeout=timeout, check=True
    )
    seconds = time.perf_counter() - started
    rows, peak = done.stdout.split()
    return seconds, int(rows), int(peak)


def main() -> None:
    rows = 0
    with zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read())) as archive:
        for name in archive.namelist():
            text = archive.read(name).decode("utf-8-sig")
            rows += sum(1 for _ in csv.reader(io.StringIO(text, newline="")))
    print(rows, high_water())


if __name__ == "__main__":
    main()
