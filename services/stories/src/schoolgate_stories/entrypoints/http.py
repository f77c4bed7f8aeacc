"""The stories service's HTTP API."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Path, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from schoolgate_contracts.stories import Attachment, Audience, MediaKind
from schoolgate_kit.app import Kit, create_service_app
from schoolgate_kit.guard import allow_body
from schoolgate_kit.identity import Role
from schoolgate_kit.problems import Forbidden, NotFound, Problem, Unprocessable, problem_responses

from schoolgate_stories import domain, handlers
from schoolgate_stories.bootstrap import Stories
from schoolgate_stories.deps import (
    ClassMember,
    ClassReviewer,
    CorrelationId,
    Leader,
    Liker,
    MediaReader,
    MediaUploader,
    Member,
    PathId,
    PortfolioReader,
    PostReader,
    PostScope,
    PupilDep,
    Reviewer,
    Staff,
    StoriesDep,
    TaskStaff,
    Writer,
    may_post_to,
    may_review,
    may_set_task,
)

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
MEDIA_ID = r"^[0-9a-f]{32}$"
MediaId = Annotated[str, Field(pattern=MEDIA_ID, description="From POST /media.")]
LONGEST_SCHEDULE = timedelta(days=366)
# no-cache: a browser asks again each time, so media hidden when consent is withdrawn stops
# showing at once instead of lingering in a family's cache.
MEDIA_HEADERS = {"cache-control": "private, no-cache", "x-content-type-options": "nosniff"}

router = APIRouter(prefix="/schools/{school_id}", tags=["stories"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MediaTooLarge(Problem):
    status, slug, title = 413, "media-too-large", "The file is too large"


class ScheduledTooFar(Unprocessable):
    slug = "scheduled-too-far"
    title = "A post can be scheduled at most a year ahead"


def _actor(subject: str, school_id: str, correlation: str) -> handlers.Actor:
    return handlers.Actor(subject=subject, school_id=school_id, correlation_id=correlation)


# -- media -------------------------------------------------------------------------------


class MediaUploaded(BaseModel):
    media_id: str
    kind: MediaKind
    content_type: str
    width: int | None
    height: int | None


async def _read_limited(request: Request, limit: int) -> bytes:
    """The body, refused as soon as it is known to pass ``limit``: by its declared length
    before reading anything, else while reading it."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Unprocessable("Content-Length is not a number.")
        if int(declared) > limit:
            raise MediaTooLarge(f"Files can be at most {limit} bytes.", limit=limit)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise MediaTooLarge(f"Files can be at most {limit} bytes.", limit=limit)
    if not data:
        raise Unprocessable("Send the file as the request body.")
    return bytes(data)


@router.post(
    "/media",
    status_code=201,
    response_model=MediaUploaded,
    dependencies=[allow_body(lambda r: r.app.state.stories.settings.stories_upload_max_bytes)],
    openapi_extra={"requestBody": {"content": {"application/octet-stream": {}}, "required": True}},
)
async def upload_media(
    school_id: PathId,
    request: Request,
    identity: MediaUploader,
    stories: StoriesDep,
    media_id: Annotated[
        str | None, Query(pattern=MEDIA_ID, description="Your own id makes retries safe.")
    ] = None,
) -> MediaUploaded:
    """Upload a photo, short video or PDF (the raw file as the body); it is made safe first."""
    data = await _read_limited(request, stories.settings.stories_upload_max_bytes)
    uploaded = await handlers.upload_media(
        data, media_id=media_id, school_id=school_id, owner=identity.subject, stories=stories
    )
    return MediaUploaded.model_validate(uploaded, from_attributes=True)


@router.get("/media/{media_id}", response_class=Response)
async def media(
    school_id: PathId,
    media_id: Annotated[str, Path(pattern=MEDIA_ID)],
    identity: MediaReader,
    stories: StoriesDep,
    size: Literal["full", "thumb"] = "full",
) -> Response:
    """The bytes of a photo, video or PDF, for those who may see what holds it."""
    info, data = await handlers.readable_media(
        media_id, size, identity=identity, school_id=school_id, stories=stories
    )
    kind = handlers.media_kind(info.content_type)
    disposition = "attachment" if kind == "document" else "inline"
    return Response(
        data,
        media_type=info.content_type,
        headers={**MEDIA_HEADERS, "content-disposition": disposition},
    )


# -- posts -------------------------------------------------------------------------------


class AudienceIn(Body):
    kind: Literal["classes", "year_group", "school"]
    class_ids: list[Id] = Field(default_factory=list, max_length=60)
    year_group_id: Id | None = None

    def contract(self) -> Audience:
        return Audience(
            kind=self.kind, class_ids=tuple(self.class_ids), year_group_id=self.year_group_id
        )


