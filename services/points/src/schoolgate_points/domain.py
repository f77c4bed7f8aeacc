"""Points: what may happen to an award, a pupil's target and a school's rules. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from schoolgate_contracts import Event
from schoolgate_contracts.points import (
    DailyTargetSet,
    PointAwarded,
    PointAwardUndone,
    PointKind,
    PointsSettingsChanged,
)
from schoolgate_kit.problems import Conflict, Forbidden, NotFound

DEFAULT_UNDO_WINDOW = 60


def award_stream(award_id: str) -> str:
    return f"award-{award_id}"


def target_stream(pupil_id: str) -> str:
    return f"target-{pupil_id}"


def settings_stream(school_id: str) -> str:
    return f"pointsettings-{school_id}"


# -- the school's rules ------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """How a school gives points. "Needs work" points are off unless a leader turns them on."""

    timezone: str = "Europe/London"
    week_starts_on: int = 0
    needs_work_enabled: bool = False
    undo_window_seconds: int = DEFAULT_UNDO_WINDOW


def evolve_rules(rules: Rules, event: Event) -> Rules:
    match event:
        case PointsSettingsChanged():
            return Rules(
                timezone=rules.timezone,
                week_starts_on=rules.week_starts_on,
                needs_work_enabled=event.needs_work_enabled,
                undo_window_seconds=event.undo_window_seconds,
            )
    return rules


def decide_settings(
    rules: Rules, needs_work_enabled: bool, undo_window_seconds: int
) -> list[Event]:
    if (rules.needs_work_enabled, rules.undo_window_seconds) == (
        needs_work_enabled,
        undo_window_seconds,
    ):
        return []
    return [
        PointsSettingsChanged(
            needs_work_enabled=needs_work_enabled, undo_window_seconds=undo_window_seconds
        )
    ]


def school_date(now: datetime, timezone: str) -> date:
    """The day it is at the school, whatever the server's clock says."""
    return now.astimezone(ZoneInfo(timezone)).date()


def week_start(day: date, starts_on: int = 0) -> date:
    """The first day of the school week holding ``day`` (Monday = 0 unless the school says)."""
    return day - timedelta(days=(day.weekday() - starts_on) % 7)


# -- awards ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AwardPoints:
    """One action: a point for one value to one pupil, a group or the whole class."""

    award_id: str
    pupil_ids: tuple[str, ...]
    class_id: str | None
    school_way_id: str
    awarded_by: str
    kind: PointKind = "positive"
    points: int = 1


@dataclass(frozen=True)
class UndoAward:
    award_id: str
    undone_by: str
    may_undo_others: bool = False
    """Leaders may undo any award in their school; others only their own."""


@dataclass(frozen=True)
class Award:
    awarded: tuple[PointAwarded, ...] = ()
    undone: tuple[PointAwardUndone, ...] = field(default=())

    @property
    def pupil_ids(self) -> tuple[str, ...]:
        return tuple(a.pupil_id for a in self.awarded)


def initial_state() -> Award:
    return Award()


def evolve(state: Award, event: Event) -> Award:
    match event:
        case PointAwarded():
            return Award(awarded=(*state.awarded, event), undone=state.undone)
        case PointAwardUndone():
            return Award(awarded=state.awarded, undone=(*state.undone, event))
    return state


class AwardIdReused(Conflict):
    slug = "award-id-reused"
    title = "That award id was already used for a different award"


class NeedsWorkPointsOff(Forbidden):
    slug = "needs-work-points-off"
    title = "This school does not use 'needs work' points"


class UndoWindowPassed(Conflict):
    slug = "undo-window-passed"
    title = "It is too late to undo this award"


class NotYourAward(Forbidden):
    slug = "not-your-award"
    title = "Only the person who gave an award, or a leader, can undo it"


def decide_award(state: Award, command: AwardPoints, now: datetime, rules: Rules) -> list[Event]:
    if state.awarded:
        first = state.awarded[0]
        same = sorted(state.pupil_ids) == sorted(command.pupil_ids) and (
            first.school_way_id,
            first.class_id,
            first.kind,
        ) == (command.school_way_id, command.class_id, command.kind)
        if same:
            return []  # the same award sent again: already done
        raise AwardIdReused(f"award {command.award_id} was already given to other pupils or values")
    if command.kind == "needs_work" and not rules.needs_work_enabled:
        raise NeedsWorkPointsOff("A school leader can turn 'needs work' points on in settings.")
    day = school_date(now, rules.timezone)
    return [
        PointAwarded(
            award_id=command.award_id,
            pupil_id=pupil_id,
            class_id=command.class_id,
            school_way_id=command.school_way_id,
            awarded_by=command.awarded_by,
            points=command.points,
            school_date=day,
            week_start=week_start(day, rules.week_starts_on),
            kind=command.kind,
            awarded_at=now,
        )
        for pupil_id in dict.fromkeys(command.pupil_ids)
    ]


def undo_until(awarded_at: datetime, rules: Rules) -> datetime:
    return awarded_at + timedelta(seconds=rules.undo_window_seconds)


def decide_undo(state: Award, command: UndoAward, now: datetime, rules: Rules) -> list[Event]:
    if not state.awarded:
        raise NotFound(f"There is no award {command.award_id}.")
    if state.undone:
        return []  # already undone: asking again changes nothing
    first = state.awarded[0]
    if first.awarded_by != command.undone_by and not command.may_undo_others:
        raise NotYourAward("You can undo only the points you gave.")
    if now > undo_until(first.awarded_at, rules):
        raise UndoWindowPassed(
            f"Points can be undone for {rules.undo_window_seconds} seconds after they are given."
        )
    return [
        PointAwardUndone(
            award_id=a.award_id,
            pupil_id=a.pupil_id,
            class_id=a.class_id,
            school_way_id=a.school_way_id,
            kind=a.kind,
            points=a.points,
            school_date=a.school_date,
            week_start=a.week_start,
            undone_by=command.undone_by,
        )
        for a in state.awarded
    ]


# -- daily targets -----------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    points_per_day: int | None = None


def evolve_target(state: Target, event: Event) -> Target:
    match event:
        case DailyTargetSet():
            return Target(points_per_day=event.points_per_day)
    return state


def decide_target(
    state: Target, points_per_day: int | None, *, pupil_id: str, set_by: str, role: str
) -> list[Event]:
    if state.points_per_day == points_per_day:
        return []
    return [
        DailyTargetSet(
            pupil_id=pupil_id, points_per_day=points_per_day, set_by=set_by, set_by_role=role
        )
    ]
