"""The cluster bus on RabbitMQ through aio-pika.

Durable topic exchange; one quorum queue per consumer with an explicit delivery limit and a
dead-letter exchange; manual acks with a prefetch; publisher confirms with a timeout, a
batch written to the socket at once and its confirms awaited together.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Mapping, Sequence
from typing import Any

import aio_pika
import aiormq
import pamqp.frame
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aiormq.abc import ChannelFrame
from pamqp import commands as spec
from pamqp.body import ContentBody
from pamqp.header import ContentHeader

from schoolgate_kit import metrics
from schoolgate_kit.bus.port import (
    DEAD_LETTER_EXCHANGE,
    EXCHANGE,
    DeadLetter,
    Message,
    MessageHandler,
    PublishFailed,
    already_confirmed,
)

log = structlog.get_logger()


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dead"


def _properties(m: Message) -> spec.Basic.Properties:
    return spec.Basic.Properties(
        message_id=m.message_id,
        content_type="application/json",
        delivery_mode=2,  # persistent
        headers={**m.headers, "routing_key": m.routing_key},
        correlation_id=str(m.headers.get("correlation_id", "")) or None,
        message_type=str(m.headers.get("event_type", "")) or None,
    )


@functools.lru_cache(maxsize=1024)
def _publish_method(channel_number: int, exchange: str, routing_key: str) -> bytes:
    """The ``basic.publish`` frame, the same bytes for every event of a type."""
    publish = spec.Basic.Publish(exchange=exchange, routing_key=routing_key)
    return pamqp.frame.marshal(publish, channel_number)


def _frames(channel: aiormq.Channel, messages: Sequence[Message]) -> ChannelFrame:
    """A batch's publish frames as one write: pamqp's frames, as aiormq's ``basic_publish``
    makes them, with the method frame kept for each routing key."""
    number, size = channel.number, channel.max_content_size
    marshal = pamqp.frame.marshal
    parts: list[bytes] = []
    for m in messages:
        parts.append(_publish_method(number, EXCHANGE, m.routing_key))
        header = ContentHeader(properties=_properties(m), body_size=len(m.body))
        parts.append(marshal(header, number))
        for at in range(0, len(m.body), size):
            parts.append(marshal(ContentBody(m.body[at : at + size]), number))
    return ChannelFrame(payload=b"".join(parts), should_close=False)


async def _send(channel: aiormq.Channel, messages: Sequence[Message]) -> list[asyncio.Future[Any]]:
    """Write a batch in one go and return the futures of its publisher confirms.

    aiormq's ``basic_publish`` takes the channel lock, queues and drains the socket, and
    holds a task, for every message; for the relay that was twice the CPU of encoding the
    frames, and the relay is CPU-bound. This does what it does once per batch: delivery
    tags are numbered under the channel lock, and a confirmation future is registered for
    each, so aiormq settles them from the broker's acks and nacks (several at a time, as
    usual) and fails them if the channel closes. It uses attributes of aiormq's channel that
    ``basic_publish`` uses (pinned in uv.lock; the bus contract and fault tests cover it).
    """
    if not channel.publisher_confirms:
        raise RuntimeError("the publish channel must have publisher confirms")
    payload = _frames(channel, messages)
    async with channel.lock:
        first = channel.delivery_tag + 1
        confirmations = [channel.create_future() for _ in messages]
        channel.confirmations.update(enumerate(confirmations, first))
        channel.delivery_tag += len(messages)
        try:
            await channel.write_queue.put(payload)
        except BaseException:
            # never written: the broker has not counted these tags, so they are free again
            channel.delivery_tag = first - 1
            for tag, confirmation in enumerate(confirmations, first):
                channel.confirmations.pop(tag, None)
                confirmation.cancel()
            raise
    return confirmations


def _headers(message: AbstractIncomingMessage) -> dict[str, str | int]:
    return {k: v for k, v in (message.headers or {}).items() if isinstance(v, (str, int))}


def _to_message(incoming: AbstractIncomingMessage) -> Message:
    return Message(
        message_id=incoming.message_id or "",
        routing_key=str(_headers(incoming).get("routing_key", incoming.routing_key or "")),
        body=incoming.body,
        headers=_headers(incoming),
    )


class _RabbitSubscription:
    def __init__(self, queue: AbstractQueue, tag: str) -> None:
        self._queue = queue
        self._tag = tag

    async def stop(self) -> None:
        await self._queue.cancel(self._tag)


class RabbitMqBus:
    def __init__(
        self,
        connection: AbstractRobustConnection,
        publish_channel: AbstractChannel,
        *,
        max_deliveries: int,
        prefetch: int,
        publish_timeout: float,
    ) -> None:
        self._connection = connection
        self._publish_channel = publish_channel
        self._max_deliveries = max_deliveries
        self._prefetch = prefetch
        self._publish_timeout = publish_timeout

    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        max_deliveries: int = 5,
        prefetch: int = 64,
        publish_timeout: float = 10.0,
    ) -> RabbitMqBus:
        connection = await aio_pika.connect_robust(url, client_properties={"app": "schoolgate"})
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
        await channel.declare_exchange(
            DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
        )
        return cls(
            connection,
            channel,
            max_deliveries=max_deliveries,
            prefetch=prefetch,
            publish_timeout=publish_timeout,
        )

    async def publish(self, messages: Sequence[Message]) -> None:
        await (await self.send(messages))

    async def send(self, messages: Sequence[Message]) -> asyncio.Future[None]:
        if not messages:
            return already_confirmed()
        try:
            async with asyncio.timeout(self._publish_timeout):
                channel = await self._publish_channel.get_underlay_channel()
                if not isinstance(channel, aiormq.Channel):
                    raise TypeError(f"unexpected channel {channel!r}")
                confirmations = await _send(channel, messages)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise PublishFailed(f"{len(messages)} messages not sent: {exc!r}") from exc
        return asyncio.ensure_future(self._confirmed(confirmations))

    async def _confirmed(self, confirmations: Sequence[asyncio.Future[Any]]) -> None:
        try:
            async with asyncio.timeout(self._publish_timeout):
                await asyncio.gather(*confirmations)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise PublishFailed(f"{len(confirmations)} messages not confirmed: {exc!r}") from exc

    def _queue_arguments(self, queue: str) -> Mapping[str, Any]:
        return {
            "x-queue-type": "quorum",
            # RabbitMQ counts redeliveries: the first delivery plus this many retries.
            "x-delivery-limit": self._max_deliveries - 1,
            "x-dead-letter-exchange": DEAD_LETTER_EXCHANGE,
            "x-dead-letter-routing-key": queue,
        }

    async def _declare(
        self, channel: AbstractChannel, queue: str, bindings: Sequence[str]
    ) -> AbstractQueue:
        # Classic, not quorum: listing dead letters takes them and gives them back, and on a
        # quorum queue each give-back counts as a delivery (RabbitMQ 3.10 even duplicated some).
        dead = await channel.declare_queue(
            dead_letter_queue(queue), durable=True, arguments={"x-queue-type": "classic"}
        )
        await dead.bind(DEAD_LETTER_EXCHANGE, routing_key=queue)
        declared = await channel.declare_queue(
            queue, durable=True, arguments=dict(self._queue_arguments(queue))
        )
        for binding in bindings:
            await declared.bind(EXCHANGE, routing_key=binding)
        return declared

    async def declare(self, queue: str, bindings: Sequence[str]) -> None:
        channel = await self._connection.channel()
        try:
            await self._declare(channel, queue, bindings)
        finally:
            await channel.close()

    async def consume(
        self, queue: str, bindings: Sequence[str], handler: MessageHandler
    ) -> _RabbitSubscription:
        """Start consuming; a broker that goes away while a worker starts is waited for
        (the robust connection comes back by itself), never a reason for the worker to die."""
        pause = 0.2
        while True:
            try:
                return await self._consume(queue, bindings, handler)
            except (aiormq.exceptions.AMQPError, ConnectionError, RuntimeError) as exc:
                # aiormq says RuntimeError("... closed") for a channel asked of a connection
                # the broker has just dropped, before the robust connection notices
                if self._connection.is_closed:
                    raise  # closed on purpose: the worker is stopping
                log.warning("consumer.start_failed", queue=queue, error=repr(exc))
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)
                with contextlib.suppress(TimeoutError):  # back: try at once
                    await asyncio.wait_for(self._connection.connected.wait(), 30)

    async def _consume(
        self, queue: str, bindings: Sequence[str], handler: MessageHandler
    ) -> _RabbitSubscription:
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=self._prefetch)
        declared = await self._declare(channel, queue, bindings)
        limit = self._max_deliveries

        async def on_message(incoming: AbstractIncomingMessage) -> None:
            count = (incoming.headers or {}).get("x-delivery-count", 0)
            attempt = (count if isinstance(count, int) else 0) + 1
            try:
                await handler(_to_message(incoming))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                outcome = "dead_lettered" if attempt >= limit else "failed"
                metrics.CONSUMER_MESSAGES.labels(queue, outcome).inc()
                log.warning(
                    "consumer.failed",
                    queue=queue,
                    message_id=incoming.message_id,
                    attempt=attempt,
                    limit=limit,
                    error=repr(exc),
                )
                await asyncio.sleep(min(0.05 * attempt, 1.0))
                await incoming.nack(requeue=True)
                return
            await incoming.ack()

        tag = await declared.consume(on_message, no_ack=False)
        return _RabbitSubscription(declared, tag)

    async def _drain(self, queue: str) -> tuple[AbstractChannel, list[AbstractIncomingMessage]]:
        channel = await self._connection.channel(publisher_confirms=True)
        dead = await channel.get_queue(dead_letter_queue(queue), ensure=True)
        taken: list[AbstractIncomingMessage] = []
        while (incoming := await dead.get(no_ack=False, fail=False, timeout=5)) is not None:
            taken.append(incoming)
        return channel, taken

    async def dead_letters(self, queue: str) -> list[DeadLetter]:
        channel, taken = await self._drain(queue)
        try:
            return [
                DeadLetter(
                    message=_to_message(m),
                    queue=queue,
                    reason=str((m.headers or {}).get("x-first-death-reason", "rejected")),
                )
                for m in taken
            ]
        finally:
            for m in taken:
                await m.nack(requeue=True)
            await channel.close()

    async def replay_dead_letters(self, queue: str) -> int:
        channel, taken = await self._drain(queue)
        try:
            for m in taken:
                # straight back onto the consumer's own queue through the default exchange,
                # confirmed before the dead letter is let go
                await channel.default_exchange.publish(
                    aio_pika.Message(
                        body=m.body,
                        message_id=m.message_id,
                        content_type=m.content_type,
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        headers={
                            k: v
                            for k, v in (m.headers or {}).items()
                            if not str(k).startswith("x-")
                        },
                        correlation_id=m.correlation_id,
                        type=m.type,
                    ),
                    routing_key=queue,
                    timeout=self._publish_timeout,
                )
                await m.ack()
            return len(taken)
        except BaseException:
            for m in taken:
                if not m.processed:
                    await m.nack(requeue=True)
            raise
        finally:
            await channel.close()

    async def ping(self) -> None:
        if self._connection.is_closed:
            raise ConnectionError("not connected to RabbitMQ")

    async def close(self) -> None:
        await self._connection.close()
