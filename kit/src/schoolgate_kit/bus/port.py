"""The bus port: a topic exchange of events, durable consumer queues and dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

EXCHANGE = "schoolgate.events"
DEAD_LETTER_EXCHANGE = "schoolgate.dead"


@dataclass(frozen=True, slots=True)
class Message:
    message_id: str
    routing_key: str
    body: bytes
    headers: Mapping[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message: Message
    queue: str
    reason: str


MessageHandler = Callable[[Message], Awaitable[None]]


class PublishFailed(Exception):
    """The broker did not confirm every message in time: nothing may be assumed sent."""


def already_confirmed() -> asyncio.Future[None]:
    """What ``send`` returns when nothing is left for the broker to confirm."""
    done = asyncio.get_running_loop().create_future()
    done.set_result(None)
    return done


class Subscription(Protocol):
    async def stop(self) -> None: ...


class Bus(Protocol):
    async def publish(self, messages: Sequence[Message]) -> None:
        """Return only once the broker confirmed every message; raise PublishFailed."""
        ...

    async def send(self, messages: Sequence[Message]) -> asyncio.Future[None]:
        """Hand ``messages`` to the broker, after everything sent before, without waiting
        for its confirms: the future completes once it confirmed them all, or fails with
        PublishFailed. Raise PublishFailed if they could not even be handed over."""
        ...

    async def declare(self, queue: str, bindings: Sequence[str]) -> None:
        """Create the durable queue (and its dead-letter queue) and bind it."""
        ...

    async def consume(
        self, queue: str, bindings: Sequence[str], handler: MessageHandler
    ) -> Subscription:
        """Deliver each message to ``handler``; ack after it returns, retry if it raises,
        and dead-letter after the bounded number of tries."""
        ...

    async def dead_letters(self, queue: str) -> list[DeadLetter]: ...

    async def replay_dead_letters(self, queue: str) -> int:
        """Put every dead letter of ``queue`` back on it; return how many."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
