"""Read models of the points service.

Totals count positive points up and "needs work" points down; an undone award takes back
exactly what it gave. The roster's facts (a school's timezone and week, its values, who is
in which class) are followed here too, so the points service answers without asking roster.
"""

from __future__ import annotations

from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.points import DailyTargetSet, PointAwarded, PointAwardUndone
from schoolgate_kit.directory import pupils_projection, schools_projection
from schoolgate_kit.projections import Projection
from schoolgate_kit.readmodels import Doc

WEEKLY_TOTALS = "points.weekly_totals"
DAILY = "points.daily"
TARGETS = "points.targets"
PUPILS = "points.pupils"
SCHOOLS = "points.schools"

Counted = PointAwarded | PointAwardUndone


def weekly_total_key(pupil_id: str, week: str) -> str:
    return f"{pupil_id}:{week}"


def daily_key(class_id: str | None, pupil_id: str, day: str) -> str:
    return f"{class_id or '-'}:{pupil_id}:{day}"


def _counted(recorded: RecordedEvent) -> Counted:
    event = recorded.event
    assert isinstance(event, PointAwarded | PointAwardUndone)
    return event


def _add(doc: Doc, event: Counted) -> Doc:
    """Add an award to a tally, or take an undone one off it."""
    sign = 1 if isinstance(event, PointAwarded) else -1
    if event.kind == "needs_work":
        return {
            **doc,
            "total": doc["total"] - sign * event.points,
            "needs_work": doc["needs_work"] + sign * event.points,
        }
    by_way = dict(doc["by_way"])
    count = by_way.get(event.school_way_id, 0) + sign * event.points
    if count:
        by_way[event.school_way_id] = count
    else:
        by_way.pop(event.school_way_id, None)
    return {**doc, "total": doc["total"] + sign * event.points, "by_way": by_way}


def _weekly(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = _counted(recorded)
    doc = doc or {
        "school_id": recorded.metadata.school_id,
        "pupil_id": event.pupil_id,
        "week_start": event.week_start.isoformat(),
        "total": 0,
        "by_way": {},
        "needs_work": 0,
    }
    return _add(doc, event)


def _daily(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = _counted(recorded)
    doc = doc or {
        "school_id": recorded.metadata.school_id,
        "class_id": event.class_id,
        "pupil_id": event.pupil_id,
        "school_date": event.school_date.isoformat(),
        "week_start": event.week_start.isoformat(),
        "total": 0,
        "by_way": {},
        "needs_work": 0,
    }
    return _add(doc, event)


def _target(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    assert isinstance(event, DailyTargetSet)
    return {
        "school_id": recorded.metadata.school_id,
        "pupil_id": event.pupil_id,
        "points_per_day": event.points_per_day,
        "set_by_role": event.set_by_role,
    }


weekly_totals = Projection(
    name=WEEKLY_TOTALS,
    handles=(PointAwarded, PointAwardUndone),
    key=lambda r: weekly_total_key(_counted(r).pupil_id, _counted(r).week_start.isoformat()),
    evolve=_weekly,
)
daily = Projection(
    name=DAILY,
    handles=(PointAwarded, PointAwardUndone),
    key=lambda r: daily_key(
        _counted(r).class_id, _counted(r).pupil_id, _counted(r).school_date.isoformat()
    ),
    evolve=_daily,
)
targets = Projection(
    name=TARGETS,
    handles=(DailyTargetSet,),
    key=lambda r: str(getattr(r.event, "pupil_id")),  # noqa: B009
    evolve=_target,
)
pupils = pupils_projection(PUPILS)
schools = schools_projection(SCHOOLS)
PROJECTIONS = (weekly_totals, daily, targets, pupils, schools)
COUNTING = (WEEKLY_TOTALS, DAILY)
"""The read models an award changes: a reader waiting for an award waits for these."""
