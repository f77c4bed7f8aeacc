"""Read models of the consent service.

``consent.media`` is the one other services rely on: per pupil, whether they may appear in
photos, stories and portfolios. A pupil without a document has no consent.

``consent.invite_activity`` and ``consent.notices`` are what leaders and families are told:
who issued, printed, revoked and redeemed each invite, and who became a child's guardian.
"""

from __future__ import annotations

from schoolgate_contracts import RecordedEvent
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
    ParentAccountClosed,
    ParentInviteIssued,
    ParentInviteRevoked,
    ParentSuspended,
    ParentSuspensionLifted,
)
from schoolgate_contracts.privacy import REMOVED
from schoolgate_kit.directory import media_consent_projection, pupils_projection
from schoolgate_kit.projections import Projection
from schoolgate_kit.readmodels import Doc

PUPILS = "consent.pupils"
LINKS = "consent.links"
INVITES = "consent.invites"
MEDIA = "consent.media"
POLICIES = "consent.policies"
PARENTS = "consent.parents"
ACTIVITY = "consent.invite_activity"
NOTICES = "consent.notices"


def link_key(pupil_id: str, parent_id: str) -> str:
    return f"{pupil_id}:{parent_id}"


def _when(recorded: RecordedEvent) -> str:
    return recorded.metadata.occurred_at.isoformat()


# -- consent.pupils: the roster facts scope checks need --------------------------------------

pupils = pupils_projection(PUPILS)


# -- consent.links: one document per pupil and parent ----------------------------------------

LinkEvent = (
    GuardianLinked
    | GuardianRequested
    | GuardianRequestApproved
    | GuardianRequestRejected
    | GuardianRemoved
)


def _link_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, LinkEvent)
    return link_key(event.pupil_id, event.parent_id)


def _link(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    assert isinstance(event, LinkEvent)
    base = doc or {
        "pupil_id": event.pupil_id,
        "parent_id": event.parent_id,
        "school_id": recorded.metadata.school_id,
        "request_id": None,
        "decided_by": None,
        "reason": None,
        "because": None,
    }
    match event:
        case GuardianLinked():
            return {**base, "status": "linked", "since": _when(recorded)}
        case GuardianRequested():
            return {
                **base,
                "status": "pending",
                "since": _when(recorded),
                "request_id": event.request_id,
                "decided_by": None,
                "reason": None,
                "because": event.because,
            }
        case GuardianRequestApproved():
            return {**base, "decided_by": event.decided_by, "reason": event.reason}
        case GuardianRequestRejected():
            return {
                **base,
                "status": "rejected",
                "since": _when(recorded),
                "decided_by": event.decided_by,
                "reason": event.reason,
            }
        case GuardianRemoved():
            # they closed their account: the link ends, and nothing they were asked is kept
            reason = None if base["reason"] is None else REMOVED
            return {**base, "status": "removed", "since": _when(recorded), "reason": reason}
    raise AssertionError(f"unhandled {event.event_type}")


links = Projection(
    name=LINKS,
    handles=(
        GuardianLinked,
        GuardianRequested,
        GuardianRequestApproved,
        GuardianRequestRejected,
        GuardianRemoved,
    ),
    key=_link_key,
    evolve=_link,
    version=2,  # requests say why they wait for a leader
)


# -- consent.invites: what staff see of invites (never the code) -----------------------------

InviteEvent = ParentInviteIssued | ParentInviteRevoked | GuardianLinked | GuardianRequested


def _invite_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, InviteEvent)
    return event.invite_id


