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
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

import structlog
from schoolgate_contracts.topology import QUEUES, ConsumerQueue

from schoolgate_kit import metrics
from schoolgate_kit.bus import Bus, Message
from schoolgate_kit.crypto import Keyring
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
    in_flight: int = 4,
    max_backoff: float = 5.0,
    queues: Sequence[ConsumerQueue] = QUEUES,
    keyring: Keyring | None = None,
) -> None:
    """Publish every event from the checkpoint on, forever. ``keyring``: the store's, so
    an upcast event's personal values go out sealed (``wire.to_message``).

    Up to ``in_flight`` batches are sent before the broker confirmed the first: waiting
    for each batch's confirms before sending the next left the relay and the broker each
    idle while the other worked (in alternating runs the window made the relay about a
    fifth faster). The checkpoint still moves only past batches the broker confirmed, in
    order; after any failure every unconfirmed batch is sent again, in order.
    """
    await _declare_queues(bus, queues, max_backoff)
    position = await checkpoints.checkpoint(CHECKPOINT, 0)
    log.info("relay.start", checkpoint=position)
    subscription = store.subscribe(after=position, batch_size=batch_size)
    async with _read_ahead(subscription, keyring=keyring) as reader:
        window = _Window(store, bus, checkpoints, in_flight)
        try:
            await _publish(window, reader, max_backoff)
        finally:
            window.unsend()  # no confirmation left waiting once the relay stops


async def _publish(window: _Window, reader: _ReadAhead, max_backoff: float) -> None:
    backoff = 0.1
    while True:
        try:
            await window.send_due()
            await window.wait(reader)
            if await window.checkpoint():
                backoff = 0.1
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            metrics.RELAY_FAILURES.inc()
            log.warning(
                "relay.publish_failed", error=str(exc), retry_in=backoff, up_to=window.up_to
            )
            window.unsend()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, max_backoff)
        if window.has_room() and reader.next().done():
            window.add(*reader.take())  # a failure to read stops the relay


@dataclass
class _Sent:
    batch: Batch
    messages: list[Message]
    confirmed: asyncio.Future[None] | None = None  # None: to be sent (again)


class _Window:
    """The batches taken from the store whose checkpoint has not been written yet."""

    def __init__(self, store: EventStore, bus: Bus, checkpoints: ReadModelStore, size: int) -> None:
        self._store = store
        self._bus = bus
        self._checkpoints = checkpoints
        self._size = size
        self._sent: deque[_Sent] = deque()

    @property
    def up_to(self) -> int | None:
        """Where the oldest batch not yet checkpointed ends."""
        return self._sent[0].batch.up_to if self._sent else None

    def has_room(self) -> bool:
        return len(self._sent) < self._size

    def add(self, batch: Batch, messages: list[Message]) -> None:
        self._sent.append(_Sent(batch, messages))

    async def send_due(self) -> None:
        """Send, in order, every batch not sent since it was taken or since a failure."""
        for sent in self._sent:
            if sent.confirmed is None:
                sent.confirmed = await self._bus.send(sent.messages)

    async def wait(self, reader: _ReadAhead) -> None:
        """Until the oldest batch is settled or, with room for it, the next one is read."""
        waiting: set[asyncio.Future[Any]] = set()
        if self._sent:
            waiting.add(cast("asyncio.Future[None]", self._sent[0].confirmed))
        if self.has_room():
            waiting.add(reader.next())
        if not any(future.done() for future in waiting):  # the in-process bus: always done
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)

    async def checkpoint(self) -> bool:
        """Move the checkpoint past the leading batches the broker confirmed; whether it
        moved."""
        confirmed: list[_Sent] = []
        for sent in self._sent:
            if sent.confirmed is None or not sent.confirmed.done():
                break
            sent.confirmed.result()  # raises why it was not confirmed
            confirmed.append(sent)
        if not confirmed:
            return False
        last = confirmed[-1].batch
        await self._checkpoints.commit(CHECKPOINT, 0, {}, last.up_to)
        for sent in confirmed:
            self._sent.popleft()
            metrics.RELAY_PUBLISHED.inc(len(sent.messages))
        if last.caught_up:
            metrics.RELAY_LAG.set(0)
        else:
            with contextlib.suppress(Exception):
                metrics.RELAY_LAG.set(max(await self._store.head() - last.up_to, 0))
        return True

    def unsend(self) -> None:
        """Forget every send not confirmed, so that the next step sends them all again."""
        for sent in self._sent:
            if sent.confirmed is not None and not sent.confirmed.done():
                sent.confirmed.cancel()
            sent.confirmed = None


class _ReadAhead:
    """The next batches read and made into messages while the broker confirms earlier ones.

    Only reading and encoding run ahead here; the window sends the batches one after
    another, in order (the in-process bus delivers as it sends).
    """

    def __init__(
        self, batches: AsyncIterator[Batch], depth: int, keyring: Keyring | None = None
    ) -> None:
        self._keyring = keyring
        self._ready: asyncio.Queue[tuple[Batch, list[Message]]] = asyncio.Queue(maxsize=depth)
        self._filling = asyncio.create_task(self._fill(batches), name="relay-read-ahead")
        self._next: asyncio.Future[tuple[Batch, list[Message]]] | None = None

    async def _fill(self, batches: AsyncIterator[Batch]) -> None:
        async for batch in batches:
            await self._ready.put(
                (batch, [to_message(event, self._keyring) for event in batch.events])
            )

    def next(self) -> asyncio.Future[tuple[Batch, list[Message]]]:
        """The next batch, when it is ready: the same future until it is taken."""
        if self._next is None:
            if self._ready.empty():
                self._next = asyncio.ensure_future(self._get())
            else:  # what was read before any failure comes first; no task needed
                self._next = asyncio.get_running_loop().create_future()
                self._next.set_result(self._ready.get_nowait())
        return self._next

    def take(self) -> tuple[Batch, list[Message]]:
        batch = self.next().result()
        self._next = None
        return batch

    async def _get(self) -> tuple[Batch, list[Message]]:
        getting = asyncio.ensure_future(self._ready.get())
        try:
            await asyncio.wait({getting, self._filling}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not getting.done():
                getting.cancel()
        if getting.done() and not getting.cancelled():
            return getting.result()
        self._filling.result()  # raises what stopped the reading
        raise RuntimeError("the event store subscription ended")

    async def close(self) -> None:
        for task in (self._next, self._filling):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):  # raised by take
                    await task


@contextlib.asynccontextmanager
async def _read_ahead(
    batches: AsyncIterator[Batch], depth: int = 2, *, keyring: Keyring | None = None
) -> AsyncIterator[_ReadAhead]:
    reader = _ReadAhead(batches, depth, keyring)
    try:
        yield reader
    finally:
        await reader.close()


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
