"""Small builders for tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from schoolgate_contracts import Event, Metadata, NewEvent, RecordedEvent
from schoolgate_contracts.points import DailyTargetSet, PointAwarded

from schoolgate_kit.eventstore import Batch, EventStore


class count_reads:
    """Counts a store's ``read_all`` calls from now on, its own included."""

    def __init__(self, store: EventStore) -> None:
        self.count = 0
        read_all = store.read_all

        async def counted(**kwargs: Any) -> Batch:
            self.count += 1
            return await read_all(**kwargs)

        store.read_all = counted  # type: ignore[method-assign]


class ManualClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 16, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def award(
    pupil_id: str = "pupil-1",
    *,
    school_id: str = "school-1",
    way: str = "kindness",
    on: date = date(2026, 11, 16),
    award_id: str | None = None,
    class_id: str | None = "class-1",
    correlation_id: str = "test",
) -> NewEvent:
    award_id = award_id or uuid.uuid4().hex
    return NewEvent(
        event_id=uuid.uuid4(),
        event=PointAwarded(
            award_id=award_id,
            pupil_id=pupil_id,
            class_id=class_id,
            school_way_id=way,
            awarded_by="teacher-1",
            school_date=on,
            week_start=on - timedelta(days=on.weekday()),
            awarded_at=datetime(on.year, on.month, on.day, 10, tzinfo=UTC),
        ),
        metadata=Metadata(
            occurred_at=datetime(on.year, on.month, on.day, 10, tzinfo=UTC),
            school_id=school_id,
            actor="teacher-1",
            correlation_id=correlation_id,
        ),
    )


def target(
    pupil_id: str = "pupil-1", *, points: int | None = 3, school_id: str = "school-1"
) -> NewEvent:
    """A parent set a pupil's daily target: an event far rarer than awards."""
    return NewEvent(
        event_id=uuid.uuid4(),
        event=DailyTargetSet(
            pupil_id=pupil_id, points_per_day=points, set_by="parent-1", set_by_role="parent"
        ),
        metadata=Metadata(
            occurred_at=datetime(2026, 11, 16, 10, tzinfo=UTC),
            school_id=school_id,
            actor="parent-1",
            correlation_id="test",
        ),
    )


def recorded(
    position: int,
    event: Event,
    *,
    school_id: str = "s1",
    at: datetime = datetime(2026, 11, 16, 10, tzinfo=UTC),
) -> RecordedEvent:
    """``event`` as the store would hand it over at ``position``, in a stream of its own,
    having happened and been recorded ``at``."""
    return RecordedEvent(
        event_id=uuid.uuid4(),
        stream=f"stream-{position}",
        version=0,
        position=position,
        recorded_at=at,
        metadata=Metadata(occurred_at=at, school_id=school_id, actor="t1", correlation_id="c"),
        event=event,
    )
