"""The cluster bus on RabbitMQ through aio-pika.

Durable topic exchange; one quorum queue per consumer with an explicit delivery limit and a
dead-letter exchange; manual acks with a prefetch; publisher confirms with a timeout, the
publishes of a batch pipelined and awaited together.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import aio_pika
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)

from schoolgate_kit import metrics
from schoolgate_kit.bus.port import (
    DEAD_LETTER_EXCHANGE,
    EXCHANGE,
    DeadLetter,
    Message,
    MessageHandler,
    PublishFailed,
)

log = structlog.get_logger()


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dead"


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
        exchange: AbstractExchange,
        *,
        max_deliveries: int,
        prefetch: int,
        publish_timeout: float,
    ) -> None:
        self._connection = connection
        self._publish_channel = publish_channel
        self._exchange = exchange
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
        exchange = await channel.declare_exchange(
            EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True
        )
        await channel.declare_exchange(
            DEAD_LETTER_EXCHANGE, aio_pika.ExchangeType.DIRECT, durable=True
        )
        return cls(
            connection,
            channel,
            exchange,
            max_deliveries=max_deliveries,
            prefetch=prefetch,
            publish_timeout=publish_timeout,
        )

    async def publish(self, messages: Sequence[Message]) -> None:
        publishes = [
            self._exchange.publish(
                aio_pika.Message(
                    body=m.body,
                    message_id=m.message_id,
                    content_type="application/json",
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    headers={**m.headers, "routing_key": m.routing_key},
                    correlation_id=str(m.headers.get("correlation_id", "")) or None,
                    type=str(m.headers.get("event_type", "")) or None,
                ),
                routing_key=m.routing_key,
                mandatory=False,
                timeout=self._publish_timeout,
            )
            for m in messages
        ]
        try:
            async with asyncio.timeout(self._publish_timeout):
                await asyncio.gather(*publishes)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            raise PublishFailed(f"{len(messages)} messages not confirmed: {exc!r}") from exc

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
