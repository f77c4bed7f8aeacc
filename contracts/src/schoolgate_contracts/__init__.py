"""Schoolgate's shared language: every event, its envelope and the registry that loads them."""

from schoolgate_contracts import consent, messaging, notifications, points, roster, stories
from schoolgate_contracts.base import Event
from schoolgate_contracts.envelope import Metadata, NewEvent, RecordedEvent
from schoolgate_contracts.registry import BrokenEvent, EventRegistry, UnknownEventType, registry

__all__ = [
    "BrokenEvent",
    "Event",
    "EventRegistry",
    "Metadata",
    "NewEvent",
    "RecordedEvent",
    "UnknownEventType",
    "consent",
    "messaging",
    "notifications",
    "points",
    "registry",
    "roster",
    "stories",
]
