"""``python -m schoolgate_embedded.work FD``: the embedded worker process.

The web process starts it (``workers.WorkerProcess``) with one end of a socket pair as file
descriptor FD, and the same environment. It runs every projection, the relay and the
reactors on an in-process bus until told to stop (SIGTERM), or until the web process is gone.
Ctrl-C in a terminal reaches the whole process group: this process leaves stopping to the
web process, which stops it in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys

import structlog
from schoolgate_gateway.projections import PROJECTIONS as GATEWAY_PROJECTIONS
from schoolgate_gateway.settings import GatewaySettings
from schoolgate_kit.bus.memory import InProcessBus
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.logging import configure_logging
from schoolgate_kit.relay import run_relay
from schoolgate_kit.runtime import run, run_workers, settle_heap

from schoolgate_embedded.app import SERVICES, open_parts

log = structlog.get_logger()
PARENT_CHECK_EVERY = 1.0


async def _until_stopped() -> None:
    """Until SIGTERM, or until the web process that started this one is gone."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    parent = os.getppid()
    while os.getppid() == parent:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(PARENT_CHECK_EVERY):
                await stop.wait()
                return


async def work(settings: GatewaySettings, peer: socket.socket) -> int:
    async with open_parts(settings) as parts:
        assert isinstance(parts.store, SqliteEventStore)
        parts.store.share_commits(peer)
        bus = InProcessBus(parts.readmodels, max_deliveries=settings.consumer_max_deliveries)
        settle_heap()
        running = [
            asyncio.create_task(
                run_workers(
                    [p for d in SERVICES for p in d.projections] + list(GATEWAY_PROJECTIONS),
                    [r for d in SERVICES for r in d.reactors(parts)],
                    parts,
                    bus,
                    rebuild_workers=settings.rebuild_workers,
                    tasks=[t for d in SERVICES for t in d.tasks(parts)],
                ),
                name="projections-and-reactors",
            ),
            asyncio.create_task(
                run_relay(parts.store, bus, parts.readmodels, keyring=parts.keyring), name="relay"
            ),
        ]
        stopped = asyncio.create_task(_until_stopped(), name="until-stopped")
        try:
            await asyncio.wait([*running, stopped], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in [*running, stopped]:
                task.cancel()
            outcomes = await asyncio.gather(*running, stopped, return_exceptions=True)
            await bus.close()
            parts.store.stop_sharing(peer)
        failed = [o for o in outcomes if isinstance(o, Exception)]
        for failure in failed:
            log.error("embedded.worker_failed", error=repr(failure), exc_info=failure)
        return 1 if failed else 0


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    settings = GatewaySettings()
    configure_logging(development=settings.is_development, level=settings.log_level)
    structlog.contextvars.bind_contextvars(process="workers")
    peer = socket.socket(fileno=int(sys.argv[1]))
    code = 0

    async def main_() -> None:
        nonlocal code
        code = await work(settings, peer)

    try:
        run(main_())
    finally:
        peer.close()
    sys.exit(code)


if __name__ == "__main__":
    main()
