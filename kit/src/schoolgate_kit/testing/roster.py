"""Roster facts for tests of other services, appended the way the roster service would."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from schoolgate_contracts import Event, Metadata, NewEvent
from schoolgate_contracts.roster import (
    ClassAdded,
    PupilEnrolled,
    SchoolDetails,
    SchoolRegistered,
    SchoolWayAdded,
    YearGroupAdded,
)

from schoolgate_kit.eventstore import EventStore


def school_facts(
    school_id: str,
    classes: Mapping[str, Sequence[str]],
    *,
    ways: Sequence[str] = ("kindness", "effort"),
    timezone: str = "Europe/London",
) -> list[Event]:
    """A school with one year group, the given classes of pupils (named after their ids)
    and values."""
    facts: list[Event] = [
        SchoolRegistered(
            school_id=school_id, details=SchoolDetails(name=school_id, timezone=timezone)
        ),
        YearGroupAdded(year_group_id="y1", name="Year 1"),
    ]
    facts += [SchoolWayAdded(school_way_id=way, name=way.title()) for way in ways]
    for class_id, pupils in classes.items():
        facts.append(ClassAdded(class_id=class_id, name=class_id, year_group_id="y1"))
        facts += [
            PupilEnrolled(
                pupil_id=pupil,
                first_name=pupil.title(),
                surname="Test",
                year_group_id="y1",
                class_id=class_id,
            )
            for pupil in pupils
        ]
    return facts


async def seed_school(store: EventStore, school_id: str, facts: Sequence[Event]) -> None:
    metadata = Metadata(
        occurred_at=datetime.now(UTC), school_id=school_id, actor="seed", correlation_id="seed"
    )
    await store.append(
        f"roster-{school_id}",
        [NewEvent(event_id=uuid.uuid4(), event=e, metadata=metadata) for e in facts],
        expected_version=None,
    )