class AttachmentIn(Body):
    media_id: MediaId
    kind: MediaKind
    alt_text: str = Field(default="", max_length=500)
    tagged_pupil_ids: list[Id] = Field(default_factory=list, max_length=60)
    no_child_recognisable: bool = Field(
        default=False,
        description="A post's photo or video names its pupils or says this, never both.",
    )

    def contract(self) -> Attachment:
        return Attachment(
            media_id=self.media_id,
            kind=self.kind,
            alt_text=self.alt_text,
            tagged_pupil_ids=tuple(dict.fromkeys(self.tagged_pupil_ids)),
            no_child_recognisable=self.no_child_recognisable,
        )


Attachments = Annotated[list[AttachmentIn], Field(default_factory=list, max_length=20)]


class PostRequest(Body):
    post_id: uuid.UUID | None = Field(default=None, description="Your own id makes retries safe.")
    audience: AudienceIn
    text: str = Field(default="", max_length=10_000)
    attachments: Attachments
    visible_from: AwareDatetime | None = Field(
        default=None,
        description="Families see the post from then on; default (and at the earliest) now.",
    )


class EditRequest(Body):
    text: str = Field(default="", max_length=10_000)
    attachments: Attachments
    visible_from: AwareDatetime | None = Field(default=None, description="Default: unchanged.")


class AttachmentView(BaseModel):
    media_id: str
    kind: MediaKind
    alt_text: str
    url: str
    thumb_url: str | None
    tagged_pupil_ids: list[str] | None = Field(default=None, description="Staff only.")
    no_child_recognisable: bool | None = Field(
        default=None, description="Staff only: its author said no child can be recognised."
    )
    hidden: bool | None = Field(
        default=None, description="Staff only: families do not see it (consent)."
    )


class AudienceView(BaseModel):
    kind: str
    class_ids: list[str]
    year_group_id: str | None


class PostView(BaseModel):
    post_id: str
    author_id: str
    audience: AudienceView
    text: str
    attachments: list[AttachmentView]
    visible_from: datetime
    scheduled: bool
    published_at: datetime | None
    edited_at: datetime | None
    like_count: int
    liked: bool = Field(default=False, description="Whether the reader likes it.")


def _visible_from(wanted: datetime | None, now: datetime) -> datetime:
    if wanted is None or wanted <= now:
        return now
    if wanted - now > LONGEST_SCHEDULE:
        raise ScheduledTooFar("Choose a moment within the next year.")
    return wanted


def _attachments(body: list[AttachmentIn]) -> tuple[Attachment, ...]:
    return tuple(a.contract() for a in body)


@router.post("/posts", status_code=201, response_model=PostView)
async def publish_post(
    school_id: PathId,
    body: PostRequest,
    identity: Writer,
    stories: StoriesDep,
    correlation: CorrelationId,
) -> Any:
    """Post once to some classes, a year group or the whole school (one post, not copies)."""
    audience = body.audience.contract()
    facts = await handlers.check_audience(audience, school_id, stories=stories)
    may_post_to(identity, audience, facts)
    now = stories.clock()
    command = domain.PublishPost(
        post_id=(body.post_id or stories.new_id()).hex,
        author_id=identity.subject,
        audience=audience,
        text=body.text,
        attachments=_attachments(body.attachments),
        visible_from=_visible_from(body.visible_from, now),
    )
    state = await handlers.publish_post(
        command, actor=_actor(identity.subject, school_id, correlation), stories=stories
    )
    return handlers.post_view_of(state, school_id=school_id, now=now)


@router.get("/posts", response_model=list[PostView])
async def list_posts(
    school_id: PathId,
    identity: Member,
    stories: StoriesDep,
    class_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = None,
    pupil_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,64}$")] = None,
) -> Any:
    """Staff: every post to a class (``class_id``). A parent: what their child's family
    sees (``pupil_id``), with media only where consent allows."""
    if (class_id is None) == (pupil_id is None):
        raise Unprocessable("Give exactly one of class_id or pupil_id.")
    if class_id is not None:
        if not identity.is_staff:
            raise Forbidden("only the school's staff list a class's posts")
        posts = await handlers.posts_for_class(class_id, school_id, stories=stories)
        return await handlers.post_views(posts, "staff", reader=identity.subject, stories=stories)
    assert pupil_id is not None
    if identity.role is not Role.parent or pupil_id not in identity.pupil_ids:
        raise Forbidden("that is not your child")
    child = await handlers.pupil(pupil_id, school_id, stories=stories)
    if child is None:
        raise NotFound(f"school {school_id} has no pupil {pupil_id}")
    posts = await handlers.posts_for_child(child, stories=stories)
    return await handlers.post_views(posts, "family", reader=identity.subject, stories=stories)


