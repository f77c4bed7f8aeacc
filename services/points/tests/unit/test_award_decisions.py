"""Given past events, when a command, then new events (or an error). No I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from schoolgate_contracts import Event
from schoolgate_contracts.points import DailyTargetSet, PointAwarded, PointAwardUndone
from schoolgate_points.domain import Award as AwardState
from schoolgate_points.domain import (
    AwardIdReused,
    AwardPoints,
    NeedsWorkPointsOff,
    NotYourAward,
    Rules,
    Target,
    UndoAward,
    UndoWindowPassed,
    decide_award,
    decide_settings,
    decide_target,
    decide_undo,
    evolve,
    evolve_rules,
    initial_state,
    school_date,
    week_start,
)

COMMAND = AwardPoints(
    award_id="a1", pupil_ids=("p1",), class_id="c1", school_way_id="kindness", awarded_by="t1"
)
LONDON = Rules(timezone="Europe/London")
NOW = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)


def given(*events: Event) -> AwardState:
    state = initial_state()
    for event in events:
        state = evolve(state, event)
    return state


def test_a_new_award_is_recorded_on_the_school_date() -> None:
    [event] = decide_award(given(), COMMAND, NOW, LONDON)
    assert isinstance(event, PointAwarded)
    assert (event.pupil_id, event.school_way_id, event.class_id) == ("p1", "kindness", "c1")
    assert event.school_date == date(2026, 11, 18)
    assert event.week_start == date(2026, 11, 16)
    assert (event.points, event.kind, event.awarded_at) == (1, "positive", NOW)


def test_one_action_awards_each_pupil_of_a_group_once() -> None:
    group = AwardPoints(**{**COMMAND.__dict__, "pupil_ids": ("p1", "p2", "p1", "p3")})
    events = decide_award(given(), group, NOW, LONDON)
    assert [e.pupil_id for e in events if isinstance(e, PointAwarded)] == ["p1", "p2", "p3"]
    assert {e.award_id for e in events if isinstance(e, PointAwarded)} == {"a1"}


def test_the_same_award_sent_again_changes_nothing() -> None:
    first = decide_award(given(), COMMAND, NOW, LONDON)
    assert decide_award(given(*first), COMMAND, NOW, LONDON) == []


def test_an_award_id_reused_for_another_pupil_is_refused() -> None:
    first = decide_award(given(), COMMAND, NOW, LONDON)
    other = AwardPoints(**{**COMMAND.__dict__, "pupil_ids": ("p2",)})
    with pytest.raises(AwardIdReused):
        decide_award(given(*first), other, NOW, LONDON)


def test_needs_work_points_are_refused_unless_the_school_turned_them_on() -> None:
    needs_work = AwardPoints(**{**COMMAND.__dict__, "kind": "needs_work"})
    with pytest.raises(NeedsWorkPointsOff):
        decide_award(given(), needs_work, NOW, LONDON)
    rules = evolve_rules(LONDON, *decide_settings(LONDON, True, 60))
    [event] = decide_award(given(), needs_work, NOW, rules)
    assert isinstance(event, PointAwarded) and event.kind == "needs_work"


def test_settings_that_do_not_change_write_nothing() -> None:
    assert decide_settings(LONDON, False, 60) == []
    [changed] = decide_settings(LONDON, False, 120)
    assert evolve_rules(LONDON, changed).undo_window_seconds == 120


# -- the undo window ----------------------------------------------------------------------

GROUP = AwardPoints(**{**COMMAND.__dict__, "pupil_ids": ("p1", "p2")})


def test_an_award_can_be_undone_within_the_window_and_history_keeps_both() -> None:
    awarded = decide_award(given(), GROUP, NOW, LONDON)
    undone = decide_undo(
        given(*awarded), UndoAward("a1", "t1"), NOW + timedelta(seconds=59), LONDON
    )
    assert [(u.pupil_id, u.school_way_id) for u in undone if isinstance(u, PointAwardUndone)] == [
        ("p1", "kindness"),
        ("p2", "kindness"),
    ]
    state = given(*awarded, *undone)
    assert len(state.awarded) == 2 and len(state.undone) == 2


def test_undoing_twice_changes_nothing_the_second_time() -> None:
    awarded = decide_award(given(), GROUP, NOW, LONDON)
    undone = decide_undo(given(*awarded), UndoAward("a1", "t1"), NOW, LONDON)
    assert decide_undo(given(*awarded, *undone), UndoAward("a1", "t1"), NOW, LONDON) == []


@pytest.mark.parametrize(
    ("window", "after", "allowed"), [(60, 60, True), (60, 61, False), (300, 200, True)]
)
def test_the_window_is_the_schools(window: int, after: int, allowed: bool) -> None:
    rules = Rules(undo_window_seconds=window)
    awarded = decide_award(given(), COMMAND, NOW, rules)
    later = NOW + timedelta(seconds=after)
    if allowed:
        assert decide_undo(given(*awarded), UndoAward("a1", "t1"), later, rules)
    else:
        with pytest.raises(UndoWindowPassed):
            decide_undo(given(*awarded), UndoAward("a1", "t1"), later, rules)


def test_only_the_awarder_or_a_leader_may_undo() -> None:
    awarded = decide_award(given(), COMMAND, NOW, LONDON)
    with pytest.raises(NotYourAward):
        decide_undo(given(*awarded), UndoAward("a1", "t2"), NOW, LONDON)
    assert decide_undo(given(*awarded), UndoAward("a1", "leader-1", True), NOW, LONDON)


# -- targets ------------------------------------------------------------------------------


def test_a_target_is_set_changed_and_taken_away() -> None:
    [first] = decide_target(Target(), 5, pupil_id="p1", set_by="parent-1", role="parent")
    assert isinstance(first, DailyTargetSet) and first.points_per_day == 5
    assert decide_target(Target(5), 5, pupil_id="p1", set_by="t1", role="teacher") == []
    [cleared] = decide_target(Target(5), None, pupil_id="p1", set_by="t1", role="teacher")
    assert isinstance(cleared, DailyTargetSet) and cleared.points_per_day is None


# -- days and weeks at the school ----------------------------------------------------------


@pytest.mark.parametrize(
    ("utc", "expected_day"),
    [
        # late on Saturday before the March change, UTC is London time: still Saturday
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), date(2026, 3, 28)),
        # after it London is an hour ahead: 23:30 UTC on Sunday is Monday in London
        (datetime(2026, 3, 29, 23, 30, tzinfo=UTC), date(2026, 3, 30)),
        (datetime(2026, 10, 24, 23, 30, tzinfo=UTC), date(2026, 10, 25)),
        # after the October change London is UTC again
        (datetime(2026, 10, 25, 23, 30, tzinfo=UTC), date(2026, 10, 25)),
    ],
)
def test_the_school_day_follows_the_school_clock_across_clock_changes(
    utc: datetime, expected_day: date
) -> None:
    assert school_date(utc, "Europe/London") == expected_day


@pytest.mark.parametrize(
    ("utc", "week"),
    [
        # March 2026: clocks go forward on Sunday 29th at 01:00 UTC
        (datetime(2026, 3, 29, 22, 59, tzinfo=UTC), date(2026, 3, 23)),  # 23:59 Sunday BST
        (datetime(2026, 3, 29, 23, 0, tzinfo=UTC), date(2026, 3, 30)),  # 00:00 Monday BST
        # October 2026: clocks go back on Sunday 25th at 01:00 UTC
        (datetime(2026, 10, 25, 23, 59, tzinfo=UTC), date(2026, 10, 19)),  # 23:59 Sunday GMT
        (datetime(2026, 10, 26, 0, 0, tzinfo=UTC), date(2026, 10, 26)),  # 00:00 Monday GMT
        # the Sunday before the October change, still in summer time
        (datetime(2026, 10, 18, 23, 0, tzinfo=UTC), date(2026, 10, 19)),  # 00:00 Monday BST
        (datetime(2026, 10, 18, 22, 59, tzinfo=UTC), date(2026, 10, 12)),
    ],
)
def test_weeks_turn_over_at_midnight_school_time_across_clock_changes(
    utc: datetime, week: date
) -> None:
    [event] = decide_award(given(), COMMAND, utc, LONDON)
    assert isinstance(event, PointAwarded) and event.week_start == week


def test_weeks_start_on_monday_unless_the_school_says() -> None:
    assert week_start(date(2026, 11, 22)) == date(2026, 11, 16)  # Sunday
    assert week_start(date(2026, 11, 23)) == date(2026, 11, 23)  # Monday
    assert week_start(date(2026, 11, 22), starts_on=6) == date(2026, 11, 22)  # a Sunday school
    assert week_start(date(2026, 11, 21), starts_on=6) == date(2026, 11, 15)
