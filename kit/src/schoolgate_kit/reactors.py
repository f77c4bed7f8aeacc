"""Reactors: consumers of bus messages whose effects happen once per event id."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.topology import ConsumerQueue

from schoolgate_kit import metrics
from schoolgate_kit.bus import Bus, Message, Subscription
from schoolgate_kit.crypto import Keyring
from schoolgate_kit.wire import from_message

log = structlog.get_logger()


@dataclass(frozen=True)
class Reactor:
    """``handle`` must be idempotent by ``event.event_id``: it may see an event twice.

    The queue comes from ``schoolgate_contracts.topology``, so the relay has declared it
    before publishing: events written while this reactor was not running wait for it.
    """

    queue: ConsumerQueue
    handle: Callable[[RecordedEvent], Awaitable[None]]


async def start_reactor(reactor: Reactor, bus: Bus, keyring: Keyring | None = None) -> Subscription:
    """``keyring``: the deployment's, to open the personal values events carry sealed."""

    async def on_message(message: Message) -> None:
        # Decoding happens here, at the edge: a broken payload raises, is retried a bounded
        # number of times, and ends in the dead-letter queue for a person to look at.
        event = from_message(message, keyring=keyring)
        bound = structlog.contextvars.bound_contextvars(
            correlation_id=event.metadata.correlation_id, event_id=str(event.event_id)
        )
        with bound:
            await reactor.handle(event)
        metrics.CONSUMER_MESSAGES.labels(reactor.queue.name, "processed").inc()

    return await bus.consume(reactor.queue.name, reactor.queue.bindings, on_message)
