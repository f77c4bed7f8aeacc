"""The envelope around a stored event: where and when it was written, by whom, and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from schoolgate_contracts.base import Event


class Metadata(BaseModel):
    """What the writer knows about an event beyond its payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    occurred_at: datetime
    school_id: str
    actor: str
    correlation_id: str
    causation_id: str | None = None


class NewEvent(BaseModel):
    """An event on its way into the store."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    event_id: UUID
    event: Event
    metadata: Metadata


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as the store holds it, decoded and upcast to its current schema version.

    A plain dataclass, not a model: the store built it from validated parts, and a replay
    makes a million of them (a pydantic envelope cost more than the payload's validation).
    """

    event_id: UUID
    stream: str
    version: int
    """Position of the event in its stream, from 0."""
    position: int
    """Position in the store's global log, from 1."""
    recorded_at: datetime
    metadata: Metadata
    event: Event

    @property
    def event_type(self) -> str:
        return self.event.event_type

    @property
    def routing_key(self) -> str:
        return f"{self.event.service}.{self.event.event_type}"
