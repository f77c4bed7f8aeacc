"""The relay moves its checkpoint only after the bus confirmed, and never skips an event."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path

from schoolgate_kit.bus import Message, PublishFailed
from schoolgate_kit.bus.memory import InProcessBus
from schoolgate_kit.eventstore import NO_STREAM
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.relay import CHECKPOINT, run_relay
from schoolgate_kit.testing.events import ManualClock, award


class FlakyBus(InProcessBus):
    """Refuses to confirm the first few batches, as a broker that is down would."""

    def __init__(self, dead: SqliteReadModelStore, failures: int) -> None:
        super().__init__(dead)
        self.failures = failures
        self.published: list[str] = []

    async def publish(self, messages: Sequence[Message]) -> None:
        if self.failures:
            self.failures -= 1
            raise PublishFailed("broker unavailable")
        self.published.extend(m.message_id for m in messages)
        await super().publish(messages)


async def test_relay_waits_out_an_unconfirming_broker_and_skips_nothing(tmp_path: Path) -> None:
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=ManualClock())
    readmodels = await SqliteReadModelStore.open(tmp_path / "readmodels.db")
    ids = []
    for i in range(20):
        event = award(f"p{i}")
        ids.append(str(event.event_id))
        await store.append(f"award-{i}", [event], expected_version=NO_STREAM)
    bus = FlakyBus(readmodels, failures=3)
    task = asyncio.create_task(run_relay(store, bus, readmodels, batch_size=6, max_backoff=0.05))
    try:
        for _ in range(300):
            if await readmodels.checkpoint(CHECKPOINT, 0) == 20:
                break
            assert await readmodels.checkpoint(CHECKPOINT, 0) <= len(bus.published)
            await asyncio.sleep(0.01)
        assert await readmodels.checkpoint(CHECKPOINT, 0) == 20
        assert bus.published == ids
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await readmodels.close()
        await store.close()
