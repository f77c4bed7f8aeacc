"""Given a school's calendar, when a moment, then whether staff are in and what waits for them.

Dates of 2026: Monday 7 December; the UK clocks change on Sunday 29 March and 25 October,
the US ones on Sunday 8 March and 1 November.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from schoolgate_contracts.roster import SchoolDetails, Term
from schoolgate_kit.schooltime import (
    Calendar,
    expectation,
    in_hours,
    is_school_day,
    next_start,
    overdue,
    receipt_shown_from,
    reply_due,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
SCHOOL = Calendar()


def london(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LONDON)


def utc(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# Working hours


@pytest.mark.parametrize(
    ("at", "staff_in"),
    [
        (london(11, 16, 59), True),  # Friday
        (london(11, 17, 0), False),
        (london(14, 7, 59), False),  # Monday
        (london(14, 8, 0), True),
        (london(12, 11, 0), False),  # Saturday
    ],
)
def test_hours_run_from_the_start_up_to_but_not_including_the_end(
    at: datetime, staff_in: bool
) -> None:
    assert in_hours(SCHOOL, at) is staff_in


def test_a_moment_is_read_on_the_schools_clock_whatever_offset_it_arrives_in() -> None:
    # given 07:30 in New York, which is 12:30 in London on a Monday
    at = datetime(2026, 12, 7, 7, 30, tzinfo=NEW_YORK)
    # then the London school is in
    assert in_hours(SCHOOL, at)


def test_a_moment_without_an_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        in_hours(SCHOOL, datetime(2026, 12, 7, 10, 0))


def test_a_bank_holiday_is_not_a_school_day() -> None:
    # given Christmas Day, a Friday, named as a holiday
    cal = Calendar(holidays=((date(2026, 12, 25), date(2026, 12, 25)),))
    # then the school is out all that day but in the day before
    assert not is_school_day(cal, date(2026, 12, 25))
    assert not in_hours(cal, london(25, 10))
    assert in_hours(cal, london(24, 10))


def test_with_terms_given_only_days_in_a_term_are_school_days() -> None:
    # given an autumn term ending Friday 18 December and a spring term from Tuesday 5 January
    cal = Calendar(
        terms=(
            (date(2026, 9, 3), date(2026, 12, 18)),
            (date(2027, 1, 5), date(2027, 3, 26)),
        )
    )
    # then term days count, both ends included, and a weekday between terms does not
    assert is_school_day(cal, date(2026, 12, 18))
    assert is_school_day(cal, date(2027, 1, 5))
    assert not is_school_day(cal, date(2026, 12, 21))
    assert not is_school_day(cal, date(2027, 1, 4))
    # and a weekend in term still does not
    assert not is_school_day(cal, date(2026, 12, 12))


# The next start of hours


def test_in_hours_the_next_start_is_now() -> None:
    assert next_start(SCHOOL, london(8, 10, 15)) == utc(8, 10, 15)


def test_out_of_hours_the_next_start_is_the_next_school_morning() -> None:
    # given Friday evening
    # then Monday 08:00 (London is on GMT in December)
    assert next_start(SCHOOL, london(11, 17, 0)) == utc(14, 8)
    # and early on a school day, that same morning
    assert next_start(SCHOOL, london(8, 6, 0)) == utc(8, 8)


@pytest.mark.parametrize(
    ("saturday", "monday_start_utc"),
    [
        # spring forward on Sunday 29 March: Monday 08:00 BST is 07:00 UTC
        (london(28, 12, month=3), utc(30, 7, month=3)),
        # fall back on Sunday 25 October: Monday 08:00 GMT is 08:00 UTC
        (london(24, 12, month=10), utc(26, 8, month=10)),
    ],
)
def test_across_a_clock_change_hours_start_at_eight_on_the_schools_clock(
    saturday: datetime, monday_start_utc: datetime
) -> None:
    assert next_start(SCHOOL, saturday) == monday_start_utc


def test_a_school_in_new_york_keeps_its_own_hours_and_clock_changes() -> None:
    # given a New York school, and a London evening that is 15:00 on Friday 6 March there
    cal = Calendar(timezone=NEW_YORK)
    friday = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)
    # then its staff are in, though the London school's are not
    assert in_hours(cal, friday)
    assert not in_hours(SCHOOL, friday)
    # and after the US clocks go forward (8 March) Monday starts at 08:00 EDT, 12:00 UTC
    assert next_start(cal, datetime(2026, 3, 7, 12, tzinfo=NEW_YORK)) == utc(9, 12, month=3)
    # and a UK-only change (29 March) moves nothing there: 08:00 EDT is still 12:00 UTC
    assert next_start(cal, datetime(2026, 3, 28, 12, tzinfo=NEW_YORK)) == utc(30, 12, month=3)


def test_with_no_school_day_ahead_the_next_start_is_not_known() -> None:
    # given a school whose last given term has ended
    cal = Calendar(terms=((date(2026, 9, 3), date(2026, 12, 18)),))
    # then nothing is guessed
    assert next_start(cal, london(19, 10)) is None
    assert reply_due(cal, london(19, 10)) is None
    assert not overdue(cal, london(19, 10), london(19, 10) + timedelta(days=100))


# Read receipts


@pytest.mark.parametrize(
    ("read_at", "shown_from"),
    [
        (london(8, 22), utc(9, 8)),  # Tuesday night: Wednesday morning
        (london(11, 17, 30), utc(14, 8)),  # Friday after hours: Monday morning
        (london(8, 10), utc(8, 10)),  # in hours: at once
    ],
)
def test_a_receipt_is_held_until_staff_are_in(read_at: datetime, shown_from: datetime) -> None:
    assert receipt_shown_from(SCHOOL, read_at) == shown_from


# Waiting for a reply


@pytest.mark.parametrize(
    ("sent_at", "due"),
    [
        (london(7, 10), utc(8, 10)),  # Monday morning: Tuesday at the same time
        (london(11, 16), utc(14, 16)),  # Friday 16:00: one hour Friday, eight on Monday
        (london(12, 11), utc(15, 8)),  # Saturday: all of Monday, so due as Tuesday starts
        (london(8, 7), utc(9, 8)),  # before hours: the whole of that day
    ],
)
def test_a_reply_is_due_after_one_school_day_of_working_time(
    sent_at: datetime, due: datetime
) -> None:
    assert reply_due(SCHOOL, sent_at) == due


def test_a_holiday_does_not_count_towards_the_wait() -> None:
    # given Christmas Day (Friday) off, a message on Thursday at 10:00
    cal = Calendar(holidays=((date(2026, 12, 25), date(2026, 12, 25)),))
    # then it is due on Monday at 10:00, not Friday
    assert reply_due(cal, london(24, 10)) == utc(28, 10)


def test_a_message_is_overdue_only_once_its_school_day_has_passed() -> None:
    sent = london(7, 10)
    assert not overdue(SCHOOL, sent, london(8, 10))
    assert overdue(SCHOOL, sent, london(8, 10, 1))


# What a family is told


def test_out_of_hours_a_family_is_told_when_a_reply_can_come() -> None:
    # given a Saturday in October, in British Summer Time
    told = expectation(SCHOOL, london(24, 11, month=10))
    # then after Monday's start, in UTC and on the school's clock
    assert not told.in_hours
    assert told.reply_after == utc(26, 8, month=10)
    assert told.reply_after_local is not None
    assert told.reply_after_local.utcoffset() == timedelta(0)
    assert (told.reply_after_local.weekday(), told.reply_after_local.time()) == (0, time(8))
    # and in summer time the local start reads 08:00 though it is 07:00 UTC
    summer = expectation(SCHOOL, london(17, 11, month=10))
    assert summer.reply_after == utc(19, 7, month=10)
    assert summer.reply_after_local is not None
    assert summer.reply_after_local.time() == time(8)


def test_in_hours_a_family_is_told_nothing_extra() -> None:
    told = expectation(SCHOOL, london(8, 10))
    assert (told.in_hours, told.reply_after, told.reply_after_local) == (True, None, None)


# Building a calendar


def details(**changes: object) -> SchoolDetails:
    return SchoolDetails.model_validate({"name": "Hillside Primary", **changes})


def test_a_calendar_is_read_from_roster_details_or_their_json() -> None:
    # given a school in New York that works Monday to Thursday 07:30-15:00 with one term
    school = details(
        timezone="America/New_York",
        working_days=(0, 1, 2, 3),
        day_starts=time(7, 30),
        day_ends=time(15, 0),
        terms=(Term(name="Fall", starts=date(2026, 9, 8), ends=date(2026, 12, 18)),),
        holidays=(Term(name="Thanksgiving", starts=date(2026, 11, 26), ends=date(2026, 11, 27)),),
    )
    expected = Calendar(
        timezone=NEW_YORK,
        working_days=frozenset({0, 1, 2, 3}),
        day_starts=time(7, 30),
        day_ends=time(15, 0),
        terms=((date(2026, 9, 8), date(2026, 12, 18)),),
        holidays=((date(2026, 11, 26), date(2026, 11, 27)),),
    )
    # then the model and a read model's dict of it (with keys of its own) agree
    assert Calendar.of(school) == expected
    assert Calendar.of({**school.model_dump(mode="json"), "school_id": "s1"}) == expected


def test_a_school_without_details_gets_the_default_calendar() -> None:
    assert Calendar.of(None) == Calendar.of({}) == Calendar.of(details()) == Calendar()
    assert (SCHOOL.timezone, SCHOOL.working_days) == (LONDON, frozenset(range(5)))
    assert (SCHOOL.day_starts, SCHOOL.day_ends) == (time(8), time(17))


def test_the_office_keeps_its_own_hours_within_the_schools_terms() -> None:
    # given an office open 08:30-16:00, Monday to Thursday, and a bank holiday Thursday
    school = details(
        holidays=(Term(name="Bank holiday", starts=date(2026, 12, 10), ends=date(2026, 12, 10)),)
    )
    office = Calendar.of(school, days=(0, 1, 2, 3), starts="08:30", ends=time(16))
    # then it opens and closes on its own times
    assert not in_hours(office, london(7, 8, 15))
    assert in_hours(office, london(7, 8, 30))
    assert not in_hours(office, london(7, 16))
    # and is out on Friday and on the school's holiday, so Wednesday evening waits for Monday
    assert next_start(office, london(9, 16)) == utc(14, 8, 30)
    # and its working day is 7.5 hours long: Wednesday 12:00 is due Monday 12:00
    assert reply_due(office, london(9, 12)) == utc(14, 12)


def test_a_day_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="start before"):
        Calendar.of(None, starts=time(17), ends=time(8))
