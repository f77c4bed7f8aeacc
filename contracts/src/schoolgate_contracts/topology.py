"""Who listens to what: every durable consumer queue on the bus and the events it takes.

A topic exchange drops a message that no queue is bound for. If a consumer's queue existed
only once its process had started, events published before then would be lost to it. So the
queues are part of the contract: the relay declares every one of them before it publishes
anything, and a reactor may only consume from a queue named here.
"""

from __future__ import annotations

from dataclasses import dataclass

from schoolgate_contracts.base import Event
from schoolgate_contracts.consent import GuardianLinked, ParentSuspended
from schoolgate_contracts.messaging import MessageSent
from schoolgate_contracts.notifications import EmergencyNoticeSent
from schoolgate_contracts.points import PointAwarded
from schoolgate_contracts.roster import OldPointsErased, PupilErased
from schoolgate_contracts.stories import PortfolioItemApproved, PostPublished


@dataclass(frozen=True, slots=True)
class ConsumerQueue:
    name: str
    handles: tuple[type[Event], ...]

    @property
    def bindings(self) -> list[str]:
        return [f"{cls.service}.{cls.event_type}" for cls in self.handles]


NOTIFIED: tuple[type[Event], ...] = (
    PointAwarded,
    PostPublished,
    PortfolioItemApproved,
    MessageSent,
    GuardianLinked,
    ParentSuspended,
    EmergencyNoticeSent,
)
"""What people are told about, on every channel."""
NOTIFICATIONS_IN_APP = ConsumerQueue("notifications.in_app", (*NOTIFIED, OldPointsErased))
"""The notification centre: every notification, kept until its data's retention ends."""
NOTIFICATIONS_PUSH = ConsumerQueue("notifications.push", NOTIFIED)
NOTIFICATIONS_EMAIL = ConsumerQueue("notifications.email", NOTIFIED)
"""One queue per channel that leaves the building: a mail server that is down holds back
email only, never a push or the notification centre."""
MESSAGING_ERASURE = ConsumerQueue("messaging.erasure", (PupilErased,))
"""A pupil erased: the conversations about them go too (messaging)."""

QUEUES: tuple[ConsumerQueue, ...] = (
    NOTIFICATIONS_IN_APP,
    NOTIFICATIONS_PUSH,
    NOTIFICATIONS_EMAIL,
    MESSAGING_ERASURE,
)
