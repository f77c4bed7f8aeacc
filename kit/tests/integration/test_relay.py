"""The relay moves its checkpoint only after the bus confirmed, and never skips an event."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine, Sequence
from typing import Any

from schoolgate_kit.bus import Message, PublishFailed
from schoolgate_kit.bus.memory import InProcessBus
from schoolgate_kit.eventstore import NO_STREAM
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.relay import CHECKPOINT, run_relay
from schoolgate_kit.testing.events import award
from schoolgate_kit.testing.waiting import until


class FlakyBus(InProcessBus):
    """Refuses to confirm the first few batches, as a broker that is down would."""

    def __init__(self, dead: SqliteReadModelStore, failures: int) -> None:
        super().__init__(dead)
        self.failures = failures
        self.published: list[str] = []

    async def send(self, messages: Sequence[Message]) -> asyncio.Future[None]:
        if self.failures:
            self.failures -= 1
            raise PublishFailed("broker unavailable")
        self.published.extend(m.message_id for m in messages)
        return await super().send(messages)


class HeldBus(InProcessBus):
    """Confirms each batch only when the test says so, as a busy broker would."""

    def __init__(self, dead: SqliteReadModelStore) -> None:
        super().__init__(dead)
        self.sent: list[tuple[list[str], asyncio.Future[None]]] = []

    async def send(self, messages: Sequence[Message]) -> asyncio.Future[None]:
        confirmed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.sent.append(([m.message_id for m in messages], confirmed))
        return confirmed

    def has_sent(self, count: int) -> bool:
        return len(self.sent) >= count


async def write(store: SqliteEventStore, count: int, *, first: int = 0) -> list[str]:
    """``count`` awards, one stream each; their event ids in order."""
    ids = []
    for i in range(first, first + count):
        event = award(f"p{i}")
        ids.append(str(event.event_id))
        await store.append(f"award-{i}", [event], expected_version=NO_STREAM)
    return ids


@contextlib.asynccontextmanager
async def running(relay: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    task = asyncio.create_task(relay)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def checkpoint_is(readmodels: SqliteReadModelStore, position: int) -> bool:
    return await readmodels.checkpoint(CHECKPOINT, 0) == position


async def test_relay_waits_out_an_unconfirming_broker_and_skips_nothing(
    store: SqliteEventStore, readmodels: SqliteReadModelStore
) -> None:
    ids = await write(store, 20)
    bus = FlakyBus(readmodels, failures=3)
    async with running(run_relay(store, bus, readmodels, batch_size=6, max_backoff=0.05)):
        for _ in range(300):
            if await readmodels.checkpoint(CHECKPOINT, 0) == 20:
                break
            assert await readmodels.checkpoint(CHECKPOINT, 0) <= len(bus.published)
            await asyncio.sleep(0.01)
        assert await readmodels.checkpoint(CHECKPOINT, 0) == 20
        assert bus.published == ids


async def test_relay_sends_ahead_of_confirms_but_checkpoints_in_order(
    store: SqliteEventStore, readmodels: SqliteReadModelStore
) -> None:
    ids = await write(store, 20)
    bus = HeldBus(readmodels)
    relay = run_relay(store, bus, readmodels, batch_size=5, in_flight=3, max_backoff=0.05)
    async with running(relay):
        await until(lambda: bus.has_sent(3), why="three batches sent before any confirm")
        await asyncio.sleep(0.05)
        assert len(bus.sent) == 3, "no more than three in flight"
        assert [i for batch, _ in bus.sent for i in batch] == ids[:15]

        bus.sent[1][1].set_result(None)  # the second batch confirmed before the first
        await asyncio.sleep(0.05)
        assert await checkpoint_is(readmodels, 0)

        bus.sent[0][1].set_result(None)
        await until(lambda: checkpoint_is(readmodels, 10), why="the checkpoint passes both")
        await until(lambda: bus.has_sent(4), why="the fourth batch sent once there was room")

        bus.sent[2][1].set_exception(PublishFailed("nacked"))
        await until(lambda: bus.has_sent(6), why="both unconfirmed batches sent again")
        assert [bus.sent[4][0], bus.sent[5][0]] == [ids[10:15], ids[15:20]]
        assert bus.sent[3][1].cancelled(), "the send overtaken by the failure is dropped"
        assert await checkpoint_is(readmodels, 10)

        for _, confirmed in bus.sent[4:]:
            confirmed.set_result(None)
        await until(lambda: checkpoint_is(readmodels, 20), why="the checkpoint reaches the head")


async def test_relay_checkpoint_never_passes_an_unconfirmed_batch(
    store: SqliteEventStore, readmodels: SqliteReadModelStore
) -> None:
    await write(store, 10)
    bus = HeldBus(readmodels)
    async with running(run_relay(store, bus, readmodels, batch_size=5, in_flight=4)):
        await until(lambda: bus.has_sent(2), why="both batches sent")
        bus.sent[1][1].set_result(None)
        # a new event wakes the relay while the first batch is still unconfirmed
        await write(store, 1, first=10)
        await until(lambda: bus.has_sent(3), why="the new event sent")
        assert await checkpoint_is(readmodels, 0)

        bus.sent[0][1].set_result(None)
        await until(lambda: checkpoint_is(readmodels, 10), why="the checkpoint passes both batches")
        bus.sent[2][1].set_result(None)
        await until(lambda: checkpoint_is(readmodels, 11), why="and then the new event")


async def test_a_stopped_relay_leaves_no_confirmation_waiting(
    store: SqliteEventStore, readmodels: SqliteReadModelStore
) -> None:
    await write(store, 10)
    bus = HeldBus(readmodels)
    async with running(run_relay(store, bus, readmodels, batch_size=5)):
        await until(lambda: bus.has_sent(2), why="both batches sent")
    assert all(confirmed.cancelled() for _, confirmed in bus.sent)
