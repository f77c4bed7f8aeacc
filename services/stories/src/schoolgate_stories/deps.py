"""FastAPI dependencies of the stories service: its parts, and who may do what.

Every scope check of the service is here. The rules:

- everyone acts only within the school of their identity token;
- posts: teachers and teaching assistants post to their own classes; a year-group post is
  for a teacher with a class in that year group, or a leader; a whole-school post is for
  leaders only. The author or a leader edits or deletes a post. Office and admin staff
  read posts but do not write them;
- staff of the school read every post; a family reads a post once it is visible, and only
  when one of their children is in its audience; anyone else is told it is not there;
- likes are for such families; comments (when a leader turned them on) for them and staff;
- portfolio: a pupil submits their own work; the class's teachers and teaching assistants,
  and leaders, review it; the pupil sees all their items, their parents the approved ones,
  staff all (teachers and assistants those of their classes);
- home learning is set by the class's teacher or a leader; the class's staff, its pupils
  and their parents read it; the class's staff see who handed it in;
- media: staff and pupils upload; the bytes go to staff of the school, the uploader and
  families who may see a post or approved portfolio item that holds them, unless consent
  hides them; a pupil gets only what they uploaded themself (their portfolio's), never a
  post's photo, since pupils do not read posts; everyone else gets 404, so media ids
  cannot be probed;
- before any of this, every identity passes ``conduct_gate``: a parent who has not
  accepted the school's current code of conduct may do nothing here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request
from schoolgate_contracts.stories import Audience
from schoolgate_kit.app import correlation_id
from schoolgate_kit.directory import conduct_gate as _conduct_gate
from schoolgate_kit.identity import (
    CLASSROOM_ROLES,
    STAFF_ROLES,
    WHOLE_SCHOOL_ROLES,
    CurrentIdentity,
    Identity,
    Role,
)
from schoolgate_kit.problems import Forbidden, NotFound
from schoolgate_kit.readmodels import Doc, ReadModelStore

from schoolgate_stories import handlers
from schoolgate_stories.bootstrap import Stories
from schoolgate_stories.handlers import View

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
PathId = Annotated[str, Path(pattern=ID_PATTERN)]
WRITERS = CLASSROOM_ROLES | {Role.leader}
"""Who writes posts, reviews portfolios and sets home learning (each within their scope)."""


class PupilNotFound(NotFound):
    slug = "pupil-not-found"
    title = "No such pupil in this school"


CONDUCT = "stories.conduct"
"""The directory's code-of-conduct read model, as stories keeps it."""


async def _stories(request: Request) -> Stories:
    stories: Stories = request.app.state.stories
    return stories


def _readmodels(request: Request) -> ReadModelStore:
    stories: Stories = request.app.state.stories
    return stories.readmodels


conduct_gate = _conduct_gate(CONDUCT, _readmodels)


StoriesDep = Annotated[Stories, Depends(_stories)]


def _check_school(school_id: str, identity: Identity) -> Identity:
    if identity.school_id != school_id:
        raise Forbidden("that is another school")
    return identity


def _class_staff(identity: Identity, class_id: str, *, whole_school: frozenset[Role]) -> bool:
    return (identity.role in CLASSROOM_ROLES and class_id in identity.class_ids) or (
        identity.role in whole_school
    )


async def _member(school_id: PathId, identity: CurrentIdentity) -> Identity:
    return _check_school(school_id, identity)


async def _staff(school_id: PathId, identity: CurrentIdentity) -> Identity:
    identity = _check_school(school_id, identity)
    if not identity.is_staff:
        raise Forbidden("only the school's staff can see this")
    return identity


async def _leader(school_id: PathId, identity: CurrentIdentity) -> Identity:
    identity = _check_school(school_id, identity)
    if identity.role is not Role.leader:
        raise Forbidden("only a school leader can change this")
    return identity


async def _writer(school_id: PathId, identity: CurrentIdentity) -> Identity:
    identity = _check_school(school_id, identity)
    if identity.role not in WRITERS:
        raise Forbidden("only teachers, teaching assistants and leaders write posts")
    return identity


def may_post_to(identity: Identity, audience: Audience, facts: Doc) -> None:
    """Teachers and assistants to their own classes; a year group for a teacher with a class
    in it; the whole school for leaders. Leaders post to any audience of their school."""
    if identity.role is Role.leader:
        return
    match audience.kind:
        case "classes":
            if not set(audience.class_ids) <= identity.class_ids:
                raise Forbidden("you can post only to your own classes")
        case "year_group":
            years = {facts["class_year_groups"].get(c) for c in identity.class_ids}
            if identity.role is not Role.teacher or audience.year_group_id not in years:
                raise Forbidden("a year-group post is for its classes' teachers and leaders")
        case "school":
            raise Forbidden("only leaders post to the whole school")


def may_set_task(identity: Identity, class_id: str) -> None:
    if identity.role is Role.leader:
        return
    if identity.role is not Role.teacher or class_id not in identity.class_ids:
        raise Forbidden("home learning is set by the class's teacher")


async def _media_reader(identity: CurrentIdentity) -> Identity:
    """A pupil reads media as themself, never as a family: the gateway names a pupil among
    their own ``pupil_ids``, which would otherwise open every post their class can see."""
    if identity.role is Role.pupil:
        return identity.model_copy(update={"pupil_ids": frozenset()})
    return identity


async def _uploader(school_id: PathId, identity: CurrentIdentity, stories: StoriesDep) -> Identity:
    identity = _check_school(school_id, identity)
    if identity.is_staff:
        return identity
    if identity.role is Role.pupil and await handlers.pupil(
        identity.subject, school_id, stories=stories
    ):
        return identity
    raise Forbidden("only staff, and pupils for their portfolio, upload media")


