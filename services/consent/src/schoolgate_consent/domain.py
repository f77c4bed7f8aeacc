"""Consent: a pupil's invites, guardians and media consent; a school's policy; a parent account.

Three kinds of stream, each with its own state, decisions and evolution:

- ``guardianship-{pupil_id}``: everything about one pupil, so the two-guardian limit and the
  single use of each invite hold whoever redeems at the same moment;
- ``consentpolicy-{school_id}``: the school's code of conduct versions and invite lifetime;
- ``parent-{parent_id}``: a parent account's suspension and code-of-conduct acceptances.

Every ``decide_*`` is pure: the clock and ids come in as arguments.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from schoolgate_contracts import Event
from schoolgate_contracts.consent import (
    CodeOfConductAccepted,
    CodeOfConductPublished,
    GuardianLinked,
    GuardianRemoved,
    GuardianRequestApproved,
    GuardianRequested,
    GuardianRequestRejected,
    InviteLetterPrinted,
    InviteLifetimeSet,
    MediaConsentExceptionRecorded,
    MediaConsentGranted,
    MediaConsentWithdrawn,
    ParentAccountClosed,
    ParentInviteIssued,
    ParentInviteRevoked,
    ParentSuspended,
    ParentSuspensionLifted,
    PupilCareStatusRecorded,
    RequestCause,
)
from schoolgate_kit.directory import may_appear
from schoolgate_kit.problems import Conflict, Forbidden, NotFound, Problem

GUARDIAN_LIMIT = 2

# No 0/O, 1/I/L: a code read off paper is typed right first time. 31 symbols, 10 long:
# about 49 bits, and redemption is rate limited.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


def guardianship_stream(pupil_id: str) -> str:
    return f"guardianship-{pupil_id}"


def policy_stream(school_id: str) -> str:
    return f"consentpolicy-{school_id}"


def closures_stream(school_id: str) -> str:
    """The school's record of parents who closed their account (ids only)."""
    return f"closures-{school_id}"


def parent_stream(parent_id: str) -> str:
    return f"parent-{parent_id}"


# -- invite codes ----------------------------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(typed: str) -> str:
    """What a parent typed, as stored: case, spaces and dashes do not matter."""
    return "".join(ch for ch in typed.upper() if ch not in " -\t\n")


def show_code(code: str) -> str:
    """Grouped for reading aloud and typing: ``ABCDE-FGHJK``."""
    return "-".join(code[i : i + 5] for i in range(0, len(code), 5))


# -- errors ----------------------------------------------------------------------------------


class InviteNotValid(Problem):
    """One answer for unknown, mistyped, expired, revoked and used codes: which it was is
    nobody's business but the school's."""

    status, slug, title = 422, "invite-not-valid", "That code does not work"

    def __init__(self) -> None:
        super().__init__("That code is not valid. Check it, or ask the school for a new one.")


class InviteNotFound(NotFound):
    slug = "invite-not-found"
    title = "No such invite"


class InviteNotOpen(NotFound):
    slug = "invite-not-open"
    title = "That invite is no longer open"


class InviteAlreadyUsed(Conflict):
    slug = "invite-already-used"
    title = "That invite has already been used"


class InviteIdReused(Conflict):
    slug = "invite-id-reused"
    title = "That invite id was already used for another invite"


class RequestNotFound(NotFound):
    slug = "guardian-request-not-found"
    title = "No such guardian request"


class RequestAlreadyDecided(Conflict):
    slug = "guardian-request-decided"
    title = "That request has already been decided"


class NotAGuardian(Forbidden):
    slug = "not-a-guardian"
    title = "Only the pupil's guardians may do that"


class MediaConsentNeedsException(Conflict):
    slug = "media-consent-needs-exception"
    title = "A pupil in care needs a leader's exception before media consent"


class NotInCare(Conflict):
    slug = "pupil-not-in-care"
    title = "The pupil is not recorded as in care"


class NoCodeOfConduct(NotFound):
    slug = "no-code-of-conduct"
    title = "The school has not published a code of conduct"


class CodeOfConductChanged(Conflict):
    slug = "code-of-conduct-changed"
    title = "That is not the current version of the code of conduct"


# -- a pupil's guardianship ------------------------------------------------------------------


class RequestStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


@dataclass(frozen=True)
class Invite:
    invite_id: str
    expires_at: datetime
    revoked: bool = False
    used_by: str | None = None


@dataclass(frozen=True)
class Request:
    request_id: str
    parent_id: str
    status: RequestStatus = RequestStatus.pending
    reason: str | None = None
    because: RequestCause = "guardian_limit"


