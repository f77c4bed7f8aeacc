"""``python -m bench.profiled OUT MODULE``: ``python -m MODULE`` under cProfile, its stats
written to OUT when it is told to stop (SIGTERM) or ends.

Not ``python -m cProfile -o``: uvicorn puts back the handler it found and raises the signal
again once it has shut down, so the process died of it and cProfile never wrote. Here the
handler it finds is this one, which writes the stats and exits."""

from __future__ import annotations

import cProfile
import runpy
import signal
import sys
from types import FrameType

out, module = sys.argv[1], sys.argv[2]
profiler = cProfile.Profile()


def _stop(signum: int, frame: FrameType | None) -> None:
    profiler.disable()
    profiler.dump_stats(out)
    sys.exit(0)


signal.signal(signal.SIGTERM, _stop)
sys.argv = [module, *sys.argv[3:]]
profiler.enable()
try:
    runpy.run_module(module, run_name="__main__", alter_sys=True)
finally:
    profiler.disable()
    profiler.dump_stats(out)