@dataclass(frozen=True)
class PupilActor:
    identity: Identity
    pupil: Doc


async def _pupil(school_id: PathId, identity: CurrentIdentity, stories: StoriesDep) -> PupilActor:
    identity = _check_school(school_id, identity)
    if identity.role is not Role.pupil:
        raise Forbidden("only pupils add to their portfolio")
    found = await handlers.pupil(identity.subject, school_id, stories=stories)
    if found is None:
        raise Forbidden("you are not a pupil of this school")
    return PupilActor(identity, found)


@dataclass(frozen=True)
class PostScope:
    identity: Identity
    post: Doc
    view: View


async def _post_reader(
    school_id: PathId, post_id: PathId, identity: CurrentIdentity, stories: StoriesDep
) -> PostScope:
    identity = _check_school(school_id, identity)
    post = await handlers.post_doc(post_id, school_id, stories=stories)
    if identity.is_staff:
        return PostScope(identity, post, "staff")
    if identity.role is Role.parent:
        children = await handlers.pupils(identity.pupil_ids, school_id, stories=stories)
        if await handlers.family_may_see(post, children, stories=stories):
            return PostScope(identity, post, "family")
    raise NotFound(f"There is no post {post_id}.")


async def _liker(scope: Annotated[PostScope, Depends(_post_reader)]) -> PostScope:
    if scope.identity.role is not Role.parent:
        raise Forbidden("likes are for the families a post is for")
    return scope


async def _class_reviewer(
    school_id: PathId, class_id: PathId, identity: CurrentIdentity
) -> Identity:
    """The class's teachers and assistants, and leaders: they review the class's work."""
    identity = _check_school(school_id, identity)
    if not _class_staff(identity, class_id, whole_school=frozenset({Role.leader})):
        raise Forbidden("that is not one of your classes")
    return identity


def may_review(identity: Identity, class_id: str | None) -> None:
    if class_id is None or not _class_staff(
        identity, class_id, whole_school=frozenset({Role.leader})
    ):
        raise Forbidden("work is reviewed by the class's teachers and leaders")


async def _reviewer(school_id: PathId, identity: CurrentIdentity) -> Identity:
    identity = _check_school(school_id, identity)
    if identity.role not in WRITERS:
        raise Forbidden("work is reviewed by the class's teachers and leaders")
    return identity


async def _class_member(
    school_id: PathId, class_id: PathId, identity: CurrentIdentity, stories: StoriesDep
) -> Identity:
    """The class's staff (and whole-school staff), its pupils, and their parents."""
    identity = _check_school(school_id, identity)
    if _class_staff(identity, class_id, whole_school=WHOLE_SCHOOL_ROLES):
        return identity
    if identity.role is Role.pupil:
        me = await handlers.pupil(identity.subject, school_id, stories=stories)
        if me is not None and me["class_id"] == class_id:
            return identity
    if identity.role is Role.parent:
        children = await handlers.pupils(identity.pupil_ids, school_id, stories=stories)
        if any(c["class_id"] == class_id for c in children):
            return identity
    raise Forbidden("that is not your class")


@dataclass(frozen=True)
class PortfolioScope:
    identity: Identity
    pupil: Doc
    view: View


async def _portfolio_reader(
    school_id: PathId, pupil_id: PathId, identity: CurrentIdentity, stories: StoriesDep
) -> PortfolioScope:
    identity = _check_school(school_id, identity)
    found = await handlers.pupil(pupil_id, school_id, stories=stories)
    if found is None:
        raise PupilNotFound(f"school {school_id} has no pupil {pupil_id}")
    if identity.role is Role.pupil and identity.subject == pupil_id:
        return PortfolioScope(identity, found, "own")
    if identity.role is Role.parent and pupil_id in identity.pupil_ids:
        return PortfolioScope(identity, found, "family")
    if identity.role in STAFF_ROLES and _class_staff(
        identity, found["class_id"], whole_school=WHOLE_SCHOOL_ROLES
    ):
        return PortfolioScope(identity, found, "staff")
    raise Forbidden("that pupil's portfolio is not yours to see")


async def _task_staff(
    school_id: PathId, task_id: PathId, identity: CurrentIdentity, stories: StoriesDep
) -> Doc:
    identity = _check_school(school_id, identity)
    task = await handlers.task_doc(task_id, school_id, stories=stories)
    if not _class_staff(identity, task["class_id"], whole_school=WHOLE_SCHOOL_ROLES):
        raise Forbidden("that is not one of your classes")
    return task


CorrelationId = Annotated[str, Depends(correlation_id)]
Member = Annotated[Identity, Depends(_member)]
Staff = Annotated[Identity, Depends(_staff)]
Leader = Annotated[Identity, Depends(_leader)]
Writer = Annotated[Identity, Depends(_writer)]
MediaUploader = Annotated[Identity, Depends(_uploader)]
MediaReader = Annotated[Identity, Depends(_media_reader)]
PupilDep = Annotated[PupilActor, Depends(_pupil)]
PostReader = Annotated[PostScope, Depends(_post_reader)]
Liker = Annotated[PostScope, Depends(_liker)]
ClassReviewer = Annotated[Identity, Depends(_class_reviewer)]
Reviewer = Annotated[Identity, Depends(_reviewer)]
ClassMember = Annotated[Identity, Depends(_class_member)]
PortfolioReader = Annotated[PortfolioScope, Depends(_portfolio_reader)]
TaskStaff = Annotated[Doc, Depends(_task_staff)]
