"""Awarding points: the state of one award, what may happen to it, and what it becomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from schoolgate_contracts import Event
from schoolgate_contracts.points import PointAwarded
from schoolgate_kit.problems import Conflict


def award_stream(award_id: str) -> str:
    return f"award-{award_id}"


@dataclass(frozen=True)
class AwardPoint:
    award_id: str
    pupil_id: str
    class_id: str | None
    school_way_id: str
    awarded_by: str
    points: int = 1


@dataclass(frozen=True)
class Award:
    awarded: PointAwarded | None = None


def initial_state() -> Award:
    return Award()


def evolve(state: Award, event: Event) -> Award:
    match event:
        case PointAwarded():
            return Award(awarded=event)
        case _:
            return state


class AwardIdReused(Conflict):
    slug = "award-id-reused"
    title = "That award id was already used for a different award"


def school_date(now: datetime, timezone: str) -> date:
    """The day it is at the school, whatever the server's clock says."""
    return now.astimezone(ZoneInfo(timezone)).date()


def week_start(day: date) -> date:
    """School weeks start on Monday."""
    return day - timedelta(days=day.weekday())


def decide_award(state: Award, command: AwardPoint, now: datetime, timezone: str) -> list[Event]:
    if state.awarded is not None:
        previous = state.awarded
        same = (previous.pupil_id, previous.school_way_id, previous.class_id) == (
            command.pupil_id,
            command.school_way_id,
            command.class_id,
        )
        if same:
            return []  # the same award sent again: already done
        raise AwardIdReused(f"award {command.award_id} already went to another pupil or value")
    return [
        PointAwarded(
            award_id=command.award_id,
            pupil_id=command.pupil_id,
            class_id=command.class_id,
            school_way_id=command.school_way_id,
            awarded_by=command.awarded_by,
            points=command.points,
            school_date=school_date(now, timezone),
        )
    ]
