"""Events owned by the points service."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import Field

from schoolgate_contracts.base import Event
from schoolgate_contracts.registry import registry


@registry.register
class PointAwarded(Event):
    """A member of staff awarded a pupil a point for one of the school's values.

    ``school_date`` is the award's date in the school's own timezone, decided when the
    point was given, so weekly totals never depend on a clock or timezone at read time.

    Version 1 called the value ``way`` and had no class or date; see the upcaster below.
    """

    event_type = "PointAwarded"
    schema_version = 2
    service = "points"

    award_id: str
    pupil_id: str
    class_id: str | None
    school_way_id: str
    awarded_by: str
    points: int = Field(default=1, ge=1, le=10)
    school_date: date


@registry.upcaster("PointAwarded", from_version=1)
def _point_awarded_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    # v1 (the first slice) stored {"award_id", "pupil_id", "way", "awarded_by", "awarded_on"}.
    upgraded = {k: v for k, v in data.items() if k not in {"way", "awarded_on"}}
    upgraded["school_way_id"] = data["way"]
    upgraded["school_date"] = data["awarded_on"]
    upgraded.setdefault("class_id", None)
    return upgraded
