"""FastAPI dependencies of the roster service: its parts, and who may see or change what.

Every scope check of the service is here. Writes are for the school's leaders and school
admins, but a pupil's picture is also the pupil's own and their class's staff's to choose;
the directory is for its staff; a parent sees their own children (and the names their
children's classes see); a pupil sees themselves; another school sees nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from schoolgate_kit.app import correlation_id
from schoolgate_kit.identity import CLASSROOM_ROLES, CurrentIdentity, Identity, Role
from schoolgate_kit.problems import Forbidden

from schoolgate_roster import handlers
from schoolgate_roster.bootstrap import Roster
from schoolgate_roster.projections import PUPILS, entry_key

WRITER_ROLES = frozenset({Role.leader, Role.school_admin})


def _roster(request: Request) -> Roster:
    roster: Roster = request.app.state.roster
    return roster


RosterDep = Annotated[Roster, Depends(_roster)]


def _member(school_id: str, identity: CurrentIdentity) -> Identity:
    """Anyone of this school: its staff, its parents and its pupils."""
    if identity.school_id != school_id:
        raise Forbidden("that is another school")
    return identity


def _staff(school_id: str, identity: CurrentIdentity) -> Identity:
    identity = _member(school_id, identity)
    if not identity.is_staff:
        raise Forbidden("the school directory is for staff")
    return identity


def _writer(school_id: str, identity: CurrentIdentity) -> Identity:
    identity = _member(school_id, identity)
    if identity.role not in WRITER_ROLES:
        raise Forbidden("only the school's leaders and admins change its roster")
    return identity


def _pupil_reader(school_id: str, pupil_id: str, identity: CurrentIdentity) -> Identity:
    identity = _member(school_id, identity)
    if identity.is_staff:
        return identity
    if identity.role is Role.parent and pupil_id in identity.pupil_ids:
        return identity
    if identity.role is Role.pupil and identity.subject == pupil_id:
        return identity
    raise Forbidden("that pupil is not yours to see")


async def _class_reader(
    school_id: str, class_id: str, identity: CurrentIdentity, roster: RosterDep
) -> Identity:
    """Staff see a class's pupils; a parent sees the names in a class their child is in."""
    identity = _member(school_id, identity)
    if identity.is_staff:
        return identity
    if identity.role is Role.parent and await handlers.is_childs_class(
        school_id, class_id, identity.pupil_ids, roster=roster
    ):
        return identity
    raise Forbidden("that class is not yours to see")


async def _avatar_chooser(
    school_id: str, pupil_id: str, identity: CurrentIdentity, roster: RosterDep
) -> Identity:
    """The pupil themself, a teacher or assistant of the pupil's class, or a leader."""
    identity = _member(school_id, identity)
    if identity.role in WRITER_ROLES:
        return identity
    if identity.role is Role.pupil and identity.subject == pupil_id:
        return identity
    if identity.role in CLASSROOM_ROLES:
        pupil = await roster.readmodels.get(PUPILS, entry_key(school_id, pupil_id))
        if pupil is not None and pupil["class_id"] in identity.class_ids:
            return identity
    raise Forbidden("only the pupil, their class's staff and leaders choose their picture")


Member = Annotated[Identity, Depends(_member)]
Staff = Annotated[Identity, Depends(_staff)]
Writer = Annotated[Identity, Depends(_writer)]
PupilReader = Annotated[Identity, Depends(_pupil_reader)]
ClassReader = Annotated[Identity, Depends(_class_reader)]
AvatarChooser = Annotated[Identity, Depends(_avatar_chooser)]
CorrelationId = Annotated[str, Depends(correlation_id)]
