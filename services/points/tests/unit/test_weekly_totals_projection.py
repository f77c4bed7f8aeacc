"""Weekly totals fold events into documents; the runner applies each event once."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from schoolgate_contracts import Metadata, RecordedEvent
from schoolgate_contracts.points import PointAwarded
from schoolgate_kit.projections import fold
from schoolgate_points.projections import weekly_total_key, weekly_totals


def recorded(position: int, pupil: str, way: str, on: date) -> RecordedEvent:
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
        event=PointAwarded(
            award_id=str(position),
            pupil_id=pupil,
            class_id="c1",
            school_way_id=way,
            awarded_by="t1",
            school_date=on,
        ),
    )


def test_points_in_one_week_add_up_by_value() -> None:
    events = [
        recorded(1, "p1", "kindness", date(2026, 11, 16)),
        recorded(2, "p1", "kindness", date(2026, 11, 20)),
        recorded(3, "p1", "effort", date(2026, 11, 22)),
        recorded(4, "p1", "effort", date(2026, 11, 23)),  # next Monday: a new week
        recorded(5, "p2", "effort", date(2026, 11, 17)),
    ]
    changes = fold(weekly_totals, {}, events)
    week = changes[weekly_total_key("p1", "2026-11-16")]
    assert week is not None
    assert week["total"] == 3
    assert week["by_way"] == {"kindness": 2, "effort": 1}
    assert changes[weekly_total_key("p1", "2026-11-23")]["total"] == 1  # type: ignore[index]
    assert changes[weekly_total_key("p2", "2026-11-16")]["total"] == 1  # type: ignore[index]


def test_an_event_the_document_already_holds_is_not_counted_again() -> None:
    first = fold(weekly_totals, {}, [recorded(1, "p1", "kindness", date(2026, 11, 16))])
    doc = first[weekly_total_key("p1", "2026-11-16")]
    assert doc is not None
    key = weekly_total_key("p1", "2026-11-16")
    again = fold(weekly_totals, {key: doc}, [recorded(1, "p1", "kindness", date(2026, 11, 16))])
    assert again == {}