def _invite(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    match event:
        case ParentInviteIssued():
            return {
                "invite_id": event.invite_id,
                "pupil_id": event.pupil_id,
                "school_id": recorded.metadata.school_id,
                "issued_by": event.issued_by,
                "issued_at": _when(recorded),
                "expires_at": event.expires_at.isoformat(),
                "status": "open",
                "used_by": None,
            }
        case ParentInviteRevoked() if doc is not None:
            return {**doc, "status": "revoked"}
        case GuardianLinked() | GuardianRequested() if doc is not None:
            if doc["status"] == "used":
                return doc  # an approval links again with the same invite
            return {**doc, "status": "used", "used_by": event.parent_id}
        case _:
            return doc


invites = Projection(
    name=INVITES,
    handles=(ParentInviteIssued, ParentInviteRevoked, GuardianLinked, GuardianRequested),
    key=_invite_key,
    evolve=_invite,
)


# -- consent.media: may pupil P appear in media? ---------------------------------------------

media = media_consent_projection(MEDIA)


# -- consent.policies: per school --------------------------------------------------------------


def _policy_key(recorded: RecordedEvent) -> str:
    return recorded.metadata.school_id


def _policy(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    doc = dict(
        doc
        or {
            "school_id": recorded.metadata.school_id,
            "conduct_version": 0,
            "conduct_text": None,
            "conduct_published_at": None,
            "invite_lifetime_days": None,
        }
    )
    match event:
        case CodeOfConductPublished():
            doc.update(
                conduct_version=event.version,
                conduct_text=event.text,
                conduct_published_at=_when(recorded),
            )
        case InviteLifetimeSet():
            doc.update(invite_lifetime_days=event.days)
    return doc


policies = Projection(
    name=POLICIES,
    handles=(CodeOfConductPublished, InviteLifetimeSet),
    key=_policy_key,
    evolve=_policy,
)


# -- consent.parents: suspension and acceptances per parent account ------------------------

ParentEvent = ParentSuspended | ParentSuspensionLifted | CodeOfConductAccepted | ParentAccountClosed


def _parent_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, ParentEvent)
    return event.parent_id


def not_suspended(parent_id: str) -> Doc:
    return {
        "parent_id": parent_id,
        "suspended": False,
        "suspended_by": None,
        "reason": None,
        "since": None,
        "accepted": {},
    }


def _parent(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    assert isinstance(event, ParentEvent)
    doc = dict(doc or not_suspended(event.parent_id))
    match event:
        case ParentSuspended():
            doc.update(
                suspended=True,
                suspended_by=event.suspended_by,
                reason=event.reason,
                since=_when(recorded),
            )
        case ParentSuspensionLifted():
            doc.update(suspended=False, suspended_by=None, reason=None, since=None)
        case CodeOfConductAccepted():
            doc["accepted"] = {**doc["accepted"], event.school_id: event.version}
        case ParentAccountClosed():
            doc.update(closed=True, reason=None if doc["reason"] is None else REMOVED)
    return doc


parents = Projection(
    name=PARENTS,
    handles=(ParentSuspended, ParentSuspensionLifted, CodeOfConductAccepted, ParentAccountClosed),
    key=_parent_key,
    evolve=_parent,
)

# -- consent.invite_activity: every issue, print, revocation, redemption and decision ------

ActivityEvent = (
    ParentInviteIssued
    | InviteLetterPrinted
    | ParentInviteRevoked
    | GuardianLinked
    | GuardianRequested
    | GuardianRequestApproved
    | GuardianRequestRejected
    | GuardianRemoved
)


def _activity_key(recorded: RecordedEvent) -> str:
    return str(recorded.event_id)


def _activity(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    assert isinstance(event, ActivityEvent)
    entry: Doc = {
        "school_id": recorded.metadata.school_id,
        "seq": recorded.position,
        "at": _when(recorded),
        "pupil_id": event.pupil_id,
        "because": None,
    }
    match event:
        case ParentInviteIssued():
            entry.update(kind="issued", invite_id=event.invite_id, by=event.issued_by)
        case InviteLetterPrinted():
            entry.update(kind="printed", invite_id=event.invite_id, by=event.printed_by)
        case ParentInviteRevoked():
            entry.update(kind="revoked", invite_id=event.invite_id, by=event.revoked_by)
        case GuardianLinked() if event.approved_by is not None:
            # the approval's own entry names the leader; this one says the parent is linked
            entry.update(
                kind="linked-after-approval", invite_id=event.invite_id, by=event.parent_id
            )
        case GuardianLinked():
            entry.update(kind="redeemed-linked", invite_id=event.invite_id, by=event.parent_id)
        case GuardianRequested():
            entry.update(
                kind="redeemed-pending",
                invite_id=event.invite_id,
                by=event.parent_id,
                because=event.because,
            )
        case GuardianRequestApproved() | GuardianRequestRejected():
            approved = isinstance(event, GuardianRequestApproved)
            entry.update(
                kind="request-approved" if approved else "request-rejected",
                invite_id=event.request_id,
                by=event.decided_by,
                parent_id=event.parent_id,
            )
        case GuardianRemoved():
            entry.update(kind="account-closed", invite_id=None, by=event.parent_id)
    if isinstance(event, GuardianLinked | GuardianRequested | GuardianRemoved):
        entry["parent_id"] = event.parent_id
    entry.setdefault("parent_id", None)
    return entry


invite_activity = Projection(
    name=ACTIVITY,
    handles=(
        ParentInviteIssued,
        InviteLetterPrinted,
        ParentInviteRevoked,
        GuardianLinked,
        GuardianRequested,
        GuardianRequestApproved,
        GuardianRequestRejected,
        GuardianRemoved,
    ),
    key=_activity_key,
    evolve=_activity,
    indexes=(("school_id", "seq"),),
)


# -- consent.notices: a new guardian is news to the child's other guardians and leaders ------
#
# One document per pupil remembers its guardians and every link; the notices are derived
# from it, one per recipient, so a rebuild writes exactly the same ones again.


def notice_key(audience: str, who: str, event_id: str) -> str:
    return f"{audience}:{who}:{event_id}"


def _notices_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, GuardianLinked)
    return event.pupil_id


def _notices(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    assert isinstance(event, GuardianLinked)
    doc = doc or {
        "pupil_id": event.pupil_id,
        "school_id": recorded.metadata.school_id,
        "guardians": [],
        "links": [],
    }
    link = {
        "notice_id": str(recorded.event_id),
        "seq": recorded.position,
        "at": _when(recorded),
        "parent_id": event.parent_id,
        "approved_by": event.approved_by,
        "told": [g for g in doc["guardians"] if g != event.parent_id],
    }
    return {
        **doc,
        "guardians": [*doc["guardians"], event.parent_id],
        "links": [*doc["links"], link],
    }


def _notice_docs(key: str, doc: Doc) -> dict[str, Doc]:
    notices: dict[str, Doc] = {}
    for link in doc["links"]:
        notice = {
            "kind": "guardian-linked",
            "notice_id": link["notice_id"],
            "seq": link["seq"],
            "at": link["at"],
            "school_id": doc["school_id"],
            "pupil_id": doc["pupil_id"],
            "parent_id": link["parent_id"],
            "approved_by": link["approved_by"],
        }
        school_key = notice_key("school", doc["school_id"], link["notice_id"])
        notices[school_key] = {**notice, "audience": "school", "recipient": doc["school_id"]}
        for guardian in link["told"]:
            parent_key = notice_key("parent", guardian, link["notice_id"])
            notices[parent_key] = {**notice, "audience": "parent", "recipient": guardian}
    return notices


notices = Projection(
    name=NOTICES,
    handles=(GuardianLinked,),
    key=_notices_key,
    evolve=_notices,
    derive=_notice_docs,
    indexes=(("audience", "recipient", "seq"),),
)

PROJECTIONS = (pupils, links, invites, media, policies, parents, invite_activity, notices)
