"""Notifications: turns facts into messages for families.

For now it keeps one inbox entry per point awarded, keyed by the event id, so a message
delivered twice still makes one entry.
"""

from __future__ import annotations

from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.points import PointAwarded
from schoolgate_contracts.topology import NOTIFICATIONS_FAMILY
from schoolgate_kit.reactors import Reactor
from schoolgate_kit.readmodels import ReadModelStore

INBOX = "notifications.inbox"
QUEUE = NOTIFICATIONS_FAMILY.name


async def record_point(event: RecordedEvent, *, readmodels: ReadModelStore) -> None:
    awarded = event.event
    assert isinstance(awarded, PointAwarded)
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
                "position": event.position,
                "occurred_at": event.metadata.occurred_at.isoformat(),
            }
        },
        None,
    )


def reactors(readmodels: ReadModelStore) -> list[Reactor]:
    async def handle(event: RecordedEvent) -> None:
        await record_point(event, readmodels=readmodels)

    return [Reactor(queue=NOTIFICATIONS_FAMILY, handle=handle)]
