"""The web process's side of the embedded worker process: start it, share commits with it,
restart it if it stops, and stop it at shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from collections.abc import AsyncIterator

import structlog
from schoolgate_gateway.settings import GatewaySettings
from schoolgate_kit import metrics
from schoolgate_kit.eventstore.sqlite import SqliteEventStore

log = structlog.get_logger()

RESTART_DELAY = 1.0
"""Seconds before a worker process that stopped is started again; doubled while it keeps
stopping within a minute of starting, up to ``MAX_RESTART_DELAY``."""
MAX_RESTART_DELAY = 30.0
STOP_TIMEOUT = 15.0
"""Seconds a worker process has to finish its current work once asked to stop."""


class WorkerProcess:
    """``python -m schoolgate_embedded.work``, kept running for as long as ``running()``."""

    def __init__(self, settings: GatewaySettings, store: SqliteEventStore) -> None:
        self._settings = settings
        self._store = store
        self._process: asyncio.subprocess.Process | None = None
        self.restarts = 0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[WorkerProcess]:
        supervisor = asyncio.create_task(self._supervise(), name="embedded-workers")
        try:
            yield self
        finally:
            supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supervisor

    async def ping(self) -> None:
        """A readiness check: the worker process is running."""
        if self._process is None or self._process.returncode is not None:
            raise RuntimeError("the worker process (projections, relay, reactors) is not running")

    async def _supervise(self) -> None:
        delay = RESTART_DELAY
        while True:
            started = time.monotonic()
            try:
                code = await self._run_once()
            except Exception:  # could not even start it (no memory, no processes left)
                log.exception("embedded.worker_process_not_started")
                code = -1
            if time.monotonic() - started > 60:
                delay = RESTART_DELAY
            # 0: it was told to stop, as when a service manager signals the whole group
            # at shutdown; anything else is a failure
            report = log.warning if code == 0 else log.error
            report("embedded.worker_process_stopped", exit_code=code, restart_in_s=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RESTART_DELAY)
            self.restarts += 1

    def _environment(self) -> dict[str, str]:
        """The worker's settings are this process's: its data directory, and the master key
        it may have read from there, so both seal and open personal data alike."""
        env = {**os.environ, "SCHOOLGATE_DATA_DIR": str(self._settings.data_dir)}
        env.pop("SCHOOLGATE_MASTER_KEY", None)
        if self._settings.master_key is not None:
            env["SCHOOLGATE_MASTER_KEY"] = self._settings.master_key.get_secret_value()
        # what the worker signs (notifications' unsubscribe links) the web process checks
        env["SCHOOLGATE_IDENTITY_SECRET"] = self._settings.identity_secret.get_secret_value()
        return env

    async def _run_once(self) -> int:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "schoolgate_embedded.work",
                str(theirs.fileno()),
                pass_fds=(theirs.fileno(),),
                env=self._environment(),
            )
            theirs.close()
            self._process = process
            self._store.share_commits(mine)
            try:
                return await process.wait()
            finally:
                await _stop(process)
                metrics.process_gone(process.pid)
        finally:
            self._store.stop_sharing(mine)
            mine.close()
            theirs.close()


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        async with asyncio.timeout(STOP_TIMEOUT):
            await process.wait()
    except TimeoutError:
        log.error("embedded.worker_process_killed", after_s=STOP_TIMEOUT)
        process.kill()
        await process.wait()