@dataclass(frozen=True)
class Pupil:
    invites: dict[str, Invite] = field(default_factory=dict)
    guardians: tuple[str, ...] = ()
    requests: dict[str, Request] = field(default_factory=dict)
    in_care: bool = False
    exception: bool = False
    media_granted: bool = False
    closed: frozenset[str] = frozenset()
    """Parents who closed their account: nothing of theirs is left to remove."""

    def pending_request_of(self, parent_id: str) -> Request | None:
        for request in self.requests.values():
            if request.parent_id == parent_id and request.status is RequestStatus.pending:
                return request
        return None

    @property
    def may_appear(self) -> bool:
        return may_appear(self.media_granted, self.in_care, self.exception)


def initial_pupil() -> Pupil:
    return Pupil()


def evolve_pupil(state: Pupil, event: Event) -> Pupil:
    match event:
        case ParentInviteIssued():
            invite = Invite(invite_id=event.invite_id, expires_at=event.expires_at)
            return replace(state, invites={**state.invites, event.invite_id: invite})
        case ParentInviteRevoked():
            revoked = replace(state.invites[event.invite_id], revoked=True)
            return replace(state, invites={**state.invites, event.invite_id: revoked})
        case GuardianLinked():
            used = replace(state.invites[event.invite_id], used_by=event.parent_id)
            return replace(
                state,
                invites={**state.invites, event.invite_id: used},
                guardians=(*state.guardians, event.parent_id),
            )
        case GuardianRequested():
            used = replace(state.invites[event.invite_id], used_by=event.parent_id)
            request = Request(
                request_id=event.request_id, parent_id=event.parent_id, because=event.because
            )
            return replace(
                state,
                invites={**state.invites, event.invite_id: used},
                requests={**state.requests, event.request_id: request},
            )
        case GuardianRequestApproved() | GuardianRequestRejected():
            status = (
                RequestStatus.approved
                if isinstance(event, GuardianRequestApproved)
                else RequestStatus.rejected
            )
            decided = replace(state.requests[event.request_id], status=status, reason=event.reason)
            return replace(state, requests={**state.requests, event.request_id: decided})
        case PupilCareStatusRecorded():
            # a new placement needs a new decision: an earlier exception does not carry over
            return replace(
                state, in_care=event.in_care, exception=state.exception and not event.in_care
            )
        case MediaConsentExceptionRecorded():
            return replace(state, exception=True)
        case MediaConsentGranted():
            return replace(state, media_granted=True)
        case MediaConsentWithdrawn():
            return replace(state, media_granted=False)
        case GuardianRemoved():
            requests = {
                k: replace(r, status=RequestStatus.rejected)
                if r.parent_id == event.parent_id and r.status is RequestStatus.pending
                else r
                for k, r in state.requests.items()
            }
            guardians = tuple(g for g in state.guardians if g != event.parent_id)
            closed = state.closed | {event.parent_id}
            return replace(state, guardians=guardians, requests=requests, closed=closed)
        case _:
            return state


def initial_closures() -> frozenset[str]:
    return frozenset()


def evolve_closures(state: frozenset[str], event: Event) -> frozenset[str]:
    return state | {event.parent_id} if isinstance(event, ParentAccountClosed) else state


def decide_close(state: frozenset[str], parent_id: str) -> list[Event]:
    return [] if parent_id in state else [ParentAccountClosed(parent_id=parent_id)]


def decide_remove_guardian(state: Pupil, pupil_id: str, parent_id: str) -> list[Event]:
    """A closing account leaves each child it was a guardian of, or had asked to be (a
    request turned down included: the school's reply is about them)."""
    if parent_id in state.closed:
        return []
    asked = any(r.parent_id == parent_id for r in state.requests.values())
    if parent_id in state.guardians or asked:
        return [GuardianRemoved(pupil_id=pupil_id, parent_id=parent_id)]
    return []


@dataclass(frozen=True)
class IssueInvite:
    invite_id: str
    pupil_id: str
    issued_by: str
    expires_at: datetime


def decide_issue_invite(state: Pupil, command: IssueInvite) -> list[Event]:
    existing = state.invites.get(command.invite_id)
    if existing is not None:
        if existing.expires_at == command.expires_at:
            return []  # the same invite sent again
        raise InviteIdReused(f"invite {command.invite_id} already exists")
    return [
        ParentInviteIssued(
            invite_id=command.invite_id,
            pupil_id=command.pupil_id,
            issued_by=command.issued_by,
            expires_at=command.expires_at,
        )
    ]


@dataclass(frozen=True)
class PrintLetter:
    invite_id: str
    pupil_id: str
    printed_by: str


