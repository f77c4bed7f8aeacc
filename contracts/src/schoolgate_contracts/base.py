"""What every event is: frozen data with a stable type name and a schema version."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    """A fact that happened. Subclasses set ``event_type`` and ``schema_version``.

    ``event_type`` is the stored name and never changes, whatever the class is called.
    ``service`` names the owning service; the relay routes on ``<service>.<event_type>``.
    Every string field says in its type whether it is personal data, and whose
    (``schoolgate_contracts.privacy``): the store encrypts those under their subject's key.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    service: ClassVar[str]