@router.get("/posts/{post_id}", response_model=PostView)
async def read_post(scope: PostReader, stories: StoriesDep) -> Any:
    """One post: staff see all of it; a family what consent allows."""
    (view,) = await handlers.post_views(
        [scope.post], scope.view, reader=scope.identity.subject, stories=stories
    )
    return view


@router.put("/posts/{post_id}", response_model=PostView)
async def edit_post(
    school_id: PathId,
    post_id: PathId,
    body: EditRequest,
    identity: Writer,
    stories: StoriesDep,
    correlation: CorrelationId,
) -> Any:
    """Change a post's text, attachments or time (its author, or a leader)."""
    now = stories.clock()
    before = await handlers.current_post(post_id, school_id=school_id, stories=stories)
    visible_from = (
        before.visible_from
        if body.visible_from is None or body.visible_from == before.visible_from
        else _visible_from(body.visible_from, now)
    )
    assert visible_from is not None
    command = domain.EditPost(
        post_id=post_id,
        edited_by=identity.subject,
        text=body.text,
        attachments=_attachments(body.attachments),
        visible_from=visible_from,
        may_edit_others=identity.role is Role.leader,
    )
    state = await handlers.edit_post(
        command, actor=_actor(identity.subject, school_id, correlation), stories=stories
    )
    return handlers.post_view_of(state, school_id=school_id, now=now)


class Deleted(BaseModel):
    post_id: str
    deleted: Literal[True] = True


@router.delete("/posts/{post_id}", response_model=Deleted)
async def delete_post(
    school_id: PathId,
    post_id: PathId,
    identity: Writer,
    stories: StoriesDep,
    correlation: CorrelationId,
) -> Deleted:
    """Delete a post (its author, or a leader)."""
    await handlers.delete_post(
        domain.DeletePost(
            post_id=post_id,
            deleted_by=identity.subject,
            may_delete_others=identity.role is Role.leader,
        ),
        actor=_actor(identity.subject, school_id, correlation),
        stories=stories,
    )
    return Deleted(post_id=post_id)


class Liked(BaseModel):
    post_id: str
    liked: bool


async def _like(scope: PostScope, liked: bool, stories: Stories, correlation: str) -> Liked:
    post_id: str = scope.post["post_id"]
    actor = _actor(scope.identity.subject, scope.identity.school_id, correlation)
    now = await handlers.like(post_id, liked=liked, actor=actor, stories=stories)
    return Liked(post_id=post_id, liked=now)


@router.post("/posts/{post_id}/like", response_model=Liked)
async def like(scope: Liker, stories: StoriesDep, correlation: CorrelationId) -> Liked:
    """Like a post your child's class got (once: again changes nothing)."""
    return await _like(scope, True, stories, correlation)


@router.delete("/posts/{post_id}/like", response_model=Liked)
async def unlike(scope: Liker, stories: StoriesDep, correlation: CorrelationId) -> Liked:
    """Take a like back (once: again changes nothing)."""
    return await _like(scope, False, stories, correlation)


class Likes(BaseModel):
    post_id: str
    count: int
    parent_ids: list[str]


@router.get("/posts/{post_id}/likes", response_model=Likes)
async def likes(identity: Staff, scope: PostReader, stories: StoriesDep) -> Likes:
    """Who liked a post: for staff."""
    parents = await handlers.likes_of(scope.post["post_id"], stories=stories)
    return Likes(post_id=scope.post["post_id"], count=len(parents), parent_ids=parents)


class CommentRequest(Body):
    comment_id: uuid.UUID | None = Field(default=None, description="Makes retries safe.")
    text: str = Field(min_length=1, max_length=2_000)


class Comment(BaseModel):
    comment_id: str
    post_id: str
    author_id: str
    text: str
    added_at: datetime | None = None


@router.post("/posts/{post_id}/comments", status_code=201, response_model=Comment)
async def comment(
    school_id: PathId,
    body: CommentRequest,
    scope: PostReader,
    stories: StoriesDep,
    correlation: CorrelationId,
) -> Comment:
    """Comment on a post you can see, where the school turned comments on."""
    command = domain.AddComment(
        post_id=scope.post["post_id"],
        comment_id=(body.comment_id or stories.new_id()).hex,
        author_id=scope.identity.subject,
        text=body.text,
    )
    await handlers.add_comment(
        command, actor=_actor(scope.identity.subject, school_id, correlation), stories=stories
    )
    return Comment(
        comment_id=command.comment_id,
        post_id=command.post_id,
        author_id=command.author_id,
        text=command.text,
        added_at=stories.clock(),
    )


