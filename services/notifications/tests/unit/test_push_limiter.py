"""Given a recipient's recent pushes, when another item comes, then it goes now or waits to
go with others as one notice: at most 5 pushes in 10 minutes, 60 seconds apart."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from schoolgate_notifications.preferences import Kind
from schoolgate_notifications.timing import (
    Collapsed,
    Decision,
    Item,
    LimiterState,
    Notice,
    SendNow,
    admit,
    flush,
)

START = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def point(event_id: str, pupil: str = "Ada", subject: str = "Kindness") -> Item:
    return Item(
        event_id=event_id,
        kind=Kind.points,
        at=START,
        pupil_id=pupil.lower(),
        pupil=pupil,
        subject=subject,
    )


def other(event_id: str, kind: Kind, sender: str = "Mr Obi") -> Item:
    return Item(event_id=event_id, kind=kind, at=START, sender=sender)


def run(arrivals: list[tuple[float, Item]]) -> tuple[list[Decision], LimiterState]:
    """Admit each item at its second, the state going through JSON each time as it does
    through the private store."""
    state, decisions = LimiterState(), []
    for second, arriving in arrivals:
        stored = json.dumps(state.model_dump(mode="json"))
        decision, state = admit(LimiterState.model_validate_json(stored), arriving, at(second))
        decisions.append(decision)
    return decisions, state


def sent(decision: Decision) -> Notice:
    assert isinstance(decision, SendNow), decision
    return decision.notice


def test_three_points_in_a_minute_end_as_one_notification_ada_got_3_points() -> None:
    decisions, state = run([(0, point("e1")), (20, point("e2")), (40, point("e3"))])
    first = sent(decisions[0])
    assert (first.title, first.body, first.replaces) == ("Ada got a point", "For Kindness", False)
    assert decisions[1:] == [Collapsed(at(60)), Collapsed(at(60))]

    assert flush(state, at(59))[0] is None  # not before the gap is over
    later, state = flush(state, at(60))
    assert later is not None
    assert (later.title, later.event_ids) == ("Ada got 3 points", ("e2", "e3"))
    # the same tag, so the phone shows one notification, replaced without a second buzz
    assert later.tag == first.tag and later.replaces
    assert state.pending == () and state.flush_at is None


def test_a_sixth_push_in_ten_minutes_waits_for_the_window() -> None:
    kinds = [Kind.messages, Kind.class_stories, Kind.announcements, Kind.approved_work]
    arrivals = [(60.0 * n, other(f"e{n}", kind)) for n, kind in enumerate(kinds)]
    arrivals.append((240, point("e4")))
    decisions, state = run([*arrivals, (300, point("e5", pupil="Ben"))])
    assert all(isinstance(d, SendNow) for d in decisions[:5])
    assert decisions[5] == Collapsed(at(600))  # ten minutes after the first
    assert flush(state, at(599))[0] is None
    notice, _ = flush(state, at(600))
    assert notice is not None and notice.title == "Ben got a point"


def test_a_second_push_within_the_gap_waits_until_the_gap_is_over() -> None:
    decisions, state = run([(0, other("e1", Kind.messages)), (30, other("e2", Kind.messages))])
    assert decisions[1] == Collapsed(at(60))
    notice, _ = flush(state, at(60))
    assert notice is not None and notice.title == "2 new messages"


def test_different_kinds_waiting_together_become_a_count() -> None:
    decisions, state = run(
        [
            (0, other("e0", Kind.announcements)),
            (10, point("e1")),
            (15, point("e2", subject="Teamwork")),
            (20, other("e3", Kind.messages)),
            (25, other("e4", Kind.class_stories)),
        ]
    )
    assert all(d == Collapsed(at(60)) for d in decisions[1:])
    notice, _ = flush(state, at(61))
    assert notice is not None
    assert (notice.title, notice.body) == (
        "4 new notifications",
        "1 message, 1 story, 2 points",
    )
    assert not notice.replaces  # it hides nothing already on the screen


def test_what_waits_goes_with_the_next_item_once_its_time_has_passed() -> None:
    # the scheduler was late: the next arrival carries what waited
    decisions, state = run([(0, point("e1")), (10, point("e2")), (90, point("e3"))])
    assert sent(decisions[2]).title == "Ada got 3 points"
    assert state.pending == ()


def test_an_emergency_never_waits_and_what_waits_still_goes_after_it() -> None:
    decisions, state = run(
        [(0, point("e1")), (10, point("e2")), (20, other("e3", Kind.emergency, "Mrs Lee"))]
    )
    urgent = sent(decisions[2])
    assert urgent.title == "Urgent message from Mrs Lee"
    assert [i.event_id for i in state.pending] == ["e2"]
    assert flush(state, at(60))[0] is None  # the emergency used the gap
    assert flush(state, at(80))[0] is not None


def test_an_item_delivered_again_while_waiting_counts_once() -> None:
    _, state = run([(0, point("e1")), (10, point("e2")), (20, point("e2"))])
    assert [waiting.event_id for waiting in state.pending] == ["e2"]
    notice, _ = flush(state, at(60))
    assert notice is not None and notice.title == "Ada got 2 points"


def test_after_the_window_the_count_starts_again() -> None:
    decisions, _ = run([(0, point("e1")), (601, point("e2"))])
    assert sent(decisions[1]).title == "Ada got a point"


def test_two_children_are_never_counted_as_one() -> None:
    decisions, state = run([(0, point("e1")), (10, point("e2", pupil="Ben"))])
    notice, _ = flush(state, at(60))
    assert notice is not None and notice.title == "Ben got a point"
    assert notice.tag != sent(decisions[0]).tag


def test_an_item_told_already_is_sent_again_as_itself_not_counted_again() -> None:
    # a crash between the limiter's word and the send: the event comes again
    first, state = admit(LimiterState(), point("e1"), at(0))
    again, after = admit(state, point("e1"), at(5))
    assert isinstance(again, SendNow)
    assert again.notice.tag == sent(first).tag and again.notice.event_ids == ("e1",)
    assert not again.notice.replaces
    assert after == state  # nothing more counted: the next point still says "2 points"
