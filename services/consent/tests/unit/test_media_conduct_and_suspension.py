"""Media consent and the in-care rule, the code of conduct, and suspension: given/when/then."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from schoolgate_consent import domain
from schoolgate_consent.domain import (
    AcceptCodeOfConduct,
    CodeOfConductChanged,
    MediaConsentNeedsException,
    NoCodeOfConduct,
    NotAGuardian,
    NotInCare,
    RecordCareStatus,
    RecordMediaException,
    SetMediaConsent,
)
from schoolgate_consent.projections import media
from schoolgate_contracts import Event, Metadata, RecordedEvent
from schoolgate_contracts.consent import (
    CodeOfConductAccepted,
    CodeOfConductPublished,
    GuardianLinked,
    MediaConsentExceptionRecorded,
    MediaConsentGranted,
    MediaConsentWithdrawn,
    ParentInviteIssued,
    ParentSuspended,
    ParentSuspensionLifted,
    PupilCareStatusRecorded,
)
from schoolgate_kit.projections import fold

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


def given(*events: Event) -> domain.Pupil:
    state = domain.initial_pupil()
    for event in events:
        state = domain.evolve_pupil(state, event)
    return state


GUARDED = (
    ParentInviteIssued(invite_id="i1", pupil_id="p1", issued_by="t", expires_at=NOW),
    GuardianLinked(pupil_id="p1", parent_id="pa", invite_id="i1"),
)
IN_CARE = PupilCareStatusRecorded(pupil_id="p1", in_care=True, recorded_by="lead")
EXCEPTION = MediaConsentExceptionRecorded(pupil_id="p1", recorded_by="lead", reason="LA agreed")


def grant(by: str = "pa", *, granted: bool = True, as_guardian: bool = True) -> SetMediaConsent:
    return SetMediaConsent(pupil_id="p1", granted=granted, by=by, as_guardian=as_guardian)


def test_a_guardian_grants_and_withdraws_media_consent() -> None:
    [granted] = domain.decide_media_consent(given(*GUARDED), grant())
    assert granted == MediaConsentGranted(pupil_id="p1", granted_by="pa")
    state = given(*GUARDED, granted)
    assert state.may_appear
    [withdrawn] = domain.decide_media_consent(state, grant(granted=False))
    assert withdrawn == MediaConsentWithdrawn(pupil_id="p1", withdrawn_by="pa")
    assert not given(*GUARDED, granted, withdrawn).may_appear


def test_granting_twice_changes_nothing() -> None:
    state = given(*GUARDED, MediaConsentGranted(pupil_id="p1", granted_by="pa"))
    assert domain.decide_media_consent(state, grant()) == []


def test_only_a_guardian_may_choose_for_themself() -> None:
    with pytest.raises(NotAGuardian):
        domain.decide_media_consent(given(*GUARDED), grant("stranger"))


def test_the_office_records_a_paper_form() -> None:
    [event] = domain.decide_media_consent(given(), grant("office-1", as_guardian=False))
    assert event == MediaConsentGranted(pupil_id="p1", granted_by="office-1")


def test_a_pupil_in_care_cannot_be_granted_until_a_leader_records_an_exception() -> None:
    with pytest.raises(MediaConsentNeedsException):
        domain.decide_media_consent(given(*GUARDED, IN_CARE), grant())
    [exception] = domain.decide_media_exception(
        given(*GUARDED, IN_CARE), RecordMediaException("p1", "lead", "LA agreed")
    )
    assert exception == EXCEPTION
    [granted] = domain.decide_media_consent(given(*GUARDED, IN_CARE, exception), grant())
    assert given(*GUARDED, IN_CARE, exception, granted).may_appear


def test_going_into_care_removes_consent_given_before() -> None:
    state = given(*GUARDED, MediaConsentGranted(pupil_id="p1", granted_by="pa"), IN_CARE)
    assert state.media_granted and not state.may_appear


def test_a_new_placement_needs_a_new_exception() -> None:
    left_care = PupilCareStatusRecorded(pupil_id="p1", in_care=False, recorded_by="lead")
    state = given(*GUARDED, IN_CARE, EXCEPTION, left_care, IN_CARE)
    assert state.in_care and not state.exception
    with pytest.raises(MediaConsentNeedsException):
        domain.decide_media_consent(state, grant())


def test_an_exception_is_only_for_a_pupil_in_care() -> None:
    with pytest.raises(NotInCare):
        domain.decide_media_exception(given(*GUARDED), RecordMediaException("p1", "lead", "r"))


def test_recording_the_same_care_status_again_changes_nothing() -> None:
    assert domain.decide_care_status(given(IN_CARE), RecordCareStatus("p1", True, "lead")) == []
    [event] = domain.decide_care_status(given(), RecordCareStatus("p1", True, "lead"))
    assert event == IN_CARE


def _recorded(position: int, event: Event) -> RecordedEvent:
    return RecordedEvent(
        event_id=uuid.uuid4(),
        stream="guardianship-p1",
        version=position - 1,
        position=position,
        recorded_at=NOW,
        metadata=Metadata(occurred_at=NOW, school_id="s1", actor="a", correlation_id="c"),
        event=event,
    )


def test_the_media_projection_answers_may_appear_for_other_services() -> None:
    events = [
        MediaConsentGranted(pupil_id="p1", granted_by="pa"),
        IN_CARE,
        EXCEPTION,
        MediaConsentWithdrawn(pupil_id="p1", withdrawn_by="pa"),
    ]
    seen = []
    docs: dict[str, dict[str, object]] = {}
    for position, event in enumerate(events, start=1):
        changes = fold(media, docs, [_recorded(position, event)])
        docs = {k: v for k, v in changes.items() if v is not None}
        seen.append((docs["p1"]["in_care"], docs["p1"]["exception"], docs["p1"]["may_appear"]))
    assert seen == [
        (False, False, True),
        (True, False, False),
        (True, True, True),
        (True, True, False),
    ]
    assert docs["p1"]["school_id"] == "s1" and docs["p1"]["changed_by"] == "pa"


# -- code of conduct -------------------------------------------------------------------------


def test_each_published_text_is_the_next_version_and_the_same_text_is_no_change() -> None:
    [first] = domain.decide_publish_conduct(domain.initial_policy(), "Be kind", "lead")
    assert first == CodeOfConductPublished(version=1, text="Be kind", published_by="lead")
    policy = domain.evolve_policy(domain.initial_policy(), first)
    assert domain.decide_publish_conduct(policy, "Be kind", "lead") == []
    [second] = domain.decide_publish_conduct(policy, "Be kind and patient", "lead")
    assert isinstance(second, CodeOfConductPublished) and second.version == 2


def test_a_parent_accepts_the_current_version_only() -> None:
    accept = AcceptCodeOfConduct(parent_id="pa", school_id="s1", version=2)
    [event] = domain.decide_accept_conduct(domain.initial_parent(), accept, current_version=2)
    assert event == CodeOfConductAccepted(parent_id="pa", school_id="s1", version=2)
    after = domain.evolve_parent(domain.initial_parent(), event)
    assert domain.decide_accept_conduct(after, accept, current_version=2) == []
    with pytest.raises(CodeOfConductChanged):
        domain.decide_accept_conduct(after, accept, current_version=3)
    with pytest.raises(NoCodeOfConduct):
        domain.decide_accept_conduct(domain.initial_parent(), accept, current_version=0)


# -- suspension ------------------------------------------------------------------------------


def test_a_leader_suspends_a_parent_and_lifts_it() -> None:
    [suspended] = domain.decide_suspend(domain.initial_parent(), "pa", "lead", "Abusive messages")
    assert suspended == ParentSuspended(
        parent_id="pa", suspended_by="lead", reason="Abusive messages"
    )
    state = domain.evolve_parent(domain.initial_parent(), suspended)
    assert state.suspended
    assert domain.decide_suspend(state, "pa", "lead", "again") == []
    [lifted] = domain.decide_lift_suspension(state, "pa", "lead")
    assert lifted == ParentSuspensionLifted(parent_id="pa", lifted_by="lead")
    assert not domain.evolve_parent(state, lifted).suspended
    assert domain.decide_lift_suspension(domain.initial_parent(), "pa", "lead") == []
