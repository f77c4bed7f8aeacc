"""FastAPI dependencies of the consent service: its parts, and who may do what.

Every scope check of the service is here. The rules:

- staff act only within their own school, on pupils the roster says are in it; a pupil of
  another school is "not found", never "forbidden", so ids cannot be probed across schools;
- invites (issuing, listing, reading a code or letter, revoking) are for a class's own
  teachers and assistants, for its pupils, and for the office, leaders and school admin,
  for every pupil of the school; what happened to them is for leaders and school admin;
- a pupil's guardians are for the office, leaders, school admin and the teachers of the
  pupil's class (who talk to those families); whether a pupil is in care only for the
  office, leaders and school admin, who keep the school's safeguarding records. Teaching
  assistants and other teachers see only whether a pupil may appear in media;
- parents act only on their own links, and a suspended parent may not act at all; where
  the school published a code of conduct, a parent who has not accepted its current
  version may only read and accept it and list their own links;
- pupils have nothing to do here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from schoolgate_kit.app import correlation_id
from schoolgate_kit.directory import CodeOfConductNotAccepted
from schoolgate_kit.identity import (
    CLASSROOM_ROLES,
    STAFF_ROLES,
    WHOLE_SCHOOL_ROLES,
    CurrentIdentity,
    Identity,
    Role,
)
from schoolgate_kit.problems import Forbidden, NotFound
from schoolgate_kit.projections import strip
from schoolgate_kit.readmodels import Doc

from schoolgate_consent import handlers
from schoolgate_consent.adapters.private import InviteCode
from schoolgate_consent.bootstrap import Consent
from schoolgate_consent.domain import InviteNotFound
from schoolgate_consent.projections import PUPILS

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
PathId = Annotated[str, Path(pattern=ID_PATTERN)]

INVITERS = CLASSROOM_ROLES | WHOLE_SCHOOL_ROLES
"""Classroom staff for their own classes' pupils, whole-school staff for any pupil."""
LEADERS = frozenset({Role.leader})
OVERSEERS = frozenset({Role.leader, Role.school_admin})
"""Who reads the school's invite activity and guardian notices."""
CARE_READERS = WHOLE_SCHOOL_ROLES
GUARDIAN_READERS = WHOLE_SCHOOL_ROLES | {Role.teacher}
"""Teachers only for pupils of their own classes."""
POLICY_SETTERS = frozenset({Role.leader, Role.school_admin})
OFFICE = frozenset({Role.leader, Role.office, Role.school_admin})
"""Whole-school roles that record paper consent forms and see parents' account state."""


class ParentSuspended(Forbidden):
    slug = "parent-suspended"
    title = "This parent account is suspended"


class PupilNotFound(NotFound):
    slug = "pupil-not-found"
    title = "No such pupil in this school"


class ParentNotFound(NotFound):
    slug = "parent-not-found"
    title = "No such parent in this school"


def _consent(request: Request) -> Consent:
    consent: Consent = request.app.state.consent
    return consent


ConsentDep = Annotated[Consent, Depends(_consent)]


async def _acting_before_conduct(identity: CurrentIdentity, consent: ConsentDep) -> Identity:
    """Anyone who may act here at all: for the few things a parent may do before accepting
    the school's code of conduct (read it, accept it, list their own links, redeem)."""
    if identity.role is Role.pupil:
        raise Forbidden("pupils have nothing to do in consent")
    if identity.role is Role.parent:
        account = await handlers.parent(identity.subject, consent=consent)
        if account["suspended"]:
            raise ParentSuspended(
                "This account is suspended by the school. Please contact the school office."
            )
    return identity


ActingBeforeConduct = Annotated[Identity, Depends(_acting_before_conduct)]


async def _acting(request: Request, identity: ActingBeforeConduct, consent: ConsentDep) -> Identity:
    """Everything else: a parent must have accepted the current code of conduct of the
    school the request is about (the path's, else their token's)."""
    if identity.role is Role.parent:
        school_id = request.path_params.get("school_id", identity.school_id)
        acceptance = await handlers.conduct_acceptance(school_id, identity.subject, consent=consent)
        if acceptance["current_version"] and not acceptance["accepted"]:
            raise CodeOfConductNotAccepted(
                "Please read and accept the school's code of conduct first.",
                school_id=school_id,
            )
    return identity


