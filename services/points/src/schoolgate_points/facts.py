"""What every award is checked against, kept in memory: the school, its pupils, its settings.

Asking the read models for them cost three round trips to SQLite on every award. These views
follow the log in this process instead. The award path (``handlers.pupils_to_award``) lets
them only say "yes": where they cannot (not caught up yet, a pupil they do not know or place
elsewhere, a whole class, a "needs work" point), the award is checked against the stored
read models and the settings stream as before, so a view that is a moment behind never
refuses an award wrongly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

from schoolgate_kit.eventstore import EventStore
from schoolgate_kit.memory import MemoryView
from schoolgate_kit.readmodels import Doc

from schoolgate_points import domain
from schoolgate_points.projections import pupils, schools, settings


@dataclass
class Facts:
    pupils: MemoryView = field(default_factory=lambda: MemoryView(pupils))
    schools: MemoryView = field(default_factory=lambda: MemoryView(schools))
    settings: MemoryView = field(default_factory=lambda: MemoryView(settings))

    @property
    def views(self) -> tuple[MemoryView, ...]:
        return (self.pupils, self.schools, self.settings)

    @property
    def ready(self) -> bool:
        return all(view.ready.is_set() for view in self.views)

    def rules(self, school_id: str, clock: domain.Rules) -> domain.Rules:
        """The school's clock with the points settings these views hold for it."""
        chosen: Doc = self.settings.get(school_id) or {}
        return replace(
            clock,
            needs_work_enabled=chosen.get("needs_work_enabled", False),
            undo_window_seconds=chosen.get("undo_window_seconds", domain.DEFAULT_UNDO_WINDOW),
        )

    @contextlib.asynccontextmanager
    async def following(self, store: EventStore) -> AsyncIterator[Facts]:
        tasks = [
            asyncio.create_task(view.follow(store), name=f"memory:{view.projection.name}")
            for view in self.views
        ]
        try:
            yield self
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