def decide_print_letter(state: Pupil, command: PrintLetter, now: datetime) -> list[Event]:
    """Reading a code is recorded every time, even the same person twice: each print is
    another sheet of paper that could reach someone."""
    invite = state.invites.get(command.invite_id)
    if invite is None:
        raise InviteNotFound(f"pupil {command.pupil_id} has no invite {command.invite_id}")
    if invite.revoked or invite.used_by is not None or now >= invite.expires_at:
        raise InviteNotOpen("that invite is no longer open: issue a new one")
    return [
        InviteLetterPrinted(
            invite_id=command.invite_id, pupil_id=command.pupil_id, printed_by=command.printed_by
        )
    ]


@dataclass(frozen=True)
class RevokeInvite:
    invite_id: str
    pupil_id: str
    revoked_by: str


def decide_revoke_invite(state: Pupil, command: RevokeInvite) -> list[Event]:
    invite = state.invites.get(command.invite_id)
    if invite is None:
        raise InviteNotFound(f"pupil {command.pupil_id} has no invite {command.invite_id}")
    if invite.used_by is not None:
        raise InviteAlreadyUsed("a parent has already joined with that invite")
    if invite.revoked:
        return []
    return [
        ParentInviteRevoked(
            invite_id=command.invite_id, pupil_id=command.pupil_id, revoked_by=command.revoked_by
        )
    ]


class Outcome(StrEnum):
    linked = "linked"
    pending = "pending"
    """Waiting for a leader: the pupil already has two guardians, or the account is staff's."""
    rejected = "rejected"


@dataclass(frozen=True)
class RedeemInvite:
    invite_id: str
    pupil_id: str
    parent_id: str
    staff_account: bool = False
    """The account's email belongs to a member of staff: a leader decides, however many
    guardians the pupil has."""


def decide_redeem(state: Pupil, command: RedeemInvite, now: datetime) -> list[Event]:
    invite = state.invites.get(command.invite_id)
    if invite is None or invite.revoked:
        raise InviteNotValid()
    if invite.used_by is not None:
        if invite.used_by == command.parent_id:
            return []  # the same parent sent the same code again: already done
        raise InviteNotValid()
    if now >= invite.expires_at:
        raise InviteNotValid()
    if command.parent_id in state.guardians or state.pending_request_of(command.parent_id):
        return []  # already linked or already waiting: keep the code for someone else
    if len(state.guardians) < GUARDIAN_LIMIT and not command.staff_account:
        return [
            GuardianLinked(
                pupil_id=command.pupil_id,
                parent_id=command.parent_id,
                invite_id=command.invite_id,
            )
        ]
    return [
        GuardianRequested(
            request_id=command.invite_id,
            pupil_id=command.pupil_id,
            parent_id=command.parent_id,
            invite_id=command.invite_id,
            because="staff_account" if command.staff_account else "guardian_limit",
        )
    ]


def outcome_for(state: Pupil, parent_id: str) -> Outcome:
    """Where a parent stands with a pupil after redeeming."""
    if parent_id in state.guardians:
        return Outcome.linked
    if state.pending_request_of(parent_id) is not None:
        return Outcome.pending
    return Outcome.rejected


@dataclass(frozen=True)
class DecideRequest:
    request_id: str
    pupil_id: str
    approve: bool
    decided_by: str
    reason: str


def decide_request(state: Pupil, command: DecideRequest) -> list[Event]:
    request = state.requests.get(command.request_id)
    if request is None:
        raise RequestNotFound(f"pupil {command.pupil_id} has no request {command.request_id}")
    wanted = RequestStatus.approved if command.approve else RequestStatus.rejected
    if request.status is not RequestStatus.pending:
        if request.status is wanted:
            return []
        raise RequestAlreadyDecided(f"request {command.request_id} was {request.status.value}")
    if not command.approve:
        return [
            GuardianRequestRejected(
                request_id=request.request_id,
                pupil_id=command.pupil_id,
                parent_id=request.parent_id,
                decided_by=command.decided_by,
                reason=command.reason,
            )
        ]
    return [
        GuardianRequestApproved(
            request_id=request.request_id,
            pupil_id=command.pupil_id,
            parent_id=request.parent_id,
            decided_by=command.decided_by,
            reason=command.reason,
        ),
        GuardianLinked(
            pupil_id=command.pupil_id,
            parent_id=request.parent_id,
            invite_id=request.request_id,
            approved_by=command.decided_by,
        ),
    ]


@dataclass(frozen=True)
class RecordCareStatus:
    pupil_id: str
    in_care: bool
    recorded_by: str


