"""A projection kept in this process's memory, following the log.

For small facts read on every request (a school's values, which class a pupil is in), where
asking the read-model store each time cost more than the request's own work. It follows the
store like any projection, so it is as current as the stored read model, often more; it is
never written anywhere and starts again from position 0 with the process.

A view can be behind the log by the time a request reads it, as a stored read model can.
Callers that refuse something on what it says should check the stored read model before
they do (see ``points``): a view may then speed up every "yes" without ever causing a
wrong "no".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog

from schoolgate_kit.eventstore import EventStore
from schoolgate_kit.projections import Folding, Projection
from schoolgate_kit.readmodels import Doc

log = structlog.get_logger()


class MemoryView:
    def __init__(self, projection: Projection) -> None:
        if projection.derive is not None:
            raise ValueError("a memory view keeps no derived documents")
        self.projection = projection
        self._folding = Folding()
        self.position = 0
        self.ready = asyncio.Event()
        """Set once the view has caught up with the log for the first time."""

    def get(self, key: str) -> Doc | None:
        return self._folding.docs.get(key)

    def docs(self, where: Callable[[Doc], bool]) -> list[Doc]:
        return [doc for doc in self._folding.docs.values() if doc is not None and where(doc)]

    async def follow(self, store: EventStore, *, batch_size: int = 5000) -> None:
        """Keep up with the log until cancelled."""
        projection = self.projection
        async for batch in store.subscribe(
            after=self.position, types=projection.event_types, batch_size=batch_size
        ):
            keys = [projection.key(event) for event in batch.events]
            self._folding.apply(projection, batch.events, keys)
            self._folding.changed.clear()  # nothing is written: no need to know what changed
            self.position = batch.up_to
            if batch.caught_up and not self.ready.is_set():
                log.info("memory_view.ready", projection=projection.name, position=self.position)
                self.ready.set()
