"""Given past events, when a command, then new events (or an error). No I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from schoolgate_contracts.points import PointAwarded
from schoolgate_points.domain import (
    AwardIdReused,
    AwardPoint,
    decide_award,
    evolve,
    initial_state,
    school_date,
    week_start,
)

COMMAND = AwardPoint(
    award_id="a1", pupil_id="p1", class_id="c1", school_way_id="kindness", awarded_by="t1"
)
LONDON = "Europe/London"


def given(*events: PointAwarded):  # type: ignore[no-untyped-def]
    state = initial_state()
    for event in events:
        state = evolve(state, event)
    return state


def test_a_new_award_is_recorded_on_the_school_date() -> None:
    now = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)
    [event] = decide_award(given(), COMMAND, now, LONDON)
    assert isinstance(event, PointAwarded)
    assert (event.pupil_id, event.school_way_id, event.class_id) == ("p1", "kindness", "c1")
    assert event.school_date == date(2026, 11, 18)
    assert event.points == 1


def test_the_same_award_sent_again_changes_nothing() -> None:
    now = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)
    [first] = decide_award(given(), COMMAND, now, LONDON)
    assert decide_award(given(first), COMMAND, now, LONDON) == []


def test_an_award_id_reused_for_another_pupil_is_refused() -> None:
    now = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)
    [first] = decide_award(given(), COMMAND, now, LONDON)
    other = AwardPoint(**{**COMMAND.__dict__, "pupil_id": "p2"})
    with pytest.raises(AwardIdReused):
        decide_award(given(first), other, now, LONDON)


@pytest.mark.parametrize(
    ("utc", "expected_day"),
    [
        # late on Sunday in summer time, UTC is an hour behind: still Sunday in London
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), date(2026, 3, 28)),
        (datetime(2026, 3, 29, 23, 30, tzinfo=UTC), date(2026, 3, 30)),
        (datetime(2026, 10, 24, 23, 30, tzinfo=UTC), date(2026, 10, 25)),
        (datetime(2026, 10, 25, 23, 30, tzinfo=UTC), date(2026, 10, 25)),
    ],
)
def test_the_school_day_follows_the_school_clock_across_clock_changes(
    utc: datetime, expected_day: date
) -> None:
    assert school_date(utc, LONDON) == expected_day


def test_weeks_start_on_monday() -> None:
    assert week_start(date(2026, 11, 22)) == date(2026, 11, 16)  # Sunday
    assert week_start(date(2026, 11, 23)) == date(2026, 11, 23)  # Monday
    # 23:30 UTC on Sunday 29 March 2026 is already Monday in London: a new week
    day = school_date(datetime(2026, 3, 29, 23, 30, tzinfo=UTC), LONDON)
    assert week_start(day) == date(2026, 3, 30)
