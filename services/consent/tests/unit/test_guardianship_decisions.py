"""A pupil's invites and guardians: given past events, when a command, then events or an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from schoolgate_consent import domain
from schoolgate_consent.domain import (
    DecideRequest,
    InviteAlreadyUsed,
    InviteNotValid,
    IssueInvite,
    Outcome,
    RedeemInvite,
    RequestAlreadyDecided,
    RequestNotFound,
    RevokeInvite,
)
from schoolgate_contracts import Event
from schoolgate_contracts.consent import (
    GuardianLinked,
    GuardianRequestApproved,
    GuardianRequested,
    GuardianRequestRejected,
    ParentInviteIssued,
    ParentInviteRevoked,
)

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(days=14)


def given(*events: Event) -> domain.Pupil:
    state = domain.initial_pupil()
    for event in events:
        state = domain.evolve_pupil(state, event)
    return state


def issued(invite_id: str, expires_at: datetime = EXPIRES) -> ParentInviteIssued:
    return ParentInviteIssued(
        invite_id=invite_id, pupil_id="p1", issued_by="t1", expires_at=expires_at
    )


def linked(invite_id: str, parent_id: str) -> GuardianLinked:
    return GuardianLinked(pupil_id="p1", parent_id=parent_id, invite_id=invite_id)


def redeem(invite_id: str, parent_id: str) -> RedeemInvite:
    return RedeemInvite(invite_id=invite_id, pupil_id="p1", parent_id=parent_id)


def test_an_invite_is_issued_with_its_expiry_and_no_code() -> None:
    [event] = domain.decide_issue_invite(
        given(), IssueInvite(invite_id="i1", pupil_id="p1", issued_by="t1", expires_at=EXPIRES)
    )
    assert event == issued("i1")
    assert "code" not in event.model_dump()


def test_redeeming_a_valid_invite_links_the_parent() -> None:
    state = given(issued("i1"))
    events = domain.decide_redeem(state, redeem("i1", "parent-a"), NOW)
    assert events == [linked("i1", "parent-a")]
    assert domain.outcome_for(given(issued("i1"), *events), "parent-a") is Outcome.linked


def test_an_invite_works_once_only() -> None:
    state = given(issued("i1"), linked("i1", "parent-a"))
    with pytest.raises(InviteNotValid):
        domain.decide_redeem(state, redeem("i1", "parent-b"), NOW)


def test_the_same_parent_sending_the_same_code_again_changes_nothing() -> None:
    state = given(issued("i1"), linked("i1", "parent-a"))
    assert domain.decide_redeem(state, redeem("i1", "parent-a"), NOW) == []
    assert domain.outcome_for(state, "parent-a") is Outcome.linked


def test_an_invite_expires_on_the_injected_clock() -> None:
    state = given(issued("i1"))
    just_before = EXPIRES - timedelta(seconds=1)
    assert domain.decide_redeem(state, redeem("i1", "parent-a"), just_before) != []
    with pytest.raises(InviteNotValid):
        domain.decide_redeem(state, redeem("i1", "parent-a"), EXPIRES)


def test_a_revoked_invite_no_longer_works() -> None:
    revoke = RevokeInvite(invite_id="i1", pupil_id="p1", revoked_by="t1")
    [event] = domain.decide_revoke_invite(given(issued("i1")), revoke)
    assert event == ParentInviteRevoked(invite_id="i1", pupil_id="p1", revoked_by="t1")
    with pytest.raises(InviteNotValid):
        domain.decide_redeem(given(issued("i1"), event), redeem("i1", "parent-a"), NOW)
    assert domain.decide_revoke_invite(given(issued("i1"), event), revoke) == []


def test_a_used_invite_cannot_be_revoked() -> None:
    revoke = RevokeInvite(invite_id="i1", pupil_id="p1", revoked_by="t1")
    with pytest.raises(InviteAlreadyUsed):
        domain.decide_revoke_invite(given(issued("i1"), linked("i1", "parent-a")), revoke)


def test_unknown_expired_revoked_and_used_codes_are_one_and_the_same_answer() -> None:
    answers = []
    for state, invite in [
        (given(), "i1"),
        (given(issued("i1", NOW - timedelta(days=1))), "i1"),
        (
            given(issued("i1"), ParentInviteRevoked(invite_id="i1", pupil_id="p1", revoked_by="t")),
            "i1",
        ),
        (given(issued("i1"), linked("i1", "parent-x")), "i1"),
    ]:
        with pytest.raises(InviteNotValid) as caught:
            domain.decide_redeem(state, redeem(invite, "parent-a"), NOW)
        answers.append(caught.value.body())
    assert all(answer == answers[0] for answer in answers)


def test_a_third_guardian_waits_for_a_leader() -> None:
    state = given(issued("i1"), issued("i2"), issued("i3"), linked("i1", "pa"), linked("i2", "pb"))
    [event] = domain.decide_redeem(state, redeem("i3", "pc"), NOW)
    assert event == GuardianRequested(
        request_id="i3", pupil_id="p1", parent_id="pc", invite_id="i3"
    )
    after = domain.evolve_pupil(state, event)
    assert after.guardians == ("pa", "pb")
    assert domain.outcome_for(after, "pc") is Outcome.pending


def test_a_linked_or_waiting_parent_does_not_use_up_another_code() -> None:
    state = given(issued("i1"), issued("i2"), linked("i1", "pa"))
    assert domain.decide_redeem(state, redeem("i2", "pa"), NOW) == []
    waiting = given(
        issued("i1"),
        issued("i2"),
        issued("i3"),
        issued("i4"),
        linked("i1", "pa"),
        linked("i2", "pb"),
        GuardianRequested(request_id="i3", pupil_id="p1", parent_id="pc", invite_id="i3"),
    )
    assert domain.decide_redeem(waiting, redeem("i4", "pc"), NOW) == []


def _with_request() -> domain.Pupil:
    return given(
        issued("i1"),
        issued("i2"),
        issued("i3"),
        linked("i1", "pa"),
        linked("i2", "pb"),
        GuardianRequested(request_id="i3", pupil_id="p1", parent_id="pc", invite_id="i3"),
    )


def test_a_leader_approves_a_third_guardian_with_a_reason() -> None:
    command = DecideRequest("i3", "p1", approve=True, decided_by="lead", reason="Foster carer")
    events = domain.decide_request(_with_request(), command)
    assert events == [
        GuardianRequestApproved(
            request_id="i3", pupil_id="p1", parent_id="pc", decided_by="lead", reason="Foster carer"
        ),
        GuardianLinked(pupil_id="p1", parent_id="pc", invite_id="i3", approved_by="lead"),
    ]
    after = given()
    for event in (*_with_request_events(), *events):
        after = domain.evolve_pupil(after, event)
    assert after.guardians == ("pa", "pb", "pc")
    assert domain.decide_request(after, command) == []  # approving again: already done


def _with_request_events() -> list[Event]:
    return [
        issued("i1"),
        issued("i2"),
        issued("i3"),
        linked("i1", "pa"),
        linked("i2", "pb"),
        GuardianRequested(request_id="i3", pupil_id="p1", parent_id="pc", invite_id="i3"),
    ]


def test_a_leader_rejects_a_third_guardian_with_a_reason_and_cannot_then_approve() -> None:
    reject = DecideRequest("i3", "p1", approve=False, decided_by="lead", reason="Not known")
    [event] = domain.decide_request(_with_request(), reject)
    assert isinstance(event, GuardianRequestRejected) and event.reason == "Not known"
    after = domain.evolve_pupil(_with_request(), event)
    assert domain.outcome_for(after, "pc") is Outcome.rejected
    approve = DecideRequest("i3", "p1", approve=True, decided_by="lead", reason="Changed mind")
    with pytest.raises(RequestAlreadyDecided):
        domain.decide_request(after, approve)


def test_deciding_an_unknown_request_is_not_found() -> None:
    with pytest.raises(RequestNotFound):
        domain.decide_request(
            _with_request(), DecideRequest("nope", "p1", approve=True, decided_by="l", reason="r")
        )


def test_codes_are_typeable_and_forgive_case_spaces_and_dashes() -> None:
    codes = {domain.new_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == domain.CODE_LENGTH
        assert set(code) <= set(domain.CODE_ALPHABET)
        assert not set(code) & set("01OIL")
    assert domain.show_code("ABCDEFGHJK") == "ABCDE-FGHJK"
    assert domain.normalise_code(" abcde-fghjk ") == "ABCDEFGHJK"