Acting = Annotated[Identity, Depends(_acting)]


def _staff(identity: Identity, school_id: str, roles: frozenset[Role]) -> Identity:
    if not identity.is_staff or identity.school_id != school_id:
        raise Forbidden("only staff of this school may do that")
    if identity.role not in roles:
        raise Forbidden(f"a {identity.role.value} may not do that")
    return identity


async def _pupil(school_id: str, pupil_id: str, consent: Consent) -> Doc:
    pupil = strip(await consent.readmodels.get(PUPILS, pupil_id))
    if pupil is None or pupil["school_id"] != school_id:
        raise PupilNotFound(f"school {school_id} has no pupil {pupil_id}")
    return pupil


def letters_scope(identity: Identity, school_id: str, class_id: str | None) -> Identity:
    """Letters for a whole class at once: classroom staff for their own classes, whole-school
    staff for any class, or for the whole school."""
    _staff(identity, school_id, INVITERS)
    if identity.role in WHOLE_SCHOOL_ROLES:
        return identity
    if class_id is None:
        raise Forbidden("letters for the whole school come from the office or a leader")
    if class_id not in identity.class_ids:
        raise Forbidden("that class is not one of yours")
    return identity


@dataclass(frozen=True)
class PupilScope:
    identity: Identity
    pupil: Doc
    as_guardian: bool = False


def _class_bound(identity: Identity, pupil: Doc) -> None:
    """Classroom staff only for pupils of their own classes; whole-school staff for all."""
    if identity.role in WHOLE_SCHOOL_ROLES:
        return
    if pupil.get("class_id") not in identity.class_ids:
        raise Forbidden("that pupil is not in one of your classes")


def _pupil_scope(
    roles: frozenset[Role], *, own_class: bool = False
) -> Callable[..., Awaitable[PupilScope]]:
    """Staff with ``roles`` of the school, on a pupil of it; with ``own_class``, classroom
    staff only on pupils of their own classes."""

    async def scope(
        school_id: PathId, pupil_id: PathId, identity: Acting, consent: ConsentDep
    ) -> PupilScope:
        _staff(identity, school_id, roles)
        pupil = await _pupil(school_id, pupil_id, consent)
        if own_class:
            _class_bound(identity, pupil)
        return PupilScope(identity, pupil)

    return scope


def _school_scope(roles: frozenset[Role]) -> Callable[..., Awaitable[Identity]]:
    async def scope(school_id: PathId, identity: Acting) -> Identity:
        return _staff(identity, school_id, roles)

    return scope


async def _media_setter(
    school_id: PathId, pupil_id: PathId, identity: Acting, consent: ConsentDep
) -> PupilScope:
    if identity.role is Role.parent:
        linked = await handlers.linked_parent(pupil_id, identity.subject, consent=consent)
        pupil = strip(await consent.readmodels.get(PUPILS, pupil_id))
        if not linked or pupil is None or pupil["school_id"] != school_id:
            raise Forbidden("only the pupil's guardians may do that")
        return PupilScope(identity, pupil, as_guardian=True)
    _staff(identity, school_id, OFFICE)
    return PupilScope(identity, await _pupil(school_id, pupil_id, consent))


@dataclass(frozen=True)
class InviteScope:
    identity: Identity
    invite: InviteCode


async def _invite_manager(
    school_id: PathId, invite_id: PathId, identity: Acting, consent: ConsentDep
) -> InviteScope:
    _staff(identity, school_id, INVITERS)
    invite = await consent.private.by_invite(invite_id)
    if invite is None or invite.school_id != school_id:
        raise InviteNotFound(f"school {school_id} has no invite {invite_id}")
    pupil = strip(await consent.readmodels.get(PUPILS, invite.pupil_id))
    # whoever may read a code could hand it to anyone: the same people who may issue it
    _class_bound(identity, pupil or {})
    return InviteScope(identity, invite)


