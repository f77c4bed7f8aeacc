"""What every award is checked against, kept in memory: the school, its pupils, its settings.

Asking the read models for them cost three round trips to SQLite on every award. These views
follow the log in this process instead. They only ever say "yes": where they cannot (not
caught up yet, a pupil they do not know or place elsewhere, a whole class, a "needs work"
point), the award is checked against the stored read models and the settings stream as
before, so a view that is a moment behind never refuses an award wrongly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

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

    def allowed(
        self,
        school_id: str,
        class_id: str | None,
        school_way_id: str,
        pupil_ids: Sequence[str],
        *,
        default_timezone: str,
    ) -> domain.Rules | None:
        """The school's rules if every pupil is in the school (and the class) and the value
        is the school's; ``None`` when these views cannot say so."""
        if not self.ready:
            return None
        school = self.schools.get(school_id)
        if school is None or school_way_id not in school.get("school_ways", {}):
            return None
        for pupil_id in pupil_ids:
            pupil = self.pupils.get(pupil_id)
            if pupil is None or pupil["school_id"] != school_id or pupil["left"]:
                return None
            if class_id is not None and pupil["class_id"] != class_id:
                return None
        chosen: Doc = self.settings.get(school_id) or {}
        return domain.Rules(
            timezone=school.get("timezone", default_timezone),
            week_starts_on=school.get("week_starts_on", 0),
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
