"""The relay: follows the store's global log and publishes every event to the bus.

The store is the outbox. The checkpoint moves only after the broker confirmed a batch; a
failed or unconfirmed publish is retried, with backoff, from the same checkpoint, so an
event may be published twice but never skipped.

Before the first publish it declares every consumer queue in the topology, so an event
written before a consumer ever started still waits in that consumer's queue.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

import structlog
from schoolgate_contracts.topology import QUEUES, ConsumerQueue

from schoolgate_kit import metrics
from schoolgate_kit.bus import Bus, Message
from schoolgate_kit.eventstore import Batch, EventStore
from schoolgate_kit.readmodels import ReadModelStore
from schoolgate_kit.wire import to_message

CHECKPOINT = "relay"
log = structlog.get_logger()


async def run_relay(
    store: EventStore,
    bus: Bus,
    checkpoints: ReadModelStore,
    *,
    batch_size: int = 500,
    max_backoff: float = 5.0,
    queues: Sequence[ConsumerQueue] = QUEUES,
) -> None:
    await _declare_queues(bus, queues, max_backoff)
    position = await checkpoints.checkpoint(CHECKPOINT, 0)
    log.info("relay.start", checkpoint=position)
    subscription = store.subscribe(after=position, batch_size=batch_size)
    async with _read_ahead(subscription) as next_batch:
        while True:
            batch, messages = await next_batch()
            backoff = 0.1
            while True:
                try:
                    if messages:
                        await bus.publish(messages)
                    await checkpoints.commit(CHECKPOINT, 0, {}, batch.up_to)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    metrics.RELAY_FAILURES.inc()
                    log.warning(
                        "relay.publish_failed", error=str(exc), retry_in=backoff, up_to=batch.up_to
                    )
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, max_backoff)
            metrics.RELAY_PUBLISHED.inc(len(messages))
            if batch.caught_up:
                metrics.RELAY_LAG.set(0)
            else:
                with contextlib.suppress(Exception):
                    metrics.RELAY_LAG.set(max(await store.head() - batch.up_to, 0))


@contextlib.asynccontextmanager
async def _read_ahead(
    batches: AsyncIterator[Batch], depth: int = 2
) -> AsyncIterator[Callable[[], Awaitable[tuple[Batch, list[Message]]]]]:
    """The next batches read and made into messages while the broker confirms this one.

    Publishing stays one batch at a time, in order (the in-process bus delivers as it
    publishes); only reading and encoding overlap the wait for confirms.
    """
    ready: asyncio.Queue[tuple[Batch, list[Message]]] = asyncio.Queue(maxsize=depth)

    async def fill() -> None:
        async for batch in batches:
            await ready.put((batch, [to_message(event) for event in batch.events]))

    filling = asyncio.create_task(fill(), name="relay-read-ahead")

    async def take() -> tuple[Batch, list[Message]]:
        if not ready.empty():  # what was read before any failure comes first
            return ready.get_nowait()
        getting = asyncio.ensure_future(ready.get())
        try:
            await asyncio.wait({getting, filling}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not getting.done():
                getting.cancel()
        if getting.done() and not getting.cancelled():
            return getting.result()
        filling.result()  # raises what stopped the reading
        raise RuntimeError("the event store subscription ended")

    try:
        yield take
    finally:
        filling.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):  # already raised by take
            await filling


async def _declare_queues(bus: Bus, queues: Sequence[ConsumerQueue], max_backoff: float) -> None:
    backoff = 0.1
    while True:
        try:
            for queue in queues:
                await bus.declare(queue.name, queue.bindings)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("relay.declare_failed", error=str(exc), retry_in=backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, max_backoff)