async def _parent_before_conduct(identity: ActingBeforeConduct) -> Identity:
    if identity.role is not Role.parent:
        raise Forbidden("only parents may do that")
    return identity


async def _parent(identity: Acting) -> Identity:
    return await _parent_before_conduct(identity)


ParentBeforeConduct = Annotated[Identity, Depends(_parent_before_conduct)]
ParentIdentity = Annotated[Identity, Depends(_parent)]


async def _school_parent(
    school_id: PathId, identity: ParentBeforeConduct, consent: ConsentDep
) -> Identity:
    if identity.school_id == school_id or await handlers.parent_known_in_school(
        identity.subject, school_id, consent=consent
    ):
        return identity
    raise Forbidden("you are not a parent at this school")


async def _conduct_reader(
    school_id: PathId, identity: ActingBeforeConduct, consent: ConsentDep
) -> Identity:
    if identity.role is Role.parent:
        return await _school_parent(school_id, identity, consent)
    return _staff(identity, school_id, STAFF_ROLES)


def _parent_scope(
    roles: frozenset[Role], *, self_too: bool = False
) -> Callable[..., Awaitable[Identity]]:
    """Staff with ``roles`` looking at a parent of their school (or the parent themself)."""

    async def scope(
        school_id: PathId, parent_id: PathId, identity: ActingBeforeConduct, consent: ConsentDep
    ) -> Identity:
        if self_too and identity.role is Role.parent and identity.subject == parent_id:
            return await _school_parent(school_id, identity, consent)
        _staff(identity, school_id, roles)
        if not await handlers.parent_known_in_school(parent_id, school_id, consent=consent):
            raise ParentNotFound(f"school {school_id} has no parent {parent_id}")
        return identity

    return scope


def shown_media(identity: Identity, media: Doc) -> Doc:
    """A pupil's media consent as this member of staff may see it: whether the pupil is in
    care (and has a leader's exception) only for those who keep safeguarding records.

    The others see only whether the pupil may appear: the family's choice beside it would
    tell them the rest (given, yet not shown, is a pupil in care)."""
    if identity.role in CARE_READERS:
        return media
    return {**media, "granted": None, "in_care": None, "exception": None}


def client_address(request: Request) -> str:
    """The browser's address as the gateway forwarded it, else the caller's own."""
    forwarded = request.headers.get("x-forwarded-for", "")
    first = forwarded.split(",")[0].strip()
    if first:
        return first[:64]
    return request.client.host if request.client else "unknown"


CorrelationId = Annotated[str, Depends(correlation_id)]
Address = Annotated[str, Depends(client_address)]
Inviter = Annotated[PupilScope, Depends(_pupil_scope(INVITERS, own_class=True))]
GuardianReader = Annotated[PupilScope, Depends(_pupil_scope(GUARDIAN_READERS, own_class=True))]
InviteManager = Annotated[InviteScope, Depends(_invite_manager)]
PupilStaff = Annotated[PupilScope, Depends(_pupil_scope(STAFF_ROLES))]
PupilLeader = Annotated[PupilScope, Depends(_pupil_scope(LEADERS))]
MediaSetter = Annotated[PupilScope, Depends(_media_setter)]
SchoolStaff = Annotated[Identity, Depends(_school_scope(STAFF_ROLES))]
SchoolLeader = Annotated[Identity, Depends(_school_scope(LEADERS))]
SchoolOverseer = Annotated[Identity, Depends(_school_scope(OVERSEERS))]
PolicySetter = Annotated[Identity, Depends(_school_scope(POLICY_SETTERS))]
SchoolParent = Annotated[Identity, Depends(_school_parent)]
ConductReader = Annotated[Identity, Depends(_conduct_reader)]
ParentLeader = Annotated[Identity, Depends(_parent_scope(LEADERS))]
ParentOffice = Annotated[Identity, Depends(_parent_scope(OFFICE))]
AcceptanceReader = Annotated[Identity, Depends(_parent_scope(STAFF_ROLES, self_too=True))]
