"""The one place the points service is put together from real or given parts."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from schoolgate_kit.clock import utc_now
from schoolgate_kit.eventstore import EventStore
from schoolgate_kit.ids import new_id
from schoolgate_kit.readmodels import ReadModelStore
from schoolgate_kit.settings import Settings

from schoolgate_points.facts import Facts


@dataclass
class Points:
    settings: Settings
    store: EventStore
    readmodels: ReadModelStore
    clock: Callable[[], datetime] = utc_now
    new_id: Callable[[], uuid.UUID] = field(default=new_id)
    facts: Facts = field(default_factory=Facts)
    """In-memory views of what awards are checked against; they follow the log while the
    app runs (its lifespan), and are simply not used before they have caught up."""
