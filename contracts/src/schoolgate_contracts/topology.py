"""Who listens to what: every durable consumer queue on the bus and the events it takes.

A topic exchange drops a message that no queue is bound for. If a consumer's queue existed
only once its process had started, events published before then would be lost to it. So the
queues are part of the contract: the relay declares every one of them before it publishes
anything, and a reactor may only consume from a queue named here.
"""

from __future__ import annotations

from dataclasses import dataclass

from schoolgate_contracts.base import Event
from schoolgate_contracts.points import PointAwarded
from schoolgate_contracts.roster import OldPointsErased, PupilErased


@dataclass(frozen=True, slots=True)
class ConsumerQueue:
    name: str
    handles: tuple[type[Event], ...]

    @property
    def bindings(self) -> list[str]:
        return [f"{cls.service}.{cls.event_type}" for cls in self.handles]


NOTIFICATIONS_FAMILY = ConsumerQueue("notifications.family", (PointAwarded, OldPointsErased))
MESSAGING_ERASURE = ConsumerQueue("messaging.erasure", (PupilErased,))
"""A pupil erased: the conversations about them go too (messaging)."""

QUEUES: tuple[ConsumerQueue, ...] = (NOTIFICATIONS_FAMILY, MESSAGING_ERASURE)