@router.get("/posts/{post_id}/comments", response_model=list[Comment])
async def comments(scope: PostReader, stories: StoriesDep) -> Any:
    """A post's comments, oldest first, for whoever may see the post."""
    return await handlers.comments_of(scope.post["post_id"], stories=stories)


class StorySettings(Body):
    comments_enabled: bool


@router.get("/settings", response_model=StorySettings)
async def read_settings(school_id: PathId, identity: Member, stories: StoriesDep) -> StorySettings:
    """Whether this school allows comments on posts."""
    return StorySettings(comments_enabled=await handlers.settings_of(school_id, stories=stories))


@router.put("/settings", response_model=StorySettings)
async def change_settings(
    school_id: PathId,
    body: StorySettings,
    identity: Leader,
    stories: StoriesDep,
    correlation: CorrelationId,
) -> StorySettings:
    """Leaders turn comments on or off."""
    enabled = await handlers.change_settings(
        body.comments_enabled,
        actor=_actor(identity.subject, school_id, correlation),
        stories=stories,
    )
    return StorySettings(comments_enabled=enabled)


# -- portfolio ---------------------------------------------------------------------------


class ItemRequest(Body):
    item_id: uuid.UUID | None = Field(
        default=None,
        description="Your own id makes retries safe; an item sent back is "
        "handed in again with its id.",
    )
    text: str = Field(default="", max_length=5_000)
    attachments: Attachments
    task_id: Id | None = Field(default=None, description="The home learning this hands in.")


class ItemView(BaseModel):
    item_id: str
    pupil_id: str
    class_id: str
    text: str
    attachments: list[AttachmentView]
    task_id: str | None
    status: Literal["submitted", "approved", "sent_back"]
    note: str | None = Field(description="What the teacher asked to change (not for families).")
    submitted_at: datetime | None = None
    decided_at: datetime | None = None


@router.post("/portfolio", status_code=201, response_model=ItemView)
async def submit(
    school_id: PathId,
    body: ItemRequest,
    me: PupilDep,
    stories: StoriesDep,
    correlation: CorrelationId,
) -> Any:
    """A pupil adds work to their portfolio, or hands in home learning; a teacher approves
    it before families see it."""
    item_id = (body.item_id or stories.new_id()).hex
    state = await handlers.submit_item(
        domain.SubmitItem(
            item_id=item_id,
            pupil_id=me.identity.subject,
            class_id=me.pupil["class_id"],
            text=body.text,
            attachments=_attachments(body.attachments),
            task_id=body.task_id,
        ),
        actor=_actor(me.identity.subject, school_id, correlation),
        stories=stories,
    )
    return handlers.item_view_of(state, item_id=item_id, school_id=school_id)


@router.get("/classes/{class_id}/portfolio/queue", response_model=list[ItemView])
async def queue(
    school_id: PathId, class_id: PathId, identity: ClassReviewer, stories: StoriesDep
) -> Any:
    """Work waiting for the class's teachers, oldest first."""
    items = await handlers.queue_of(class_id, school_id, stories=stories)
    return await handlers.item_views(items, "staff", stories=stories)


async def _review(
    school_id: str,
    item_id: str,
    identity: Any,
    stories: Stories,
    correlation: str,
    *,
    approve: bool,
    note: str = "",
) -> Any:
    before = await handlers.current_item(item_id, school_id=school_id, stories=stories)
    may_review(identity, before.class_id)
    state = await handlers.review_item(
        item_id,
        approve=approve,
        note=note,
        actor=_actor(identity.subject, school_id, correlation),
        stories=stories,
    )
    return handlers.item_view_of(state, item_id=item_id, school_id=school_id)


@router.post("/portfolio/{item_id}/approve", response_model=ItemView)
async def approve(
    school_id: PathId,
    item_id: PathId,
    identity: Reviewer,
    stories: StoriesDep,
    correlation: CorrelationId,
) -> Any:
    """Approve a pupil's work: their family sees it from now on."""
    return await _review(school_id, item_id, identity, stories, correlation, approve=True)


class SendBack(Body):
    note: str = Field(min_length=1, max_length=1_000)


@router.post("/portfolio/{item_id}/send-back", response_model=ItemView)
async def send_back(
    school_id: PathId,
    item_id: PathId,
    body: SendBack,
    identity: Reviewer,
    stories: StoriesDep,
    correlation: CorrelationId,
) -> Any:
    """Ask the pupil to change something, saying what."""
    return await _review(
        school_id, item_id, identity, stories, correlation, approve=False, note=body.note
    )


