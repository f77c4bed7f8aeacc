"""Read models of the points service.

Totals count positive points up and "needs work" points down; an undone award takes back
exactly what it gave. The roster's facts (a school's timezone and week, its values, who is
in which class) are followed here too, so the points service answers without asking roster.
"""

from __future__ import annotations

from typing import Any

from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.points import (
    DailyTargetSet,
    PointAwarded,
    PointAwardUndone,
    PointsSettingsChanged,
)
from schoolgate_contracts.privacy import REMOVED
from schoolgate_contracts.roster import OldPointsErased
from schoolgate_kit.directory import pupils_projection, schools_projection
from schoolgate_kit.projections import Projection
from schoolgate_kit.readmodels import Doc

WEEKLY_TOTALS = "points.weekly_totals"
DAILY = "points.daily"
TARGETS = "points.targets"
PUPILS = "points.pupils"
SCHOOLS = "points.schools"
SETTINGS = "points.settings"

Counted = PointAwarded | PointAwardUndone


def weekly_total_key(pupil_id: str, week: str) -> str:
    return f"{pupil_id}:{week}"


def daily_key(class_id: str | None, pupil_id: str, day: str) -> str:
    return f"{class_id or '-'}:{pupil_id}:{day}"


def _counted(recorded: RecordedEvent) -> Counted:
    event = recorded.event
    if type(event) is PointAwarded or type(event) is PointAwardUndone:
        return event
    raise TypeError(f"not an award: {event!r}")


def _weekly_key(recorded: RecordedEvent) -> str:
    event = _counted(recorded)
    return f"{event.pupil_id}:{event.week_start.isoformat()}"


def _daily_key(recorded: RecordedEvent) -> str:
    event = _counted(recorded)
    return daily_key(event.class_id, event.pupil_id, event.school_date.isoformat())


def _tally(doc: Doc, event: Counted) -> Doc:
    """Add an award to a tally, or take an undone one off it, changing the tally in place.

    Written for speed as well as clarity: a rebuild runs it once per award ever given.
    """
    points = event.points if type(event) is PointAwarded else -event.points
    if event.kind == "needs_work":
        doc["total"] -= points
        doc["needs_work"] += points
        return doc
    by_way = doc["by_way"]
    way = event.school_way_id
    count = by_way.get(way, 0) + points
    if count:
        by_way[way] = count
    else:
        del by_way[way]
    doc["total"] += points
    return doc


def _copy(doc: Doc) -> Doc:
    """A tally ``_tally`` may change without changing ``doc``."""
    return {**doc, "by_way": doc["by_way"].copy()}


def _merge_tallies(earlier: Doc, later: Doc) -> Doc:
    """Two tallies of one pupil and period, the later counted from nothing: their sum.

    The later may count below zero (an undone award given in the earlier part); a school
    way whose count comes to nothing is dropped, as ``_tally`` drops it.
    """
    by_way = earlier["by_way"].copy()
    for way, points in later["by_way"].items():
        count = by_way.get(way, 0) + points
        if count:
            by_way[way] = count
        else:
            del by_way[way]
    return {
        **earlier,
        "total": earlier["total"] + later["total"],
        "needs_work": earlier["needs_work"] + later["needs_work"],
        "by_way": by_way,
    }


def _new_tally(recorded: RecordedEvent, event: Counted, **period: str | None) -> Doc:
    """An empty tally of the event's pupil and school, for the week and whatever else
    ``period`` narrows it to."""
    return {
        "school_id": recorded.metadata.school_id,
        "pupil_id": event.pupil_id,
        **period,
        "week_start": event.week_start.isoformat(),
        "total": 0,
        "by_way": {},
        "needs_work": 0,
    }


def _weekly_in_place(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = _counted(recorded)
    if event.pupil_id == REMOVED:
        return doc  # past the school's retention: nobody's points any more
    return _tally(_new_tally(recorded, event) if doc is None else doc, event)


def _weekly(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    return _weekly_in_place(None if doc is None else _copy(doc), recorded)


def _daily_in_place(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = _counted(recorded)
    if event.pupil_id == REMOVED:
        return doc
    if doc is None:
        school_date = event.school_date.isoformat()
        doc = _new_tally(recorded, event, class_id=event.class_id, school_date=school_date)
    return _tally(doc, event)


def _daily(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    return _daily_in_place(None if doc is None else _copy(doc), recorded)


def _target(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    assert isinstance(event, DailyTargetSet)
    return {
        "school_id": recorded.metadata.school_id,
        "pupil_id": event.pupil_id,
        "points_per_day": event.points_per_day,
        "set_by_role": event.set_by_role,
    }


def old_weeks(recorded: RecordedEvent) -> tuple[dict[str, Any], tuple[str, Any]]:
    """The tallies of weeks past the school's retention (``OldPointsErased``)."""
    event = recorded.event
    assert isinstance(event, OldPointsErased)
    return {"school_id": recorded.metadata.school_id}, ("week_start", event.before.isoformat())


weekly_totals = Projection(
    name=WEEKLY_TOTALS,
    handles=(PointAwarded, PointAwardUndone),
    key=_weekly_key,
    evolve=_weekly,
    merge=_merge_tallies,
    evolve_in_place=_weekly_in_place,
    purged_by=(OldPointsErased,),
    purge=old_weeks,
)
daily = Projection(
    name=DAILY,
    handles=(PointAwarded, PointAwardUndone),
    key=_daily_key,
    evolve=_daily,
    merge=_merge_tallies,
    evolve_in_place=_daily_in_place,
    purged_by=(OldPointsErased,),
    purge=old_weeks,
)
targets = Projection(
    name=TARGETS,
    handles=(DailyTargetSet,),
    key=lambda r: str(getattr(r.event, "pupil_id")),  # noqa: B009
    evolve=_target,
)


def _settings(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    assert isinstance(event, PointsSettingsChanged)
    return {
        "needs_work_enabled": event.needs_work_enabled,
        "undo_window_seconds": event.undo_window_seconds,
    }


settings = Projection(
    name=SETTINGS,
    handles=(PointsSettingsChanged,),
    key=lambda r: r.metadata.school_id,
    evolve=_settings,
)
"""Each school's points settings. Kept in memory only (see ``facts``): the settings stream
itself is what undo and "needs work" are decided by."""
pupils = pupils_projection(PUPILS)
schools = schools_projection(SCHOOLS)
PROJECTIONS = (weekly_totals, daily, targets, pupils, schools)
COUNTING = (WEEKLY_TOTALS, DAILY)
"""The read models an award changes: a reader waiting for an award waits for these."""