def decide_care_status(state: Pupil, command: RecordCareStatus) -> list[Event]:
    if state.in_care == command.in_care:
        return []
    return [
        PupilCareStatusRecorded(
            pupil_id=command.pupil_id, in_care=command.in_care, recorded_by=command.recorded_by
        )
    ]


@dataclass(frozen=True)
class RecordMediaException:
    pupil_id: str
    recorded_by: str
    reason: str


def decide_media_exception(state: Pupil, command: RecordMediaException) -> list[Event]:
    if not state.in_care:
        raise NotInCare(f"pupil {command.pupil_id} is not recorded as in care")
    if state.exception:
        return []
    return [
        MediaConsentExceptionRecorded(
            pupil_id=command.pupil_id, recorded_by=command.recorded_by, reason=command.reason
        )
    ]


@dataclass(frozen=True)
class SetMediaConsent:
    pupil_id: str
    granted: bool
    by: str
    as_guardian: bool
    """True when a parent acts for themself; False when staff record a paper form."""


def decide_media_consent(state: Pupil, command: SetMediaConsent) -> list[Event]:
    if command.as_guardian and command.by not in state.guardians:
        raise NotAGuardian(f"you are not a guardian of pupil {command.pupil_id}")
    if command.granted and state.in_care and not state.exception:
        raise MediaConsentNeedsException(
            f"pupil {command.pupil_id} is in care: a leader must record an exception first"
        )
    if state.media_granted == command.granted:
        return []
    if command.granted:
        return [MediaConsentGranted(pupil_id=command.pupil_id, granted_by=command.by)]
    return [MediaConsentWithdrawn(pupil_id=command.pupil_id, withdrawn_by=command.by)]


# -- a school's consent policy ---------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    conduct_version: int = 0
    conduct_text: str | None = None
    invite_days: int | None = None
    """None: the service's default lifetime."""


def initial_policy() -> Policy:
    return Policy()


def evolve_policy(state: Policy, event: Event) -> Policy:
    match event:
        case CodeOfConductPublished():
            return replace(state, conduct_version=event.version, conduct_text=event.text)
        case InviteLifetimeSet():
            return replace(state, invite_days=event.days)
        case _:
            return state


def decide_publish_conduct(state: Policy, text: str, published_by: str) -> list[Event]:
    if state.conduct_text == text:
        return []
    return [
        CodeOfConductPublished(
            version=state.conduct_version + 1, text=text, published_by=published_by
        )
    ]


def decide_invite_lifetime(state: Policy, days: int, set_by: str) -> list[Event]:
    if state.invite_days == days:
        return []
    return [InviteLifetimeSet(days=days, set_by=set_by)]


def invite_expiry(now: datetime, days: int) -> datetime:
    return now + timedelta(days=days)


# -- a parent account ------------------------------------------------------------------------


@dataclass(frozen=True)
class Parent:
    suspended: bool = False
    accepted: dict[str, int] = field(default_factory=dict)
    """School id -> newest code-of-conduct version accepted there."""


def initial_parent() -> Parent:
    return Parent()


def evolve_parent(state: Parent, event: Event) -> Parent:
    match event:
        case ParentSuspended():
            return replace(state, suspended=True)
        case ParentSuspensionLifted():
            return replace(state, suspended=False)
        case CodeOfConductAccepted():
            return replace(state, accepted={**state.accepted, event.school_id: event.version})
        case _:
            return state


def decide_suspend(state: Parent, parent_id: str, by: str, reason: str) -> list[Event]:
    if state.suspended:
        return []
    return [ParentSuspended(parent_id=parent_id, suspended_by=by, reason=reason)]


def decide_lift_suspension(state: Parent, parent_id: str, by: str) -> list[Event]:
    if not state.suspended:
        return []
    return [ParentSuspensionLifted(parent_id=parent_id, lifted_by=by)]


@dataclass(frozen=True)
class AcceptCodeOfConduct:
    parent_id: str
    school_id: str
    version: int


def decide_accept_conduct(
    state: Parent, command: AcceptCodeOfConduct, current_version: int
) -> list[Event]:
    if current_version == 0:
        raise NoCodeOfConduct(f"school {command.school_id} has no code of conduct yet")
    if command.version != current_version:
        raise CodeOfConductChanged(
            f"version {command.version} is not the current version ({current_version})",
            current_version=current_version,
        )
    if state.accepted.get(command.school_id) == command.version:
        return []
    return [
        CodeOfConductAccepted(
            parent_id=command.parent_id, school_id=command.school_id, version=command.version
        )
    ]
