"""Totals fold awards and undos into documents; the runner applies each event once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from schoolgate_contracts import Event, Metadata, RecordedEvent
from schoolgate_contracts.points import PointAwarded, PointAwardUndone, PointKind
from schoolgate_kit.projections import fold
from schoolgate_points.projections import daily, daily_key, weekly_total_key, weekly_totals


def recorded(position: int, event: Event) -> RecordedEvent:
    return RecordedEvent(
        event_id=uuid.uuid4(),
        stream=f"award-{position}",
        version=0,
        position=position,
        recorded_at=datetime(2026, 11, 16, tzinfo=UTC),
        metadata=Metadata(
            occurred_at=datetime(2026, 11, 16, tzinfo=UTC),
            school_id="s1",
            actor="t1",
            correlation_id="c",
        ),
        event=event,
    )


def awarded(
    position: int, pupil: str, way: str, on: date, kind: PointKind = "positive"
) -> RecordedEvent:
    return recorded(
        position,
        PointAwarded(
            award_id=str(position),
            pupil_id=pupil,
            class_id="c1",
            school_way_id=way,
            awarded_by="t1",
            school_date=on,
            week_start=on - timedelta(days=on.weekday()),
            kind=kind,
            awarded_at=datetime.combine(on, datetime.min.time(), UTC),
        ),
    )


def undone(position: int, of: RecordedEvent) -> RecordedEvent:
    event = of.event
    assert isinstance(event, PointAwarded)
    return recorded(
        position,
        PointAwardUndone(
            award_id=event.award_id,
            pupil_id=event.pupil_id,
            class_id=event.class_id,
            school_way_id=event.school_way_id,
            kind=event.kind,
            points=event.points,
            school_date=event.school_date,
            week_start=event.week_start,
            undone_by="t1",
        ),
    )


def test_points_in_one_week_add_up_by_value() -> None:
    events = [
        awarded(1, "p1", "kindness", date(2026, 11, 16)),
        awarded(2, "p1", "kindness", date(2026, 11, 20)),
        awarded(3, "p1", "effort", date(2026, 11, 22)),
        awarded(4, "p1", "effort", date(2026, 11, 23)),  # next Monday: a new week
        awarded(5, "p2", "effort", date(2026, 11, 17)),
    ]
    changes = fold(weekly_totals, {}, events)
    week = changes[weekly_total_key("p1", "2026-11-16")]
    assert week is not None
    assert week["total"] == 3
    assert week["by_way"] == {"kindness": 2, "effort": 1}
    assert changes[weekly_total_key("p1", "2026-11-23")]["total"] == 1  # type: ignore[index]
    assert changes[weekly_total_key("p2", "2026-11-16")]["total"] == 1  # type: ignore[index]


def test_an_undone_award_is_taken_off_and_needs_work_counts_down() -> None:
    monday = date(2026, 11, 16)
    kind = awarded(1, "p1", "kindness", monday)
    events = [
        kind,
        awarded(2, "p1", "effort", monday),
        undone(3, kind),
        awarded(4, "p1", "listening", monday, kind="needs_work"),
    ]
    week = fold(weekly_totals, {}, events)[weekly_total_key("p1", "2026-11-16")]
    day = fold(daily, {}, events)[daily_key("c1", "p1", "2026-11-16")]
    for doc in (week, day):
        assert doc is not None
        assert doc["total"] == 0  # one effort point, less one "needs work"
        assert doc["by_way"] == {"effort": 1}  # kindness was undone: no empty entry left
        assert doc["needs_work"] == 1


def test_an_event_the_document_already_holds_is_not_counted_again() -> None:
    first = fold(weekly_totals, {}, [awarded(1, "p1", "kindness", date(2026, 11, 16))])
    key = weekly_total_key("p1", "2026-11-16")
    doc = first[key]
    assert doc is not None
    again = fold(weekly_totals, {key: doc}, [awarded(1, "p1", "kindness", date(2026, 11, 16))])
    assert again == {}
