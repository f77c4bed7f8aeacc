"""The notification reactors: one per channel queue, each idempotent by event id.

The notification centre (in the app) keeps one entry per recipient per event, keyed by both:
an event delivered twice writes the same entries again, so it takes effect once without a
read first. Beside them it keeps one record per event handled, for support: what kind of
event, for how many people, when; never who or what it said. Entries of weeks past a school's
retention go when the roster erases those weeks.

Before working out who hears about an event, a reactor waits until the service's own
projections (guardians, classes, staff) reflect the log up to that event: a guardian linked
a moment before a point was given must hear about the point. If they do not catch up in
time, the reactor fails, and the bus delivers the event again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.points import PointAwarded
from schoolgate_contracts.roster import OldPointsErased
from schoolgate_contracts.topology import NOTIFICATIONS_IN_APP
from schoolgate_kit.app import Followed, projected
from schoolgate_kit.eventstore import EventStore
from schoolgate_kit.projections import Projection
from schoolgate_kit.reactors import Reactor
from schoolgate_kit.readmodels import ReadModelStore

from schoolgate_notifications.compose import Directory, Note, notes_for
from schoolgate_notifications.projections import PROJECTIONS

CENTRE = "notifications.centre"
"""The notification centre: one entry per recipient and event."""
HANDLED = "notifications.handled"
"""One record per event handled: its kind, how many people it told, when."""
QUEUE = NOTIFICATIONS_IN_APP.name
CATCH_UP_WITHIN = 10.0


class ProjectionsBehind(RuntimeError):
    """The service's projections did not reach an event's position in time: try again."""


def centre_key(recipient: str, event_id: str) -> str:
    return f"{recipient}:{event_id}"


def _event_kind(recorded: RecordedEvent) -> str:
    return "point" if isinstance(recorded.event, PointAwarded) else recorded.event.event_type


@dataclass
class Notifier:
    """Works out a source event's notifications; channels decide what to do with them."""

    readmodels: ReadModelStore
    store: EventStore | None = None
    """The log the projections follow; without it nothing is waited for (a reactor run on
    its own, e.g. in a test of retention)."""
    projections: Sequence[Projection] = PROJECTIONS
    _reached: int = 0
    """A position every projection is known to have reached: events at or before it need no
    asking (a backlog of thousands asks about the first few, not each one)."""

    async def notes(self, recorded: RecordedEvent) -> list[Note]:
        if self.store is not None and recorded.position > self._reached:
            followed = Followed(self.projections, self.readmodels, self.store)
            behind = await projected(followed, recorded.position, within=CATCH_UP_WITHIN)
            if behind:
                raise ProjectionsBehind(f"{', '.join(behind)} behind {recorded.position}")
            self._reached = max(self._reached, await self._lowest_checkpoint())
        return await notes_for(recorded, Directory(self.readmodels))

    async def _lowest_checkpoint(self) -> int:
        lowest: int | None = None
        for projection in self.projections:
            generation = await self.readmodels.active_generation(projection.name)
            if generation is None:
                return 0
            checkpoint = await self.readmodels.checkpoint(projection.name, generation)
            lowest = checkpoint if lowest is None else min(lowest, checkpoint)
        return lowest or 0


def _utc_text(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


async def record_in_centre(
    recorded: RecordedEvent, notes: list[Note], readmodels: ReadModelStore
) -> None:
    event_id = str(recorded.event_id)
    occurred = _utc_text(recorded.metadata.occurred_at)
    event = recorded.event
    week = event.week_start.isoformat() if isinstance(event, PointAwarded) else None
    changes = {
        centre_key(note.recipient, event_id): {
            **note.as_doc(),
            "event_id": event_id,
            # a story scheduled for later is listed from when it can be seen
            "created_at": _utc_text(note.shows_from) if note.shows_from else occurred,
            "position": recorded.position,
            "week_start": week,
        }
        for note in notes
    }
    await readmodels.commit(CENTRE, 0, changes, None)
    handled = {
        "school_id": recorded.metadata.school_id,
        "kind": _event_kind(recorded),
        "recipients": len(notes),
        "position": recorded.position,
        "occurred_at": occurred,
        "week_start": week,
    }
    await readmodels.commit(HANDLED, 0, {event_id: handled}, None)


async def forget_old_points(event: RecordedEvent, *, readmodels: ReadModelStore) -> None:
    erased = event.event
    assert isinstance(erased, OldPointsErased)
    school = event.metadata.school_id
    before = ("week_start", erased.before.isoformat())
    await readmodels.purge(CENTRE, {"school_id": school, "kind": "points"}, before=before)
    await readmodels.purge(HANDLED, {"school_id": school, "kind": "point"}, before=before)


Channel = Callable[[RecordedEvent, list[Note]], Awaitable[None]]


def reactors(
    readmodels: ReadModelStore,
    *,
    store: EventStore | None = None,
    channels: Sequence[tuple[object, Channel]] = (),
) -> list[Reactor]:
    """The notification centre's reactor, and one for each channel given (its queue from the
    contracts' topology and what it does with an event's notifications)."""
    notifier = Notifier(readmodels, store)

    async def in_app(recorded: RecordedEvent) -> None:
        if isinstance(recorded.event, OldPointsErased):
            await forget_old_points(recorded, readmodels=readmodels)
            return
        await record_in_centre(recorded, await notifier.notes(recorded), readmodels)

    made = [Reactor(queue=NOTIFICATIONS_IN_APP, handle=in_app)]
    for queue, channel in channels:

        def handler(channel: Channel = channel) -> Callable[[RecordedEvent], Awaitable[None]]:
            async def handle(recorded: RecordedEvent) -> None:
                await channel(recorded, await notifier.notes(recorded))

            return handle

        made.append(Reactor(queue=queue, handle=handler()))  # type: ignore[arg-type]
    return made
