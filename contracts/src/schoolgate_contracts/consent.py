"""Events owned by the consent service: invites, guardianship, media consent, conduct, suspension.

Everything about one pupil (invites for their parents, who their guardians are, requests for
a third guardian, care status and media consent) lives in that pupil's one guardianship
stream, so the limit of two guardians and the single use of an invite hold under concurrency.
A school's code of conduct and invite policy live in its consent-policy stream; a parent
account's suspensions and code-of-conduct acceptances in that parent's stream. The school is
named in each event's metadata (``school_id``).

Invite codes are secrets and never appear here: events carry only the invite id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from schoolgate_contracts.base import Event
from schoolgate_contracts.privacy import Id, Personal, SchoolText
from schoolgate_contracts.registry import registry

ReasonAboutParent = Annotated[str, Personal("parent_id")]
ReasonAboutPupil = Annotated[str, Personal("pupil_id")]


class _Consent(Event):
    service = "consent"


# -- invites and guardianship (stream guardianship-{pupil_id}) ------------------------------


@registry.register
class ParentInviteIssued(_Consent):
    """Staff issued a single-use invite for a parent to join as one of a pupil's guardians."""

    event_type = "ParentInviteIssued"
    invite_id: Id
    pupil_id: Id
    issued_by: Id
    expires_at: datetime


@registry.register
class ParentInviteRevoked(_Consent):
    event_type = "ParentInviteRevoked"
    invite_id: Id
    pupil_id: Id
    revoked_by: Id


@registry.register
class InviteLetterPrinted(_Consent):
    """Someone on the staff read an open invite's code (its printable letter), so whoever
    later redeems it can be traced back to who could have handed it over. The code itself
    is never recorded."""

    event_type = "InviteLetterPrinted"
    invite_id: Id
    pupil_id: Id
    printed_by: Id


@registry.register
class GuardianLinked(_Consent):
    """A parent account is now one of the pupil's guardians.

    ``approved_by`` names the leader who approved a request beyond the usual two guardians;
    it is None when the invite alone was enough.
    """

    event_type = "GuardianLinked"
    pupil_id: Id
    parent_id: Id
    invite_id: Id
    approved_by: Id | None = None


RequestCause = Literal["guardian_limit", "staff_account"]
"""Why a leader must decide: the pupil already has two guardians, or the redeeming account's
email belongs to a member of staff (who could otherwise print a code and link themself)."""


@registry.register
class GuardianRequested(_Consent):
    """A parent redeemed a valid invite but a leader decides whether they become a guardian.
    The request id is the invite's id."""

    event_type = "GuardianRequested"
    schema_version = 2
    request_id: Id
    pupil_id: Id
    parent_id: Id
    invite_id: Id
    because: RequestCause = "guardian_limit"


@registry.register
class GuardianRequestApproved(_Consent):
    """A leader approved a request for a further guardian (followed by ``GuardianLinked``)."""

    event_type = "GuardianRequestApproved"
    request_id: Id
    pupil_id: Id
    parent_id: Id
    decided_by: Id
    reason: ReasonAboutParent = Field(min_length=1, max_length=2000)


@registry.register
class GuardianRequestRejected(_Consent):
    event_type = "GuardianRequestRejected"
    request_id: Id
    pupil_id: Id
    parent_id: Id
    decided_by: Id
    reason: ReasonAboutParent = Field(min_length=1, max_length=2000)


# -- care status and media consent (stream guardianship-{pupil_id}) -------------------------


@registry.register
class PupilCareStatusRecorded(_Consent):
    """A leader recorded whether the pupil is in local-authority care.

    Recording ``in_care=True`` clears any earlier media exception: a new placement needs a
    new decision.
    """

    event_type = "PupilCareStatusRecorded"
    pupil_id: Id
    in_care: Annotated[bool, Personal("pupil_id", removed=False)]
    recorded_by: Id


@registry.register
class MediaConsentExceptionRecorded(_Consent):
    """A leader recorded that a pupil in care may have media consent (e.g. the local
    authority agreed). Without it, a pupil in care never appears in media."""

    event_type = "MediaConsentExceptionRecorded"
    pupil_id: Id
    recorded_by: Id
    reason: ReasonAboutPupil = Field(min_length=1, max_length=2000)


@registry.register
class MediaConsentGranted(_Consent):
    event_type = "MediaConsentGranted"
    pupil_id: Id
    granted_by: Id


@registry.register
class MediaConsentWithdrawn(_Consent):
    event_type = "MediaConsentWithdrawn"
    pupil_id: Id
    withdrawn_by: Id


# -- school policy (stream consentpolicy-{school_id}) ---------------------------------------


@registry.register
class CodeOfConductPublished(_Consent):
    """The school published a new version of its code of conduct; versions count from 1."""

    event_type = "CodeOfConductPublished"
    version: int = Field(ge=1)
    text: SchoolText = Field(min_length=1, max_length=20_000)
    published_by: Id


@registry.register
class InviteLifetimeSet(_Consent):
    """How many days the school's parent invites stay valid (14 unless set)."""

    event_type = "InviteLifetimeSet"
    days: int = Field(ge=1, le=90)
    set_by: Id


# -- parent accounts (stream parent-{parent_id}) --------------------------------------------


@registry.register
class CodeOfConductAccepted(_Consent):
    event_type = "CodeOfConductAccepted"
    parent_id: Id
    school_id: Id
    version: int = Field(ge=1)


@registry.register
class ParentSuspended(_Consent):
    """A leader suspended a parent account: it may not act in Schoolgate until lifted."""

    event_type = "ParentSuspended"
    parent_id: Id
    suspended_by: Id
    reason: ReasonAboutParent = Field(min_length=1, max_length=2000)


@registry.register
class ParentSuspensionLifted(_Consent):
    event_type = "ParentSuspensionLifted"
    parent_id: Id
    lifted_by: Id


@registry.register
class GuardianRemoved(_Consent):
    """A parent is no longer one of the pupil's guardians: they closed their account (stream
    guardianship-{pupil_id})."""

    event_type = "GuardianRemoved"
    pupil_id: Id
    parent_id: Id
    because: Literal["account_closed"] = "account_closed"


@registry.register
class ParentAccountClosed(_Consent):
    """A parent closed their account: their key was destroyed, so what they wrote and what
    was written about them reads as removed. This record holds nothing but their id (stream
    closures-{school_id}, one per school they were a parent at)."""

    event_type = "ParentAccountClosed"
    parent_id: Id


@registry.upcaster("GuardianRequested", from_version=1)
def _guardianrequested_v2(data: dict[str, Any]) -> dict[str, Any]:
    # before v2 the only reason for a request was a pupil's third guardian
    return {**data, "because": "guardian_limit"}
