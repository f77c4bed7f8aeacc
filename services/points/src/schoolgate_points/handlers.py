"""Command and query handlers: the message first, named dependencies after."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from schoolgate_contracts import Metadata
from schoolgate_contracts.points import PointAwarded, PointAwardUndone, PointKind
from schoolgate_kit.commands import execute
from schoolgate_kit.csvsafe import csv_text
from schoolgate_kit.identity import Identity
from schoolgate_kit.names import PupilName, display_names
from schoolgate_kit.problems import NotFound, Unprocessable
from schoolgate_kit.projections import strip
from schoolgate_kit.readmodels import Doc

from schoolgate_points import domain
from schoolgate_points.bootstrap import Points
from schoolgate_points.projections import (
    COUNTING,
    DAILY,
    PUPILS,
    SCHOOLS,
    TARGETS,
    WEEKLY_TOTALS,
    weekly_total_key,
)

HISTORY_WEEKS = 12
LONGEST_REPORT = timedelta(days=366)


class UnknownPupil(Unprocessable):
    slug = "unknown-pupil"
    title = "That pupil is not in this school"


class PupilNotInClass(Unprocessable):
    slug = "pupil-not-in-class"
    title = "That pupil is not in this class"


class UnknownSchoolWay(Unprocessable):
    slug = "unknown-school-way"
    title = "That is not one of the school's values"


def _metadata(points: Points, school_id: str, actor: str, correlation_id: str) -> Metadata:
    return Metadata(
        occurred_at=points.clock(), school_id=school_id, actor=actor, correlation_id=correlation_id
    )


async def school_clock(
    school_id: str, *, points: Points, school: Doc | None = None
) -> domain.Rules:
    """The school's timezone and week from roster's facts: all a reader needs."""
    school = school or await points.readmodels.get(SCHOOLS, school_id) or {}
    return domain.Rules(
        timezone=school.get("timezone", points.settings.school_timezone),
        week_starts_on=school.get("week_starts_on", 0),
    )


async def rules(school_id: str, *, points: Points, school: Doc | None = None) -> domain.Rules:
    """The school's clock, and its points settings from its own stream: what an award or
    an undo is decided by."""
    current = await school_clock(school_id, points=points, school=school)
    for recorded in await points.store.read_stream(domain.settings_stream(school_id)):
        current = domain.evolve_rules(current, recorded.event)
    return current


# -- awarding ----------------------------------------------------------------------------


def check_award(
    school_id: str,
    class_id: str | None,
    school_way_id: str,
    pupil_ids: Sequence[str],
    *,
    school: Doc | None,
    pupils: Mapping[str, Doc | None],
) -> None:
    """The value is the school's, and every pupil is in the school (and the class)."""
    if school is None or school_way_id not in school.get("school_ways", {}):
        raise UnknownSchoolWay(f"{school_way_id!r} is not one of this school's values.")
    for pupil_id in pupil_ids:
        pupil = pupils.get(pupil_id)
        if pupil is None or pupil["school_id"] != school_id or pupil["left"]:
            raise UnknownPupil(f"There is no pupil {pupil_id!r} in this school.")
        if class_id is not None and pupil["class_id"] != class_id:
            raise PupilNotInClass(f"{pupil_id!r} is not in class {class_id!r}.")


async def pupils_to_award(
    school_id: str,
    class_id: str | None,
    school_way_id: str,
    pupil_ids: Sequence[str],
    *,
    whole_class: bool,
    kind: PointKind = "positive",
    points: Points,
) -> tuple[tuple[str, ...], domain.Rules]:
    """Check every pupil is in the school and the class, and the value is the school's;
    answer them with the school's rules.

    The in-memory facts answer most awards; anything they cannot allow is checked against
    the stored read models and the settings stream, which decide every refusal."""
    facts = points.facts
    if kind == "positive" and not whole_class and facts.ready:
        school = facts.schools.get(school_id)
        pupils = {p: facts.pupils.get(p) for p in pupil_ids}
        try:
            check_award(school_id, class_id, school_way_id, pupil_ids, school=school, pupils=pupils)
        except Unprocessable:
            pass  # the views may be a moment behind: the stored read models decide
        else:
            assert school is not None
            clock = await school_clock(school_id, points=points, school=school)
            return tuple(pupil_ids), facts.rules(school_id, clock)
    school = await points.readmodels.get(SCHOOLS, school_id)
    school_rules = await rules(school_id, points=points, school=school)
    if whole_class:
        check_award(school_id, class_id, school_way_id, (), school=school, pupils={})
        if class_id is None:
            raise Unprocessable("Say which class gets the point.")
        members = await points.readmodels.find(
            PUPILS, {"school_id": school_id, "class_id": class_id, "left": False}
        )
        if not members:
            raise Unprocessable("There are no pupils in that class.")
        return tuple(sorted(m["pupil_id"] for m in members)), school_rules
    found = await points.readmodels.get_many(PUPILS, pupil_ids)
    check_award(school_id, class_id, school_way_id, pupil_ids, school=school, pupils=found)
    return tuple(pupil_ids), school_rules


