"""What every event is: frozen data with a stable type name and a schema version."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    """A fact that happened. Subclasses set ``event_type`` and ``schema_version``.

    ``event_type`` is the stored name and never changes, whatever the class is called.
    ``service`` names the owning service; the relay routes on ``<service>.<event_type>``.
    ``personal_fields`` names the few fields holding personal data, so they can be
    encrypted per person and erased by destroying that person's key.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    service: ClassVar[str]
    personal_fields: ClassVar[frozenset[str]] = frozenset()