@router.get("/pupils/{pupil_id}/portfolio", response_model=list[ItemView])
async def pupil_portfolio(scope: PortfolioReader, stories: StoriesDep) -> Any:
    """A pupil's portfolio: all of it for them and staff, approved work for their family."""
    items = await handlers.portfolio_of(
        scope.pupil["pupil_id"], scope.pupil["school_id"], stories=stories
    )
    return await handlers.item_views(items, scope.view, stories=stories)


# -- home learning -----------------------------------------------------------------------


class TaskRequest(Body):
    task_id: uuid.UUID | None = Field(default=None, description="Your own id makes retries safe.")
    class_id: Id
    title: str = Field(min_length=1, max_length=200)
    instructions: str = Field(default="", max_length=5_000)
    due_on: date | None = None


class Task(BaseModel):
    task_id: str
    class_id: str
    title: str
    instructions: str
    due_on: date | None
    set_by: str
    set_at: datetime | None = None


@router.post("/home-learning", status_code=201, response_model=Task)
async def set_task(
    school_id: PathId,
    body: TaskRequest,
    identity: Writer,
    stories: StoriesDep,
    correlation: CorrelationId,
) -> Task:
    """Set home learning for a class (its teacher, or a leader)."""
    may_set_task(identity, body.class_id)
    task = await handlers.set_task(
        domain.SetTask(
            task_id=(body.task_id or stories.new_id()).hex,
            class_id=body.class_id,
            title=body.title,
            instructions=body.instructions,
            due_on=body.due_on,
            set_by=identity.subject,
        ),
        actor=_actor(identity.subject, school_id, correlation),
        stories=stories,
    )
    return Task.model_validate(task, from_attributes=True)


@router.get("/classes/{class_id}/home-learning", response_model=list[Task])
async def class_tasks(
    school_id: PathId, class_id: PathId, identity: ClassMember, stories: StoriesDep
) -> Any:
    """A class's home learning, newest first: for its staff, pupils and families."""
    return await handlers.tasks_of(class_id, school_id, stories=stories)


class Submission(BaseModel):
    pupil_id: str
    name: str
    status: Literal["not_yet", "submitted", "approved", "sent_back"]
    item_id: str | None
    submitted_at: datetime | None


class Submissions(BaseModel):
    task: Task
    pupils: list[Submission]


@router.get("/home-learning/{task_id}/submissions", response_model=Submissions)
async def task_submissions(task: TaskStaff, stories: StoriesDep) -> Submissions:
    """Every pupil in the class with where their home learning stands."""
    return Submissions(
        task=Task.model_validate(handlers.task_view(task)),
        pupils=[
            Submission.model_validate(row)
            for row in await handlers.submissions(task, stories=stories)
        ],
    )


class ChildTask(BaseModel):
    task: Task
    status: Literal["not_yet", "submitted", "approved", "sent_back"] = Field(
        description="Families see sent-back work as submitted: the note is for the pupil."
    )
    work: list[ItemView] = Field(description="What was handed in; for families, approved work.")


@router.get(
    "/pupils/{pupil_id}/home-learning",
    response_model=list[ChildTask],
    responses=problem_responses(401, 403, 404),
)
async def pupil_home_learning(scope: PortfolioReader, stories: StoriesDep) -> Any:
    """A pupil's class's home learning, newest first, with what the pupil handed in."""
    return await handlers.home_learning_of(scope.pupil, scope.view, stories=stories)


def create_app(stories: Stories) -> FastAPI:
    kit = Kit(
        name="stories",
        settings=stories.settings,
        clock=stories.clock,
        ready_checks={
            "event_store": stories.store.ping,
            "read_models": stories.readmodels.ping,
            "media": stories.media.ping,
        },
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # In the API process, not the worker: the worker runs only the kit's projections and
        # reactors, and the retention deletes media, which no projection may do. Exactly one
        # process must run it (embedded: the one web process; a cluster sets
        # SCHOOLGATE_STORIES_MEDIA_RETENTION=false on all API replicas but one).
        retention = None
        if stories.settings.stories_media_retention:
            every = timedelta(seconds=stories.settings.stories_media_sweep_seconds)
            retention = asyncio.create_task(
                stories.retention.run(every), name="stories:media-retention"
            )
        try:
            yield
        finally:
            if retention is not None:
                retention.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await retention
            await stories.close()  # its decoding processes

    app = create_service_app(kit, routers=[router], lifespan=lifespan)
    app.state.stories = stories
    return app
