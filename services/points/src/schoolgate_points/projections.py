"""Read models of the points service."""

from __future__ import annotations

from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.points import PointAwarded
from schoolgate_kit.projections import Projection
from schoolgate_kit.readmodels import Doc

from schoolgate_points.domain import week_start

WEEKLY_TOTALS = "points.weekly_totals"


def weekly_total_key(pupil_id: str, week: str) -> str:
    return f"{pupil_id}:{week}"


def _key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, PointAwarded)
    return weekly_total_key(event.pupil_id, week_start(event.school_date).isoformat())


def _evolve(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    assert isinstance(event, PointAwarded)
    doc = doc or {
        "school_id": recorded.metadata.school_id,
        "pupil_id": event.pupil_id,
        "week_start": week_start(event.school_date).isoformat(),
        "total": 0,
        "by_way": {},
    }
    by_way = dict(doc["by_way"])
    by_way[event.school_way_id] = by_way.get(event.school_way_id, 0) + event.points
    return {**doc, "total": doc["total"] + event.points, "by_way": by_way}


weekly_totals = Projection(name=WEEKLY_TOTALS, handles=(PointAwarded,), key=_key, evolve=_evolve)
PROJECTIONS = (weekly_totals,)
