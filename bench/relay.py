"""relay: events/s relayed from the store to RabbitMQ with publisher confirms.

The relay's figure is the time until its checkpoint reaches the store's head for a
pre-written log. Baseline: raw aio-pika publishing of the same bodies and properties on a
``publisher_confirms=True`` channel, confirms awaited together in chunks of 500 (the
relay's batch size). Both runs feed the same queue bound to ``#``, purged in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import aio_pika
from schoolgate_contracts import RecordedEvent
from schoolgate_kit.bus import Message
from schoolgate_kit.bus.port import EXCHANGE
from schoolgate_kit.bus.rabbitmq import RabbitMqBus, dead_letter_queue
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.relay import CHECKPOINT, run_relay
from schoolgate_kit.runtime import RELAY_YOUNG_COLLECTION_EVERY, settle_heap
from schoolgate_kit.wire import to_message

from bench.common import Result, write_award_log

NAME = "relay"
QUEUE = "bench.relay"
CHUNK = 500
PORT = 56740
SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "rabbitmq.sh"


def utc_now() -> datetime:
    return datetime.now(UTC)


async def _script(*args: str) -> str:
    # a plain subprocess in a thread: the same on any event loop (uvloop's child watcher
    # never saw this script end, as the node it starts keeps running)
    done = await asyncio.to_thread(
        subprocess.run, [str(SCRIPT), *args], stdout=subprocess.PIPE, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{SCRIPT.name} {args[0]} failed ({done.returncode})")
    return done.stdout.decode().strip()


@contextlib.asynccontextmanager
async def rabbitmq() -> AsyncIterator[str]:
    """SCHOOLGATE_TEST_AMQP_URL if set; otherwise a private node on port 56740 for the run."""
    url = os.environ.get("SCHOOLGATE_TEST_AMQP_URL", "")
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory(prefix="schoolgate-bench-rabbitmq-") as state:
        try:
            url = (await _script("start", state, str(PORT))).splitlines()[-1]
            yield url
        finally:
            await _script("stop", state)


def _amqp_message(m: Message) -> aio_pika.Message:
    # the same properties RabbitMqBus.publish sets, so the broker does the same work
    return aio_pika.Message(
        body=m.body,
        message_id=m.message_id,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        headers={**m.headers, "routing_key": m.routing_key},
        correlation_id=str(m.headers.get("correlation_id", "")) or None,
        type=str(m.headers.get("event_type", "")) or None,
    )


async def _raw_publish(url: str, messages: Sequence[Message]) -> float:
    connection = await aio_pika.connect(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.declare_exchange(
            EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        started = time.perf_counter()
        for start in range(0, len(messages), CHUNK):
            await asyncio.gather(
                *(
                    exchange.publish(_amqp_message(m), routing_key=m.routing_key)
                    for m in messages[start : start + CHUNK]
                )
            )
        return time.perf_counter() - started
    finally:
        await connection.close()


async def _relay(store: SqliteEventStore, bus: RabbitMqBus, checkpoints_path: Path) -> float:
    checkpoints = await SqliteReadModelStore.open(checkpoints_path)
    head = await store.head()
    try:
        started = time.perf_counter()
        task = asyncio.create_task(run_relay(store, bus, checkpoints), name="bench-relay")
        try:
            # every 20 ms, not faster: this loop shares the relay's process, and polling
            # every 2 ms took a twentieth of its time (20 ms is under 0.2% of a full run)
            while await checkpoints.checkpoint(CHECKPOINT, 0) < head:
                if task.done():
                    task.result()  # raises what stopped the relay
                    raise RuntimeError("the relay stopped before reaching the head")
                await asyncio.sleep(0.02)
            return time.perf_counter() - started
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        await checkpoints.close()


@contextlib.contextmanager
def _settled_as_the_relay() -> Iterator[None]:
    """The heap as the relay's process settles it before it starts, for the baseline and
    the relay alike (this process set up more than a relay does: the baseline's messages);
    as it was afterwards, for the benchmarks that follow in this process."""
    thresholds = gc.get_threshold()
    settle_heap(young_every=RELAY_YOUNG_COLLECTION_EVERY)
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


async def _read_everything(store: SqliteEventStore) -> list[RecordedEvent]:
    events: list[RecordedEvent] = []
    position = 0
    while True:
        batch = await store.read_all(after=position, limit=5000)
        events += batch.events
        position = batch.up_to
        if batch.caught_up:
            return events


class _Queue:
    """The bench queue, seen from a management channel: counted, purged and deleted."""

    def __init__(self, channel: aio_pika.abc.AbstractChannel) -> None:
        self._channel = channel

    async def count(self) -> int:
        queue = await self._channel.declare_queue(QUEUE, passive=True)
        result = queue.declaration_result.message_count
        return int(result or 0)

    async def wait_for(self, count: int) -> int:
        # quorum queues report their length a moment after the confirm
        deadline = time.monotonic() + 10
        seen = await self.count()
        while seen < count and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            seen = await self.count()
        return seen

    async def purge(self) -> None:
        queue = await self._channel.get_queue(QUEUE)
        await queue.purge()

    async def delete(self) -> None:
        for name in (QUEUE, dead_letter_queue(QUEUE)):
            with contextlib.suppress(Exception):
                await self._channel.queue_delete(name)


async def run(workdir: Path, *, quick: bool) -> list[Result]:
    count = 5_000 if quick else 50_000
    here = workdir / NAME
    here.mkdir(parents=True, exist_ok=True)
    write_award_log(here / "events.db", count)
    store = await SqliteEventStore.open(here / "events.db", clock=utc_now)
    async with rabbitmq() as url:
        bus = await RabbitMqBus.connect(url)
        admin = await aio_pika.connect(url)
        queue = _Queue(await admin.channel())
        try:
            await queue.delete()  # left over from an interrupted run
            await bus.declare(QUEUE, ["#"])
            messages = [to_message(e) for e in await _read_everything(store)]
            with _settled_as_the_relay():
                baseline_seconds = await _raw_publish(url, messages)
                baseline_routed = await queue.wait_for(count)
                await queue.purge()

                seconds = await _relay(store, bus, here / "readmodels.db")
                routed = await queue.wait_for(count)
        finally:
            await queue.delete()
            await admin.close()
            await bus.close()
            await store.close()

    figure = count / seconds
    baseline = count / baseline_seconds
    return [
        Result(
            name=NAME,
            unit="events/s",
            figure=figure,
            baseline=baseline,
            baseline_label="aio-pika confirms, chunks of 500",
            target=">= 70% of baseline and >= 5,000/s",
            met=figure >= 0.7 * baseline and figure >= 5_000,
            details={
                "events": count,
                "amqp": url.rsplit("@", 1)[-1],
                "queued_by_relay": routed,
                "queued_by_baseline": baseline_routed,
            },
        )
    ]
