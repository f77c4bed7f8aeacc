"""Notifications: turns facts into messages for families.

For now it keeps one inbox entry per point awarded, keyed by the event id, so a message
delivered twice still makes one entry; the entries of weeks past the school's retention go
when the roster erases those weeks.
"""

from __future__ import annotations

from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.points import PointAwarded
from schoolgate_contracts.privacy import REMOVED
from schoolgate_contracts.roster import OldPointsErased
from schoolgate_contracts.topology import NOTIFICATIONS_FAMILY
from schoolgate_kit.reactors import Reactor
from schoolgate_kit.readmodels import ReadModelStore

INBOX = "notifications.inbox"
QUEUE = NOTIFICATIONS_FAMILY.name


async def record_point(event: RecordedEvent, *, readmodels: ReadModelStore) -> None:
    awarded = event.event
    assert isinstance(awarded, PointAwarded)
    if awarded.pupil_id == REMOVED:
        return  # delivered late, after its week was erased: nobody's point any more
    # Keyed by the event id, so a second delivery writes the same entry again: it takes
    # effect once without a read first (which cost a round trip on every award).
    await readmodels.commit(
        INBOX,
        0,
        {
            str(event.event_id): {
                "school_id": event.metadata.school_id,
                "pupil_id": awarded.pupil_id,
                "kind": "point",
                "school_way_id": awarded.school_way_id,
                "week_start": awarded.week_start.isoformat(),
                "position": event.position,
                "occurred_at": event.metadata.occurred_at.isoformat(),
            }
        },
        None,
    )


async def forget_old_points(event: RecordedEvent, *, readmodels: ReadModelStore) -> None:
    erased = event.event
    assert isinstance(erased, OldPointsErased)
    where = {"school_id": event.metadata.school_id, "kind": "point"}
    await readmodels.purge(INBOX, where, before=("week_start", erased.before.isoformat()))


def reactors(readmodels: ReadModelStore) -> list[Reactor]:
    async def handle(event: RecordedEvent) -> None:
        if isinstance(event.event, OldPointsErased):
            await forget_old_points(event, readmodels=readmodels)
        else:
            await record_point(event, readmodels=readmodels)

    return [Reactor(queue=NOTIFICATIONS_FAMILY, handle=handle)]
