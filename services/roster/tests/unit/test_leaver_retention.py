"""When a leaver's record is erased under the school's retention."""

from __future__ import annotations

from datetime import UTC, date, datetime

from schoolgate_contracts.roster import Retention, Term
from schoolgate_roster.domain import leaver_due

TERMS = [
    Term(name="Spring", starts=date(2027, 1, 5), ends=date(2027, 3, 26)),
    Term(name="Autumn", starts=date(2026, 9, 2), ends=date(2026, 12, 18)),
    Term(name="Summer", starts=date(2027, 4, 12), ends=date(2027, 7, 21)),
]
LEFT = datetime(2026, 10, 14, 15, 30, tzinfo=UTC)  # in the middle of the autumn term


def test_by_default_a_leaver_is_kept_to_the_end_of_the_next_term() -> None:
    # not the term they left in: the whole of the one after it
    assert leaver_due(LEFT, Retention(), TERMS) == datetime(2027, 3, 27, tzinfo=UTC)


def test_leaving_on_the_last_day_before_a_term_keeps_them_through_that_term() -> None:
    left = datetime(2027, 1, 4, 12, tzinfo=UTC)
    assert leaver_due(left, Retention(), TERMS) == datetime(2027, 3, 27, tzinfo=UTC)
    on_its_first_day = datetime(2027, 1, 5, 9, tzinfo=UTC)
    assert leaver_due(on_its_first_day, Retention(), TERMS) == datetime(2027, 7, 22, tzinfo=UTC)


def test_without_term_dates_a_leaver_is_kept_about_a_term() -> None:
    assert leaver_due(LEFT, Retention(), []) == datetime(2027, 2, 11, 15, 30, tzinfo=UTC)
    after_the_last_term = datetime(2027, 8, 1, tzinfo=UTC)
    assert leaver_due(after_the_last_term, Retention(), TERMS).date() == date(2027, 11, 29)


def test_a_school_may_choose_days_instead() -> None:
    assert leaver_due(LEFT, Retention(leavers_kept_days=0), TERMS) == LEFT
    assert leaver_due(LEFT, Retention(leavers_kept_days=30), TERMS).date() == date(2026, 11, 13)


def test_points_go_by_whole_weeks_once_every_day_of_them_is_past_the_months_kept() -> None:
    from schoolgate_roster.domain import points_erased_before

    # 12 months before 7 December 2026 is 7 December 2025: weeks from 1 December are kept
    assert points_erased_before(date(2026, 12, 7), Retention()) == date(2025, 12, 1)
    # a month shorter than the day: the end of that month, a leap day where there is one
    assert points_erased_before(date(2024, 3, 31), Retention(points_kept_months=1)) == date(
        2024, 2, 23
    )
    assert points_erased_before(date(2027, 1, 15), Retention(points_kept_months=25)) == date(
        2024, 12, 9
    )
