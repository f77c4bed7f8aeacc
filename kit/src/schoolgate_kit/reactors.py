"""Reactors: consumers of bus messages whose effects happen once per event id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from schoolgate_contracts import Event, RecordedEvent

from schoolgate_kit import metrics
from schoolgate_kit.bus import Bus, Message, Subscription
from schoolgate_kit.wire import from_message

log = structlog.get_logger()


@dataclass(frozen=True)
class Reactor:
    """``handle`` must be idempotent by ``event.event_id``: it may see an event twice."""

    queue: str
    handles: tuple[type[Event], ...]
    handle: Callable[[RecordedEvent], Awaitable[None]]

    @property
    def bindings(self) -> list[str]:
        return [f"{cls.service}.{cls.event_type}" for cls in self.handles]


async def start_reactor(reactor: Reactor, bus: Bus) -> Subscription:
    async def on_message(message: Message) -> None:
        # Decoding happens here, at the edge: a broken payload raises, is retried a bounded
        # number of times, and ends in the dead-letter queue for a person to look at.
        event = from_message(message)
        bound = structlog.contextvars.bound_contextvars(
            correlation_id=event.metadata.correlation_id, event_id=str(event.event_id)
        )
        with bound:
            await reactor.handle(event)
        metrics.CONSUMER_MESSAGES.labels(reactor.queue, "processed").inc()

    return await bus.consume(reactor.queue, reactor.bindings, on_message)