@dataclass(frozen=True)
class Given:
    awarded: tuple[PointAwarded, ...]
    undo_until: datetime


async def award_points(
    command: domain.AwardPoints,
    *,
    points: Points,
    school_id: str,
    school_rules: domain.Rules,
    correlation_id: str,
) -> Given:
    now = points.clock()
    decided = await execute(
        points.store,
        domain.award_stream(command.award_id),
        initial=domain.initial_state,
        evolve=domain.evolve,
        decide=lambda state: domain.decide_award(state, command, now, school_rules),
        metadata=_metadata(points, school_id, command.awarded_by, correlation_id),
        new_id=points.new_id,
        expect_new=True,  # an award's id is new unless this is a retry
    )
    awarded = decided.state.awarded
    return Given(awarded, domain.undo_until(awarded[0].awarded_at, school_rules))


async def undo_award(
    command: domain.UndoAward, *, points: Points, school_id: str, correlation_id: str
) -> tuple[PointAwardUndone, ...]:
    now = points.clock()
    school_rules = await rules(school_id, points=points)
    stream = domain.award_stream(command.award_id)
    history = await points.store.read_stream(stream)
    if history and history[0].metadata.school_id != school_id:
        raise NotFound(f"There is no award {command.award_id}.")
    decided = await execute(
        points.store,
        stream,
        initial=domain.initial_state,
        evolve=domain.evolve,
        decide=lambda state: domain.decide_undo(state, command, now, school_rules),
        metadata=_metadata(points, school_id, command.undone_by, correlation_id),
        new_id=points.new_id,
    )
    return decided.state.undone


async def set_target(
    pupil_id: str,
    points_per_day: int | None,
    *,
    identity: Identity,
    points: Points,
    school_id: str,
    correlation_id: str,
) -> Doc:
    await execute(
        points.store,
        domain.target_stream(pupil_id),
        initial=domain.Target,
        evolve=domain.evolve_target,
        decide=lambda state: domain.decide_target(
            state,
            points_per_day,
            pupil_id=pupil_id,
            set_by=identity.subject,
            role=identity.role.value,
        ),
        metadata=_metadata(points, school_id, identity.subject, correlation_id),
        new_id=points.new_id,
    )
    return {
        "pupil_id": pupil_id,
        "points_per_day": points_per_day,
        "set_by_role": identity.role.value,
    }


async def change_settings(
    needs_work_enabled: bool,
    undo_window_seconds: int,
    *,
    identity: Identity,
    points: Points,
    school_id: str,
    correlation_id: str,
) -> domain.Rules:
    decided = await execute(
        points.store,
        domain.settings_stream(school_id),
        initial=lambda: domain.Rules(),
        evolve=domain.evolve_rules,
        decide=lambda state: domain.decide_settings(state, needs_work_enabled, undo_window_seconds),
        metadata=_metadata(points, school_id, identity.subject, correlation_id),
        new_id=points.new_id,
    )
    return decided.state


# -- reading -----------------------------------------------------------------------------


async def caught_up_with(
    position: int | None, *, points: Points, within: float = 2.0, names: Sequence[str] = COUNTING
) -> bool:
    """Wait until the counting read models include the event at ``position``.

    A live page learns of an award by its position and asks with it, so it never shows a
    total from before the award it was told about. Gives up (answering what there is) after
    ``within`` seconds.
    """
    if not position:
        return True
    deadline = time.monotonic() + within
    while True:
        behind = False
        for name in names:
            generation = await points.readmodels.active_generation(name)
            if (
                generation is None
                or await points.readmodels.checkpoint(name, generation) < position
            ):
                behind = True
                break
        if not behind:
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)


def _tally(docs: Sequence[Doc]) -> dict[str, Any]:
    by_way: dict[str, int] = {}
    for doc in docs:
        for way, count in doc["by_way"].items():
            by_way[way] = by_way.get(way, 0) + count
    return {
        "total": sum(d["total"] for d in docs),
        "by_way": {k: v for k, v in by_way.items() if v},
        "needs_work": sum(d["needs_work"] for d in docs),
    }


async def weekly_total(pupil_id: str, week: str, *, points: Points) -> Doc:
    doc = strip(await points.readmodels.get(WEEKLY_TOTALS, weekly_total_key(pupil_id, week)))
    return doc or {
        "pupil_id": pupil_id,
        "week_start": week,
        "total": 0,
        "by_way": {},
        "needs_work": 0,
    }


