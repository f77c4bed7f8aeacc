"""Given a school's clock and a recipient's choice, when an item arrives, then when it goes:
now, in the family's digest, or held for staff until working hours; and what the digest and
the held summary say.

Dates of 2026: the UK clocks change on Sunday 29 March and Sunday 25 October; Monday 4 May
is a bank holiday; Friday 11 December is a Friday in term.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from schoolgate_kit.schooltime import Calendar
from schoolgate_notifications.preferences import Audience, Channel, Kind, Timing
from schoolgate_notifications.timing import Item, Route, away, digest, next_digest, plan

LONDON = ZoneInfo("Europe/London")
SCHOOL = Calendar()
SIX_PM = time(18, 0)
PARENT, STAFF = Audience.parent, Audience.staff
PUSH, EMAIL, IN_APP = Channel.push, Channel.email, Channel.in_app
INSTANT, DIGEST, OFF = Timing.instant, Timing.digest, Timing.off


def london(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LONDON)


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def item(event_id: str, kind: Kind, **about: str) -> Item:
    return Item(event_id=event_id, kind=kind, at=utc(12, 7, 10, int(event_id[-1])), **about)


# The digest: at the school's time, whatever the clocks do


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (utc(3, 28, 12), utc(3, 28, 18)),  # Saturday, GMT: 18:00 is 18:00 UTC
        (utc(3, 28, 19), utc(3, 29, 17)),  # after it: Sunday's, now BST: 17:00 UTC
        (utc(10, 24, 16, 59), utc(10, 24, 17)),  # Saturday, BST
        (utc(10, 24, 18, 30), utc(10, 25, 18)),  # Sunday's, GMT again
        (utc(10, 25, 18), utc(10, 26, 18)),  # exactly at it: the next one
    ],
)
def test_the_digest_goes_at_the_schools_six_oclock_across_clock_changes(
    now: datetime, due: datetime
) -> None:
    planned = plan(Kind.school_stories, PUSH, DIGEST, PARENT, SCHOOL, now, SIX_PM)
    assert (planned.route, planned.at) == (Route.digest, due)
    assert planned.at.astimezone(LONDON).time() == SIX_PM


def test_the_digest_follows_the_schools_timezone_not_the_servers() -> None:
    new_york = Calendar(timezone=ZoneInfo("America/New_York"))
    assert next_digest(new_york, utc(12, 7, 12), SIX_PM) == utc(12, 7, 23)


def test_one_digest_per_family_however_many_children() -> None:
    now = london(12, 7, 10)
    for_ada = plan(Kind.points, EMAIL, DIGEST, PARENT, SCHOOL, now, SIX_PM)
    for_ben = plan(Kind.points, EMAIL, DIGEST, PARENT, SCHOOL, now, SIX_PM)
    assert for_ada.batch("parent:1") == for_ben.batch("parent:1") != for_ada.batch("parent:2")
    assert for_ada.batch("parent:1") != plan(
        Kind.points, PUSH, DIGEST, PARENT, SCHOOL, now, SIX_PM
    ).batch("parent:1")  # the push round-up and the email are two sends


def test_a_digest_tells_all_the_familys_children_together_by_kind() -> None:
    told = digest(
        [
            item("e1", Kind.points, pupil_id="a", pupil="Ada", subject="Kindness"),
            item("e2", Kind.class_stories, sender="Ms Khan", subject="Our trip to the farm"),
            item("e3", Kind.points, pupil_id="b", pupil="Ben", subject="Teamwork"),
            item("e4", Kind.points, pupil_id="a", pupil="Ada", subject="Teamwork"),
            item("e4", Kind.points, pupil_id="a", pupil="Ada", subject="Teamwork"),  # again
            item("e5", Kind.messages, sender="Mr Obi"),
        ]
    )
    assert told.summary == "1 message, 1 story, 3 points"
    assert [(s.heading, s.lines) for s in told.sections] == [
        ("Messages", ("New message from Mr Obi",)),
        ("Class stories", ("Ms Khan posted a class story: Our trip to the farm",)),
        ("Points", ("Ada got 2 points (Kindness, Teamwork)", "Ben got a point (Teamwork)")),
    ]
    assert sorted(told.event_ids) == ["e1", "e2", "e3", "e4", "e5"]


# Staff: nothing outside working hours, one summary when they start


@pytest.mark.parametrize(
    ("school", "now", "held_until"),
    [
        (SCHOOL, london(12, 11, 17), utc(12, 14, 8)),  # Friday 17:00 until Monday 08:00
        (SCHOOL, london(12, 10, 6, 30), utc(12, 10, 8)),  # before school, same day
        (  # Friday before the May bank holiday: until Tuesday 08:00 BST
            Calendar(holidays=((date(2026, 5, 4), date(2026, 5, 4)),)),
            london(5, 1, 17, 30),
            utc(5, 5, 7),
        ),
        (  # summer holidays: until the first day of the autumn term
            Calendar(
                terms=(
                    (date(2026, 4, 13), date(2026, 7, 17)),
                    (date(2026, 9, 2), date(2026, 12, 18)),
                )
            ),
            london(7, 20, 10),
            utc(9, 2, 7),
        ),
    ],
    ids=["weekend", "early morning", "bank holiday", "between terms"],
)
def test_a_staff_alert_outside_hours_is_held_until_hours_start(
    school: Calendar, now: datetime, held_until: datetime
) -> None:
    for channel in (PUSH, EMAIL):
        planned = plan(Kind.messages, channel, INSTANT, STAFF, school, now, SIX_PM)
        assert (planned.route, planned.at) == (Route.held, held_until)
        assert planned.batch("staff:9") == f"held:{channel}:staff:9:{held_until.isoformat()}"


def test_a_staff_alert_in_hours_goes_now() -> None:
    now = london(12, 11, 16, 59)
    assert plan(Kind.messages, PUSH, INSTANT, STAFF, SCHOOL, now, SIX_PM).route is Route.now


def test_a_staff_alert_goes_now_when_no_next_working_day_is_known() -> None:
    # the last term entered is over and next year's dates are not in yet: held, it would
    # wait for a moment nobody can name, so it goes (the dates, once entered, hold again)
    school = Calendar(terms=((date(2026, 9, 2), date(2026, 12, 18)),))
    now = london(12, 21, 10)
    planned = plan(Kind.messages, PUSH, INSTANT, STAFF, school, now, SIX_PM)
    assert (planned.route, planned.at, planned.batch("staff:9")) == (Route.now, now, None)


@pytest.mark.parametrize("kind", [Kind.emergency, Kind.account, Kind.safety])
def test_emergency_account_and_safety_notices_are_never_held_nor_digested(kind: Kind) -> None:
    saturday_night = london(12, 12, 22)
    for audience in Audience:
        for timing in Timing:  # whatever is stored
            planned = plan(kind, PUSH, timing, audience, SCHOOL, saturday_night, SIX_PM)
            assert (planned.route, planned.at) == (Route.now, saturday_night)


def test_the_notification_centre_is_filled_at_once_even_for_staff_at_night() -> None:
    planned = plan(Kind.messages, IN_APP, INSTANT, STAFF, SCHOOL, london(12, 12, 22), SIX_PM)
    assert planned.route is Route.now


def test_families_are_not_held_to_staff_hours() -> None:
    planned = plan(Kind.messages, PUSH, INSTANT, PARENT, SCHOOL, london(12, 12, 22), SIX_PM)
    assert planned.route is Route.now


def test_a_staff_digest_due_after_hours_waits_for_the_next_start() -> None:
    planned = plan(Kind.school_stories, PUSH, DIGEST, STAFF, SCHOOL, london(12, 11, 10), SIX_PM)
    assert (planned.route, planned.at) == (Route.digest, utc(12, 14, 8))


def test_off_is_off() -> None:
    planned = plan(Kind.points, EMAIL, OFF, PARENT, SCHOOL, london(12, 7, 10), SIX_PM)
    assert (planned.route, planned.batch("parent:1")) == (Route.dropped, None)


def test_an_item_without_a_sender_names_the_school_in_a_plain_sentence() -> None:
    told = digest([item("e1", Kind.class_stories), item("e2", Kind.messages)])
    assert [s.lines for s in told.sections] == [
        ("New message from the school",),
        ("The school posted a class story",),
    ]


def test_what_was_held_becomes_one_summary_not_a_burst() -> None:
    held = [
        item("e1", Kind.messages, sender="Ada's mum"),
        item("e2", Kind.messages, sender="Ben's dad"),
        item("e3", Kind.school_stories, sender="Mrs Lee"),
        item("e3", Kind.school_stories, sender="Mrs Lee"),  # filed twice: told once
        item("e4", Kind.messages, sender="Ada's mum"),
        item("e5", Kind.class_stories, sender="Mr Obi"),
    ]
    summary = away(held)
    assert (summary.title, summary.body) == ("While you were away", "3 messages, 2 stories")
    assert summary.event_ids == ("e1", "e2", "e3", "e4", "e5")


def test_a_moment_without_its_offset_is_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        plan(Kind.points, PUSH, INSTANT, PARENT, SCHOOL, datetime(2026, 12, 7, 10), SIX_PM)


# Stories scheduled for later: told when they can be seen


def test_a_story_scheduled_for_later_is_planned_as_if_written_then() -> None:
    written, shows = london(12, 11, 18), london(12, 14, 9)  # Friday evening, Monday at nine
    stories = Kind.class_stories
    for channel in (PUSH, EMAIL):
        planned = plan(stories, channel, INSTANT, PARENT, SCHOOL, written, SIX_PM, shows)
        assert (planned.route, planned.at) == (Route.scheduled, shows)
        assert planned.batch("parent:1") == f"scheduled:{channel}:parent:1:{shows.isoformat()}"
        digested = plan(stories, channel, DIGEST, PARENT, SCHOOL, written, SIX_PM, shows)
        assert (digested.route, digested.at) == (Route.digest, london(12, 14, 18))
        off = plan(stories, channel, OFF, PARENT, SCHOOL, written, SIX_PM, shows)
        assert off.route is Route.dropped
    # the centre is filled now, and lists it from then (the read side's part)
    assert plan(stories, IN_APP, INSTANT, PARENT, SCHOOL, written, SIX_PM, shows).route is (
        Route.now
    )
    # scheduled for a Saturday, a member of staff hears on Monday at the start of hours
    saturday = london(12, 12, 10)
    held = plan(stories, PUSH, INSTANT, STAFF, SCHOOL, written, SIX_PM, saturday)
    assert (held.route, held.at) == (Route.held, london(12, 14, 8))
    # a time already past is no schedule
    now = plan(stories, PUSH, INSTANT, PARENT, SCHOOL, written, SIX_PM, london(12, 11, 17))
    assert (now.route, now.at) == (Route.now, written.astimezone(UTC))
