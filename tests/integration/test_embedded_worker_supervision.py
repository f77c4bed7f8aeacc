"""The web process's supervisor of the embedded worker process, with a real worker process
and a real event file: a start that fails is tried again."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from schoolgate_embedded import workers
from schoolgate_embedded.workers import WorkerProcess
from schoolgate_gateway.settings import GatewaySettings
from schoolgate_kit.clock import utc_now
from schoolgate_kit.eventstore.sqlite import SqliteEventStore

from ..conftest import until  # type: ignore[import-not-found]


async def _running(worker: WorkerProcess) -> bool:
    try:
        await worker.ping()
    except RuntimeError:
        return False
    return True


async def test_a_worker_process_that_could_not_start_is_started_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = asyncio.create_subprocess_exec
    attempts = 0

    async def no_processes_left_at_first(*args: Any, **kwargs: Any) -> Any:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise BlockingIOError("Resource temporarily unavailable")  # what fork gives then
        return await real(*args, **kwargs)

    monkeypatch.setattr(workers.asyncio, "create_subprocess_exec", no_processes_left_at_first)
    settings = GatewaySettings(data_dir=tmp_path)
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=utc_now)
    try:
        async with WorkerProcess(settings, store).running() as worker:
            await until(lambda: _running(worker), within=20, why="it was not started again")
            assert attempts == 2
            assert worker.restarts == 1
    finally:
        await store.close()