async def summary(pupil_id: str, *, school_id: str, points: Points) -> Doc:
    """One child against their own target and their own history; nobody else's points."""
    clock = await school_clock(school_id, points=points)
    day = domain.school_date(points.clock(), clock.timezone)
    week = domain.week_start(day, clock.week_starts_on)
    days = await points.readmodels.find(
        DAILY, {"school_id": school_id, "pupil_id": pupil_id, "school_date": day.isoformat()}
    )
    weeks = await points.readmodels.find(
        WEEKLY_TOTALS,
        {"school_id": school_id, "pupil_id": pupil_id},
        order_by="week_start",
        descending=True,
    )
    this_week = next((w for w in weeks if w["week_start"] == week.isoformat()), None)
    target = await points.readmodels.get(TARGETS, pupil_id) or {}
    per_day = target.get("points_per_day")
    today_tally = _tally(days)
    best = max(weeks, key=lambda w: (w["total"], w["week_start"]), default=None)
    history = [{"week_start": w["week_start"], "total": w["total"]} for w in weeks]
    if this_week is None:
        history.insert(0, {"week_start": week.isoformat(), "total": 0})
    return {
        "pupil_id": pupil_id,
        "today": {"date": day.isoformat(), **today_tally},
        "week": {"week_start": week.isoformat(), **_tally([this_week] if this_week else [])},
        "target": {
            "points_per_day": per_day,
            "set_by_role": target.get("set_by_role") if per_day else None,
            "reached": bool(per_day) and today_tally["total"] >= per_day,
        },
        "history": history[:HISTORY_WEEKS],
        "best_week": (
            {"week_start": best["week_start"], "total": best["total"]}
            if best and best["total"] > 0
            else None
        ),
    }


async def class_total(class_id: str, *, school_id: str, points: Points) -> Doc:
    clock = await school_clock(school_id, points=points)
    day = domain.school_date(points.clock(), clock.timezone)
    week = domain.week_start(day, clock.week_starts_on).isoformat()
    docs = await points.readmodels.find(
        DAILY, {"school_id": school_id, "class_id": class_id, "week_start": week}
    )
    return {
        "class_id": class_id,
        "week_start": week,
        "total": sum(d["total"] for d in docs),
        "today": sum(d["total"] for d in docs if d["school_date"] == day.isoformat()),
    }


async def class_report(
    class_id: str, first: date, last: date, *, school_id: str, points: Points
) -> Doc:
    """A class's points by pupil and by value over a period: for staff, never for families."""
    if last < first:
        raise Unprocessable("The period must end on or after the day it starts.")
    if last - first > LONGEST_REPORT:
        raise Unprocessable("A report can cover at most a year.")
    docs = [
        d
        for d in await points.readmodels.find(DAILY, {"school_id": school_id, "class_id": class_id})
        if first.isoformat() <= d["school_date"] <= last.isoformat()
    ]
    members = await points.readmodels.find(
        PUPILS, {"school_id": school_id, "class_id": class_id, "left": False}
    )
    ids = {m["pupil_id"] for m in members} | {d["pupil_id"] for d in docs}
    known = await points.readmodels.get_many(PUPILS, ids)
    names = display_names(
        PupilName(p["pupil_id"], p["first_name"], p["surname"]) for p in known.values()
    )
    rows = []
    shown: dict[str, str] = {str(i): names.get(str(i), str(i)) for i in ids}
    for pupil_id in sorted(shown, key=lambda i: (shown[i].casefold(), i)):
        rows.append(
            {
                "pupil_id": pupil_id,
                "name": shown[pupil_id],
                **_tally([d for d in docs if d["pupil_id"] == pupil_id]),
            }
        )
    school = await points.readmodels.get(SCHOOLS, school_id) or {"school_ways": {}}
    return {
        "class_id": class_id,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "school_ways": school["school_ways"],
        **_tally(docs),
        "pupils": rows,
    }


def report_csv(report: Doc) -> str:
    """The report as a spreadsheet, every cell kept from running as a formula: pupils' names
    and the school's own names for its values (the header row) alike."""
    ways: dict[str, str] = dict(report["school_ways"])
    for row in report["pupils"]:
        for way in row["by_way"]:
            ways.setdefault(way, way)
    with_needs_work = any(row["needs_work"] for row in report["pupils"])
    rows: list[list[object]] = [
        ["Pupil", *ways.values(), *(["Needs work"] if with_needs_work else []), "Total"]
    ]
    for row in report["pupils"]:
        rows.append(
            [
                row["name"],
                *(row["by_way"].get(way, 0) for way in ways),
                *([row["needs_work"]] if with_needs_work else []),
                row["total"],
            ]
        )
    rows.append(
        [
            "Whole class",
            *(report["by_way"].get(way, 0) for way in ways),
            *([report["needs_work"]] if with_needs_work else []),
            report["total"],
        ]
    )
    return csv_text(rows)
