"""The embedded bus: in-process delivery with the same promises as the broker.

``publish`` returns once every bound queue's handler has taken the message (that is the
"confirm"), so the relay never moves past an event a reactor has not had. A handler that
keeps failing is tried ``max_deliveries`` times; then the message is kept as a dead letter
in the read-model store, where it survives restarts and can be listed and replayed.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from dataclasses import dataclass

import structlog

from schoolgate_kit import metrics
from schoolgate_kit.bus.port import DeadLetter, Message, MessageHandler, already_confirmed
from schoolgate_kit.bus.topics import matches
from schoolgate_kit.readmodels import ReadModelStore

log = structlog.get_logger()


@dataclass
class _Queue:
    bindings: list[str]
    handler: MessageHandler | None = None


class _MemorySubscription:
    def __init__(self, bus: InProcessBus, queue: str) -> None:
        self._bus = bus
        self._queue = queue

    async def stop(self) -> None:
        q = self._bus._queues.get(self._queue)
        if q is not None:
            q.handler = None


def _dead_letters_projection(queue: str) -> str:
    return f"dead_letters.{queue}"


class InProcessBus:
    def __init__(
        self, dead_letters: ReadModelStore, *, max_deliveries: int = 5, retry_delay: float = 0.05
    ) -> None:
        self._queues: dict[str, _Queue] = {}
        self._dead = dead_letters
        self._max_deliveries = max_deliveries
        self._retry_delay = retry_delay

    async def send(self, messages: Sequence[Message]) -> asyncio.Future[None]:
        # Delivered before it returns: nothing is left to confirm.
        await self.publish(messages)
        return already_confirmed()

    async def publish(self, messages: Sequence[Message]) -> None:
        for message in messages:
            # each queue's consumer at once: one that is slow (a mail server timing out) holds
            # back its own queue's next message, not the others' of this one
            await asyncio.gather(
                *(
                    self._deliver(name, queue.handler, message)
                    for name, queue in list(self._queues.items())
                    if queue.handler is not None
                    and any(matches(b, message.routing_key) for b in queue.bindings)
                )
            )

    async def _deliver(self, queue: str, handler: MessageHandler, message: Message) -> None:
        for attempt in range(1, self._max_deliveries + 1):
            try:
                await handler(message)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                metrics.CONSUMER_MESSAGES.labels(queue, "failed").inc()
                log.warning(
                    "consumer.failed",
                    queue=queue,
                    message_id=message.message_id,
                    attempt=attempt,
                    error=repr(exc),
                )
                if attempt == self._max_deliveries:
                    await self._dead.commit(
                        _dead_letters_projection(queue),
                        0,
                        {message.message_id: _encode(message, repr(exc))},
                        None,
                    )
                    metrics.CONSUMER_MESSAGES.labels(queue, "dead_lettered").inc()
                    return
                await asyncio.sleep(self._retry_delay * attempt)

    async def declare(self, queue: str, bindings: Sequence[str]) -> None:
        existing = self._queues.setdefault(queue, _Queue(bindings=list(bindings)))
        existing.bindings = sorted(set(existing.bindings) | set(bindings))

    async def consume(
        self, queue: str, bindings: Sequence[str], handler: MessageHandler
    ) -> _MemorySubscription:
        await self.declare(queue, bindings)
        self._queues[queue].handler = handler
        return _MemorySubscription(self, queue)

    async def dead_letters(self, queue: str) -> list[DeadLetter]:
        docs = await self._dead.find(_dead_letters_projection(queue), {})
        return [DeadLetter(message=_decode(doc), queue=queue, reason=doc["reason"]) for doc in docs]

    async def replay_dead_letters(self, queue: str) -> int:
        handler = self._queues[queue].handler if queue in self._queues else None
        if handler is None:
            raise LookupError(f"nothing consumes {queue!r} in this process")
        letters = await self.dead_letters(queue)
        for letter in letters:
            await self._dead.commit(
                _dead_letters_projection(queue), 0, {letter.message.message_id: None}, None
            )
            await self._deliver(queue, handler, letter.message)
        return len(letters)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._queues.clear()


def _encode(message: Message, reason: str) -> dict[str, object]:
    return {
        "message_id": message.message_id,
        "routing_key": message.routing_key,
        "body": base64.b64encode(message.body).decode(),
        "headers": dict(message.headers),
        "reason": reason,
    }


def _decode(doc: dict[str, object]) -> Message:
    headers = doc["headers"]
    assert isinstance(headers, dict)
    return Message(
        message_id=str(doc["message_id"]),
        routing_key=str(doc["routing_key"]),
        body=base64.b64decode(str(doc["body"])),
        headers=headers,
    )
