"""FastAPI dependencies of the points service: its parts, and who may do what.

Before any of these, every identity passes ``conduct_gate``: a parent who has not accepted
the school's current code of conduct may do nothing here (the consent service is where
they read and accept it).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from schoolgate_kit.app import correlation_id
from schoolgate_kit.directory import conduct_gate as _conduct_gate
from schoolgate_kit.identity import CLASSROOM_ROLES, CurrentIdentity, Identity, Role
from schoolgate_kit.problems import Forbidden, NotFound
from schoolgate_kit.readmodels import ReadModelStore

from schoolgate_points.bootstrap import Points
from schoolgate_points.projections import PUPILS, SCHOOLS

CONDUCT = "points.conduct"
"""The directory's code-of-conduct read model, as points keeps it."""


async def _points(request: Request) -> Points:
    points: Points = request.app.state.points
    return points


def _readmodels(request: Request) -> ReadModelStore:
    points: Points = request.app.state.points
    return points.readmodels


conduct_gate = _conduct_gate(CONDUCT, _readmodels)


def _check_school(school_id: str, identity: Identity) -> Identity:
    if identity.school_id != school_id:
        raise Forbidden("that is another school")
    return identity


async def _awarder(school_id: str, identity: CurrentIdentity) -> Identity:
    identity = _check_school(school_id, identity)
    if identity.role not in CLASSROOM_ROLES | {Role.leader}:
        raise Forbidden("only teachers, teaching assistants and leaders award points")
    return identity


async def _pupil_reader(
    school_id: str,
    pupil_id: str,
    identity: CurrentIdentity,
    readmodels: Annotated[ReadModelStore, Depends(_readmodels)],
) -> Identity:
    identity = _check_school(school_id, identity)
    # a pupil is read under their own school's path only: staff name any pupil of theirs,
    # and another school's pupil id (ids are not secrets) is "not here", never their points
    pupil = await readmodels.get(PUPILS, pupil_id)
    if pupil is None or pupil["school_id"] != school_id:
        raise NotFound("there is no such pupil at this school")
    if identity.is_staff:
        return identity
    if identity.role is Role.parent and pupil_id in identity.pupil_ids:
        return identity
    if identity.role is Role.pupil and identity.subject == pupil_id:
        return identity
    raise Forbidden("that pupil's points are not yours to see")


async def _staff(school_id: str, identity: CurrentIdentity) -> Identity:
    identity = _check_school(school_id, identity)
    if not identity.is_staff:
        raise Forbidden("only the school's staff can see this")
    return identity


async def _leader(school_id: str, identity: CurrentIdentity) -> Identity:
    identity = _check_school(school_id, identity)
    if identity.role is not Role.leader:
        raise Forbidden("only a school leader can change this")
    return identity


async def _school_class(
    school_id: str,
    class_id: str,
    readmodels: Annotated[ReadModelStore, Depends(_readmodels)],
) -> str:
    """A class of the school in the path: another school's class id is "not here"."""
    school = await readmodels.get(SCHOOLS, school_id)
    if school is None or class_id not in school.get("classes", {}):
        raise NotFound("there is no such class at this school")
    return class_id


SchoolClass = Annotated[str, Depends(_school_class)]


async def _class_viewer(
    school_id: str, class_id: SchoolClass, identity: CurrentIdentity
) -> Identity:
    """The class screen: the class's own teachers and assistants, leaders, and the class's
    board (a classroom screen the teacher paired with a board code)."""
    identity = _check_school(school_id, identity)
    if identity.role is Role.leader:
        return identity
    if identity.role in CLASSROOM_ROLES | {Role.board} and class_id in identity.class_ids:
        return identity
    raise Forbidden("that is not one of your classes")


async def _reporter(school_id: str, class_id: SchoolClass, identity: CurrentIdentity) -> Identity:
    """Reports by pupil are for the class's teachers and for leaders."""
    identity = _check_school(school_id, identity)
    if identity.role is Role.leader:
        return identity
    if identity.role is Role.teacher and class_id in identity.class_ids:
        return identity
    raise Forbidden("reports are for the class's teachers and the school's leaders")


def require_class(identity: Identity, class_id: str | None) -> None:
    """Leaders award anywhere in their school; teachers and TAs only in their classes."""
    if identity.role is Role.leader:
        return
    if class_id is None or class_id not in identity.class_ids:
        raise Forbidden("you can award points only in your own classes")


PointsDep = Annotated[Points, Depends(_points)]
Awarder = Annotated[Identity, Depends(_awarder)]
PupilReader = Annotated[Identity, Depends(_pupil_reader)]
Staff = Annotated[Identity, Depends(_staff)]
Leader = Annotated[Identity, Depends(_leader)]
ClassViewer = Annotated[Identity, Depends(_class_viewer)]
Reporter = Annotated[Identity, Depends(_reporter)]
CorrelationId = Annotated[str, Depends(correlation_id)]
