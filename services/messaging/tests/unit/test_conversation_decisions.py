"""Given a conversation's history, when someone acts, then these events (or this refusal):
the decisions of domain.py, and who sees what in access.py as a pupil moves class."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import reduce
from typing import Any

import pytest
from schoolgate_contracts import Event
from schoolgate_contracts.messaging import (
    MessageRead,
    MessageReported,
    MessageWithdrawn,
    ReportResolved,
)
from schoolgate_kit.identity import Identity, Role
from schoolgate_kit.problems import Conflict
from schoolgate_messaging import domain
from schoolgate_messaging.access import conversation_access, message_shown, readonly_until

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def message(message_id: str, side: str = "family", sender: str = "mum", at: datetime = T0):
    return domain.NewMessage(
        message_id=message_id,
        sender_id=sender,
        side=side,  # type: ignore[arg-type]
        text=f"text of {message_id}",
        attachments=(),
        visible_from=at,
    )


def given(*events: Event) -> domain.Conversation:
    return reduce(domain.evolve_conversation, events, domain.initial_conversation())


def started(kind: str = "family", first: domain.NewMessage | None = None) -> list[Event]:
    return domain.decide_start(
        domain.initial_conversation(),
        domain.StartConversation(
            conversation_id="c1",
            kind=kind,
            pupil_id=None if kind == "announcement" else "ada",
            class_id="oak",
            inbox="class",
            parent_ids=() if kind == "announcement" else ("mum",),
            first=first or message("m1"),
        ),
    )


def with_reply() -> list[Event]:
    history = started()
    reply = domain.decide_send(given(*history), message("m2", "school", "ms-oak"), class_id="oak")
    return [*history, *reply]


# -- withdrawing: ten minutes from when it appears --------------------------------------------


@pytest.mark.parametrize(
    ("after", "allowed"),
    [(timedelta(minutes=9, seconds=59), True), (timedelta(minutes=10, seconds=1), False)],
)
def test_a_message_can_be_withdrawn_for_ten_minutes(after: timedelta, allowed: bool) -> None:
    state = given(*started())
    if allowed:
        [event] = domain.decide_withdraw(state, "m1", by="mum", now=T0 + after)
        assert isinstance(event, MessageWithdrawn) and event.message_id == "m1"
    else:
        with pytest.raises(domain.TooLateToWithdraw):
            domain.decide_withdraw(state, "m1", by="mum", now=T0 + after)


def test_only_the_sender_withdraws_and_twice_is_once() -> None:
    state = given(*started())
    with pytest.raises(domain.NotYours):
        domain.decide_withdraw(state, "m1", by="dad", now=T0)
    done = given(*started(), *domain.decide_withdraw(state, "m1", by="mum", now=T0))
    assert domain.decide_withdraw(done, "m1", by="mum", now=T0) == []


# -- announcements ----------------------------------------------------------------------------


def test_a_family_cannot_answer_inside_an_announcement() -> None:
    state = given(*started("announcement", message("a1", "school", "ms-oak")))
    with pytest.raises(domain.ReplyPrivately):
        domain.decide_send(state, message("m9"), class_id="oak")
    assert domain.decide_send(state, message("a2", "school", "ms-oak"), class_id="oak")


# -- receipts ---------------------------------------------------------------------------------


def read(state: domain.Conversation, through: str) -> list[Event]:
    return domain.decide_read(
        state,
        reader_id="ms-oak",
        side="school",
        through_message_id=through,
        read_at=T0,
        shown_from=T0,
    )


def test_receipts_never_go_backwards() -> None:
    history = with_reply()
    [event] = read(given(*history), "m2")
    assert isinstance(event, MessageRead)
    after = given(*history, event)
    assert after.read_through["school"] == 2
    assert read(after, "m1") == []
    assert read(after, "m2") == []
    # a late, older receipt in the stream leaves the newer one standing
    older = MessageRead(
        conversation_id="c1",
        reader_id="ta",
        side="school",
        through_message_id="m1",
        read_at=T0,
        shown_from=T0,
    )
    assert domain.evolve_conversation(after, older).read_through["school"] == 2


# -- reports ----------------------------------------------------------------------------------


def reported(by: str = "ms-oak", message_id: str = "m1") -> list[Event]:
    history = with_reply()
    return [
        *history,
        *domain.decide_report(
            given(*history), message_id, report_id="r1", by=by, side="school", reason="rude"
        ),
    ]


def resolve(history: list[Event], action: Any) -> list[Event]:
    return domain.decide_resolve(given(*history), "r1", action=action, by="head", note="")


def test_a_report_resolved_twice_the_same_way_is_once_and_another_way_is_refused() -> None:
    history = reported()
    assert isinstance(history[-1], MessageReported)
    resolved = [*history, *resolve(history, "warned")]
    assert isinstance(resolved[-1], ReportResolved)
    assert resolve(resolved, "warned") == []
    with pytest.raises(domain.AlreadyResolved):
        resolve(resolved, "hidden")


def test_suspension_is_for_families_not_staff() -> None:
    assert isinstance(resolve(reported(), "suspended")[-1], ReportResolved)
    staff_message = reported(by="mum", message_id="m2")
    with pytest.raises(domain.CannotSuspendStaff):
        resolve(staff_message, "suspended")


def test_hiding_on_resolution_hides_once() -> None:
    history = reported()
    events = resolve(history, "hidden")
    assert [type(e).__name__ for e in events] == ["MessageHidden", "ReportResolved"]
    assert given(*history, *events).messages["m1"].hidden


# -- a pupil moves class ----------------------------------------------------------------------

MOVED = datetime(2026, 11, 16, 10, 0, tzinfo=UTC)
TERMS = ((date(2026, 9, 2), date(2026, 12, 18)), (date(2027, 1, 5), date(2027, 3, 31)))


def staff(class_id: str) -> Identity:
    return Identity(
        subject=f"teacher-{class_id}",
        role=Role.teacher,
        school_id="s1",
        class_ids=frozenset({class_id}),
        pupil_ids=frozenset(),
    )


CONVERSATION = {
    "school_id": "s1",
    "kind": "family",
    "inbox": "class",
    "pupil_id": "ada",
    "class_id": "ash",
    "parent_ids": ["mum"],
    "classes": ["oak", "ash"],
}
ADA = {
    "pupil_id": "ada",
    "school_id": "s1",
    "class_id": "ash",
    "left": False,
    "moves": [{"from": "oak", "to": "ash", "at": MOVED.isoformat()}],
}
BEFORE = {
    "class_id": "oak",
    "visible_from": T0.isoformat(),
    "side": "family",
    "withdrawn": False,
    "hidden": False,
    "text": "in oak",
}
AFTER = {**BEFORE, "class_id": "ash", "visible_from": MOVED.isoformat(), "text": "in ash"}


def shown(identity: Identity, now: datetime) -> list[str] | None:
    access = conversation_access(identity, CONVERSATION, pupil=ADA, now=now, terms=TERMS)
    if access is None:
        return None
    seen = (message_shown(m, access, now=now, leader=False) for m in (BEFORE, AFTER))
    return [m["text"] + (" (write)" if access.write else "") for m in seen if m]


def test_after_a_move_the_new_class_reads_what_comes_next_and_the_old_keeps_its_own() -> None:
    now = MOVED + timedelta(days=1)
    assert shown(staff("ash"), now) == ["in ash (write)"]
    assert shown(staff("oak"), now) == ["in oak"]  # read only
    assert shown(staff("elm"), now) is None


def test_the_old_class_reads_until_the_end_of_the_next_term_then_nothing() -> None:
    until = readonly_until(MOVED, TERMS)
    assert until == datetime(2027, 4, 1, 10, 0, tzinfo=UTC)
    assert shown(staff("oak"), until - timedelta(minutes=1)) == ["in oak"]
    assert shown(staff("oak"), until) is None


def test_without_term_dates_the_old_class_reads_for_120_days() -> None:
    assert readonly_until(MOVED, ()) == MOVED + timedelta(days=120)
    only_this_term = (TERMS[0],)
    assert readonly_until(MOVED, only_this_term) == datetime(2026, 12, 19, 10, 0, tzinfo=UTC)


def test_another_schools_teacher_with_the_same_class_id_reads_nothing() -> None:
    elsewhere = Identity(
        subject="teacher-ash",
        role=Role.teacher,
        school_id="s2",
        class_ids=frozenset({"ash"}),
        pupil_ids=frozenset(),
    )
    assert shown(elsewhere, MOVED + timedelta(days=1)) is None


def test_families_do_not_see_a_scheduled_message_until_it_is_due() -> None:
    family = Identity(
        subject="mum",
        role=Role.parent,
        school_id="s1",
        class_ids=frozenset(),
        pupil_ids=frozenset({"ada"}),
    )
    access = conversation_access(family, CONVERSATION, pupil=ADA, now=T0)
    assert access is not None
    later = {**AFTER, "side": "school"}
    assert message_shown(later, access, now=MOVED - timedelta(seconds=1), leader=False) is None
    assert message_shown(later, access, now=MOVED, leader=False) is not None


def test_starting_again_is_a_retry_only_for_the_same_sender_and_pupil() -> None:
    state = given(*started())
    again = domain.StartConversation(
        conversation_id="c1",
        kind="family",
        pupil_id="ada",
        class_id="oak",
        inbox="class",
        parent_ids=("mum",),
        first=message("m1"),
    )
    assert domain.decide_start(state, again) == []
    for other in (
        replace(again, first=message("m1", sender="someone-else")),
        replace(again, pupil_id="zed"),
        replace(again, first=message("m7")),
    ):
        with pytest.raises(Conflict):
            domain.decide_start(state, other)
