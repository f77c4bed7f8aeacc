"""Events owned by the points service."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from pydantic import Field

from schoolgate_contracts.base import Event
from schoolgate_contracts.privacy import Id, NotPersonal, Personal
from schoolgate_contracts.registry import registry

PointKind = Literal["positive", "needs_work"]

POINTS_WEEK = "points-week"
"""The kind of key a school's awards of one week are sealed with: the school keeps points
for a rolling period, and erasing a week's key erases which child each of its points went
to (``OldPointsErased``)."""

AwardedPupil = Annotated[str, Personal("week_start", kind=POINTS_WEEK, stable=True)]
"""Who a point went to: the one personal thing an award holds, sealed under its week's key
(stable: a week's many awards to one child open with one decryption). Reads as ``removed``
once the week is past the school's retention, and every read model then skips it."""


@registry.register
class PointAwarded(Event):
    """A member of staff awarded a pupil a point for one of the school's values.

    ``school_date`` is the award's date in the school's own timezone and ``week_start`` the
    first day of that school week, both decided when the point was given, so totals never
    depend on a clock, a timezone or a setting at read time.

    One award (``award_id``) may go to several pupils at once, a group or the whole class:
    it is one stream holding one ``PointAwarded`` per pupil, appended together.

    ``kind`` is ``needs_work`` only where the school turned "needs work" points on; such a
    point counts against the total. ``awarded_at`` lets the award be undone for a short
    window.

    Version 1 called the value ``way`` and had no class or date; version 2 had no kind or
    time. See the upcasters below.
    """

    event_type = "PointAwarded"
    schema_version = 3
    service = "points"

    award_id: Id
    pupil_id: AwardedPupil
    class_id: Id | None
    school_way_id: Id
    awarded_by: Id
    points: int = Field(default=1, ge=1, le=10)
    school_date: date
    week_start: date
    kind: PointKind = "positive"
    awarded_at: datetime


@registry.register
class PointAwardUndone(Event):
    """An award was taken back within its undo window: the compensating fact, per pupil.

    It repeats what was awarded so every read model can take it off without a lookup.
    """

    event_type = "PointAwardUndone"
    service = "points"

    award_id: Id
    pupil_id: AwardedPupil
    class_id: Id | None
    school_way_id: Id
    kind: PointKind
    points: int = Field(ge=1, le=10)
    school_date: date
    week_start: date
    undone_by: Id


@registry.register
class DailyTargetSet(Event):
    """A parent or a teacher set a pupil's own daily target; ``None`` takes it away."""

    event_type = "DailyTargetSet"
    service = "points"

    pupil_id: Id
    points_per_day: int | None = Field(ge=1, le=50)
    set_by: Id
    set_by_role: Annotated[str, NotPersonal("a role's name")]


@registry.register
class PointsSettingsChanged(Event):
    """A leader changed how the school gives points."""

    event_type = "PointsSettingsChanged"
    service = "points"

    needs_work_enabled: bool
    undo_window_seconds: int = Field(ge=10, le=600)


@registry.upcaster("PointAwarded", from_version=1)
def _point_awarded_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    # v1 (the first slice) stored {"award_id", "pupil_id", "way", "awarded_by", "awarded_on"}.
    upgraded = {k: v for k, v in data.items() if k not in {"way", "awarded_on"}}
    upgraded["school_way_id"] = data["way"]
    upgraded["school_date"] = data["awarded_on"]
    upgraded.setdefault("class_id", None)
    return upgraded


@registry.upcaster("PointAwarded", from_version=2)
def _point_awarded_v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    # v2 awards were all positive, in Monday weeks; their time is taken as the start of
    # their school day, long past any undo window.
    day = date.fromisoformat(data["school_date"])
    return {
        **data,
        "kind": "positive",
        "week_start": (day - timedelta(days=day.weekday())).isoformat(),
        "awarded_at": datetime.combine(day, time(), UTC).isoformat(),
    }
