"""A staff member's parent account, printed letters and who is told of a new guardian:
given past events, when a command, then events or an error."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from schoolgate_consent import domain
from schoolgate_consent.domain import InviteNotFound, InviteNotOpen, PrintLetter, RedeemInvite
from schoolgate_consent.projections import notices
from schoolgate_contracts import Event, Metadata, RecordedEvent
from schoolgate_contracts.consent import (
    GuardianLinked,
    GuardianRequested,
    InviteLetterPrinted,
    ParentInviteIssued,
    ParentInviteRevoked,
)
from schoolgate_contracts.registry import registry
from schoolgate_kit.identity import ALGORITHM, AUDIENCE, Identity, Role, sign, verify
from schoolgate_kit.projections import fold

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(days=14)
SECRET = "unit-test-identity-secret-" + "q" * 24


def given(*events: Event) -> domain.Pupil:
    state = domain.initial_pupil()
    for event in events:
        state = domain.evolve_pupil(state, event)
    return state


def issued(invite_id: str) -> ParentInviteIssued:
    return ParentInviteIssued(
        invite_id=invite_id, pupil_id="p1", issued_by="t1", expires_at=EXPIRES
    )


def linked(invite_id: str, parent_id: str) -> GuardianLinked:
    return GuardianLinked(pupil_id="p1", parent_id=parent_id, invite_id=invite_id)


def test_a_staff_account_redeeming_waits_for_a_leader_though_the_pupil_has_no_guardian() -> None:
    command = RedeemInvite("i1", "p1", "staff-parent", staff_account=True)
    events = domain.decide_redeem(given(issued("i1")), command, NOW)
    assert events == [
        GuardianRequested(
            request_id="i1",
            pupil_id="p1",
            parent_id="staff-parent",
            invite_id="i1",
            because="staff_account",
        )
    ]
    assert (
        domain.outcome_for(given(issued("i1"), *events), "staff-parent") is domain.Outcome.pending
    )


def test_a_third_guardian_still_waits_because_of_the_limit() -> None:
    state = given(issued("i1"), issued("i2"), issued("i3"), linked("i1", "a"), linked("i2", "b"))
    [event] = domain.decide_redeem(state, RedeemInvite("i3", "p1", "c"), NOW)
    assert isinstance(event, GuardianRequested) and event.because == "guardian_limit"


def test_a_request_stored_before_it_had_a_cause_was_for_a_third_guardian() -> None:
    old = {"request_id": "i1", "pupil_id": "p1", "parent_id": "c", "invite_id": "i1"}
    event = registry.loader("GuardianRequested", 1)(json.dumps(old))
    assert isinstance(event, GuardianRequested) and event.because == "guardian_limit"


def test_printing_an_open_letter_is_recorded_with_who_and_never_the_code() -> None:
    command = PrintLetter(invite_id="i1", pupil_id="p1", printed_by="ta-1")
    [event] = domain.decide_print_letter(given(issued("i1")), command, NOW)
    assert event == InviteLetterPrinted(invite_id="i1", pupil_id="p1", printed_by="ta-1")
    assert set(event.model_dump()) == {"invite_id", "pupil_id", "printed_by"}


@pytest.mark.parametrize(
    ("history", "now", "error"),
    [
        ((), NOW, InviteNotFound),
        (
            (issued("i1"), ParentInviteRevoked(invite_id="i1", pupil_id="p1", revoked_by="l")),
            NOW,
            InviteNotOpen,
        ),
        ((issued("i1"), linked("i1", "a")), NOW, InviteNotOpen),
        ((issued("i1"),), EXPIRES, InviteNotOpen),
    ],
    ids=["unknown", "revoked", "used", "expired"],
)
def test_a_letter_that_is_not_open_is_not_printed(
    history: tuple[Event, ...], now: datetime, error: type[Exception]
) -> None:
    with pytest.raises(error):
        domain.decide_print_letter(given(*history), PrintLetter("i1", "p1", "ta-1"), now)


def test_a_token_without_the_staff_claim_is_an_ordinary_parent() -> None:
    claims = {"sub": "p", "role": "parent", "school": "s", "aud": AUDIENCE, "exp": 4_000_000_000}
    assert (
        verify(jwt.encode(claims, SECRET, algorithm=ALGORITHM), secret=SECRET, now=NOW).also_staff
        is False
    )
    staff = Identity(subject="p", role=Role.parent, school_id="s", also_staff=True)
    token = sign(staff, secret=SECRET, now=NOW, ttl=timedelta(minutes=5))
    assert verify(token, secret=SECRET, now=NOW).also_staff is True


def _recorded(event: GuardianLinked, position: int) -> RecordedEvent:
    metadata = Metadata(occurred_at=NOW, school_id="s1", actor="x", correlation_id="c")
    stream = f"guardianship-{event.pupil_id}"
    return RecordedEvent(uuid.UUID(int=position), stream, position, position, NOW, metadata, event)


def test_the_other_guardians_and_the_school_are_told_of_each_new_guardian() -> None:
    events = [
        _recorded(linked("i1", "a"), 1),
        _recorded(linked("i2", "b"), 2),
        _recorded(GuardianLinked(pupil_id="p1", parent_id="c", invite_id="i3", approved_by="l"), 3),
    ]
    docs = fold(notices, {}, events)
    told = sorted(
        (d["audience"], d["recipient"], d["parent_id"])
        for d in docs.values()
        if d and "audience" in d
    )
    assert told == [
        ("parent", "a", "b"),
        ("parent", "a", "c"),
        ("parent", "b", "c"),
        ("school", "s1", "a"),
        ("school", "s1", "b"),
        ("school", "s1", "c"),
    ]
