"""Stories: what may happen to a post, a like, a portfolio item, a home-learning task and a
school's story settings. No I/O: whatever a decision needs from elsewhere comes in as an
argument (the clock, who may appear in media and the names to say so)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Literal

from schoolgate_contracts import Event
from schoolgate_contracts.stories import (
    Attachment,
    Audience,
    CommentAdded,
    HomeLearningTaskSet,
    PortfolioItemApproved,
    PortfolioItemSentBack,
    PortfolioItemSubmitted,
    PostDeleted,
    PostEdited,
    PostLiked,
    PostPublished,
    PostUnliked,
    StorySettingsChanged,
)
from schoolgate_kit.problems import Conflict, Forbidden, NotFound, Unprocessable


def post_stream(post_id: str) -> str:
    return f"post-{post_id}"


def like_stream(post_id: str, parent_id: str) -> str:
    """One stream per post and parent: likes on a popular post never contend."""
    return f"postlike-{post_id}-{parent_id}"


def portfolio_stream(item_id: str) -> str:
    return f"portfolio-{item_id}"


def task_stream(task_id: str) -> str:
    return f"homelearning-{task_id}"


def settings_stream(school_id: str) -> str:
    return f"storysettings-{school_id}"


# -- errors ------------------------------------------------------------------------------


class NoMediaConsent(Unprocessable):
    slug = "no-media-consent"
    title = "Some tagged pupils have no media consent"


class SayWhoIsInIt(Unprocessable):
    slug = "say-who-is-in-it"
    title = "Each photo and video must name the pupils in it, or say no child can be recognised"


class EmptyPost(Unprocessable):
    slug = "empty-post"
    title = "A post needs some text or an attachment"


class BadAudience(Unprocessable):
    slug = "bad-audience"
    title = "That audience is not one of: some classes, one year group, the whole school"


class DuplicateMedia(Unprocessable):
    slug = "duplicate-media"
    title = "The same media is attached twice"


class PostIdReused(Conflict):
    slug = "post-id-reused"
    title = "That post id was already used for a different post"


class NotYourPost(Forbidden):
    slug = "not-your-post"
    title = "Only the author of a post, or a leader, can change it"


class CommentsOff(Forbidden):
    slug = "comments-off"
    title = "This school has not turned comments on"


class ItemIdReused(Conflict):
    slug = "item-id-reused"
    title = "That portfolio item id belongs to another pupil's work"


class ItemApproved(Conflict):
    slug = "item-approved"
    title = "This work is already approved"


class NothingToReview(Conflict):
    slug = "nothing-to-review"
    title = "This work is not waiting for review"


class EmptyItem(Unprocessable):
    slug = "empty-item"
    title = "A portfolio item needs some text or an attachment"


class TaskIdReused(Conflict):
    slug = "task-id-reused"
    title = "That task id belongs to another class's home learning"


class DueInThePast(Unprocessable):
    slug = "due-in-the-past"
    title = "Home learning cannot be due before today"


class BlankTitle(Unprocessable):
    slug = "blank-title"
    title = "Home learning needs a title"


# -- the consent gate --------------------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    """Who of the tagged pupils may appear in media, and their names to say who may not."""

    cleared: frozenset[str] = frozenset()
    names: Mapping[str, str] = field(default_factory=dict)


def tagged(attachments: Sequence[Attachment]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(p for a in attachments for p in a.tagged_pupil_ids))


def check_consent(attachments: Sequence[Attachment], gate: Gate) -> None:
    lacking = [p for p in tagged(attachments) if p not in gate.cleared]
    if not lacking:
        return
    names = [gate.names.get(p, p) for p in lacking]
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    raise NoMediaConsent(
        f"{listed} may not appear in photos, videos or documents: remove "
        f"{'the tag' if len(names) == 1 else 'their tags'} or the media showing them.",
        pupils=[{"pupil_id": p, "name": n} for p, n in zip(lacking, names, strict=True)],
    )


SHOWS_PEOPLE = frozenset({"image", "video"})
"""What may show a child; a PDF is a letter or a worksheet."""


def check_says_who(attachments: Sequence[Attachment]) -> None:
    """Untagged used to mean "nobody", so a photo of a pupil in care posted whenever its
    author forgot her tag: now a photo says either who is in it or that nobody is."""
    unsaid = [
        a.media_id
        for a in attachments
        if a.kind in SHOWS_PEOPLE and bool(a.tagged_pupil_ids) == a.no_child_recognisable
    ]
    if unsaid:
        raise SayWhoIsInIt(
            "For each photo and video, choose the pupils in it, or say that no child can be "
            "recognised in it (not both).",
            media_ids=unsaid,
        )


def check_media_unique(attachments: Sequence[Attachment]) -> None:
    ids = [a.media_id for a in attachments]
    if len(set(ids)) != len(ids):
        raise DuplicateMedia("Attach each photo, video or document once.")


def check_audience(audience: Audience) -> None:
    match audience.kind:
        case "classes":
            if not audience.class_ids or audience.year_group_id is not None:
                raise BadAudience("A post to classes names one or more classes and no year group.")
            if len(set(audience.class_ids)) != len(audience.class_ids):
                raise BadAudience("Name each class once.")
        case "year_group":
            if audience.year_group_id is None or audience.class_ids:
                raise BadAudience("A post to a year group names the year group and no classes.")
        case "school":
            if audience.year_group_id is not None or audience.class_ids:
                raise BadAudience("A post to the whole school names no classes or year group.")


# -- posts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishPost:
    post_id: str
    author_id: str
    audience: Audience
    text: str
    attachments: tuple[Attachment, ...]
    visible_from: datetime


@dataclass(frozen=True)
class EditPost:
    post_id: str
    edited_by: str
    text: str
    attachments: tuple[Attachment, ...]
    visible_from: datetime
    may_edit_others: bool = False
    """Leaders may change any post of their school; others only their own."""


@dataclass(frozen=True)
class DeletePost:
    post_id: str
    deleted_by: str
    may_delete_others: bool = False


@dataclass(frozen=True)
class AddComment:
    post_id: str
    comment_id: str
    author_id: str
    text: str


@dataclass(frozen=True)
class Post:
    post_id: str | None = None
    author_id: str | None = None
    audience: Audience | None = None
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    visible_from: datetime | None = None
    deleted: bool = False
    comment_ids: frozenset[str] = frozenset()

    @property
    def exists(self) -> bool:
        return self.post_id is not None and not self.deleted

    @property
    def media_ids(self) -> frozenset[str]:
        return frozenset(a.media_id for a in self.attachments)


def initial_post() -> Post:
    return Post()


def evolve_post(state: Post, event: Event) -> Post:
    match event:
        case PostPublished():
            return Post(
                post_id=event.post_id,
                author_id=event.author_id,
                audience=event.audience,
                text=event.text,
                attachments=event.attachments,
                visible_from=event.visible_from,
            )
        case PostEdited():
            return replace(
                state,
                text=event.text,
                attachments=event.attachments,
                visible_from=event.visible_from,
            )
        case PostDeleted():
            return replace(state, deleted=True)
        case CommentAdded():
            return replace(state, comment_ids=state.comment_ids | {event.comment_id})
    return state


def _check_content(text: str, attachments: Sequence[Attachment]) -> None:
    if not text.strip() and not attachments:
        raise EmptyPost("Write something or attach a photo, video or document.")
    check_media_unique(attachments)
    check_says_who(attachments)


def decide_publish(state: Post, command: PublishPost, gate: Gate) -> list[Event]:
    if state.post_id is not None:
        same = (state.author_id, state.audience, state.text, state.attachments) == (
            command.author_id,
            command.audience,
            command.text,
            command.attachments,
        )
        if same and not state.deleted:
            return []  # the same post sent again: already published
        raise PostIdReused(f"post {command.post_id} already exists")
    check_audience(command.audience)
    _check_content(command.text, command.attachments)
    check_consent(command.attachments, gate)
    return [
        PostPublished(
            post_id=command.post_id,
            author_id=command.author_id,
            audience=command.audience,
            text=command.text,
            attachments=command.attachments,
            visible_from=command.visible_from,
        )
    ]


def _check_may_change(state: Post, who: str, may_change_others: bool) -> None:
    if state.author_id != who and not may_change_others:
        raise NotYourPost("You can change only the posts you wrote.")


def decide_edit(state: Post, command: EditPost, gate: Gate) -> list[Event]:
    if not state.exists:
        raise NotFound(f"There is no post {command.post_id}.")
    _check_may_change(state, command.edited_by, command.may_edit_others)
    if (state.text, state.attachments, state.visible_from) == (
        command.text,
        command.attachments,
        command.visible_from,
    ):
        return []
    _check_content(command.text, command.attachments)
    check_consent(command.attachments, gate)
    return [
        PostEdited(
            post_id=command.post_id,
            edited_by=command.edited_by,
            text=command.text,
            attachments=command.attachments,
            visible_from=command.visible_from,
        )
    ]


def decide_delete(state: Post, command: DeletePost) -> list[Event]:
    if state.post_id is None:
        raise NotFound(f"There is no post {command.post_id}.")
    if state.deleted:
        return []  # already deleted: asking again changes nothing
    _check_may_change(state, command.deleted_by, command.may_delete_others)
    return [PostDeleted(post_id=command.post_id, deleted_by=command.deleted_by)]


def decide_comment(state: Post, command: AddComment, *, comments_enabled: bool) -> list[Event]:
    if not state.exists:
        raise NotFound(f"There is no post {command.post_id}.")
    if command.comment_id in state.comment_ids:
        return []  # the same comment sent again
    if not comments_enabled:
        raise CommentsOff("A school leader can turn comments on in the stories settings.")
    if not command.text.strip():
        raise Unprocessable("A comment needs some text.")
    return [
        CommentAdded(
            post_id=command.post_id,
            comment_id=command.comment_id,
            author_id=command.author_id,
            text=command.text,
        )
    ]


# -- likes (stream postlike-{post_id}-{parent_id}) ---------------------------------------


def evolve_like(liked: bool, event: Event) -> bool:
    match event:
        case PostLiked():
            return True
        case PostUnliked():
            return False
    return liked


def decide_like(liked: bool, *, post_id: str, parent_id: str, like: bool) -> list[Event]:
    """Like once, unlike once: asking again changes nothing."""
    if liked == like:
        return []
    if like:
        return [PostLiked(post_id=post_id, parent_id=parent_id)]
    return [PostUnliked(post_id=post_id, parent_id=parent_id)]


# -- the school's story settings ---------------------------------------------------------


def evolve_settings(comments_enabled: bool, event: Event) -> bool:
    match event:
        case StorySettingsChanged():
            return event.comments_enabled
    return comments_enabled


def decide_settings(current: bool, comments_enabled: bool, *, changed_by: str) -> list[Event]:
    if current == comments_enabled:
        return []
    return [StorySettingsChanged(comments_enabled=comments_enabled, changed_by=changed_by)]


# -- portfolio items ---------------------------------------------------------------------

ItemStatus = Literal["none", "submitted", "approved", "sent_back"]


@dataclass(frozen=True)
class SubmitItem:
    item_id: str
    pupil_id: str
    class_id: str
    text: str
    attachments: tuple[Attachment, ...]
    task_id: str | None = None


@dataclass(frozen=True)
class Item:
    status: ItemStatus = "none"
    pupil_id: str | None = None
    class_id: str | None = None
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    task_id: str | None = None
    note: str | None = None

    @property
    def media_ids(self) -> frozenset[str]:
        return frozenset(a.media_id for a in self.attachments)


def initial_item() -> Item:
    return Item()


def evolve_item(state: Item, event: Event) -> Item:
    match event:
        case PortfolioItemSubmitted():
            return Item(
                status="submitted",
                pupil_id=event.pupil_id,
                class_id=event.class_id,
                text=event.text,
                attachments=event.attachments,
                task_id=event.task_id,
            )
        case PortfolioItemApproved():
            return replace(state, status="approved", note=None)
        case PortfolioItemSentBack():
            return replace(state, status="sent_back", note=event.note)
    return state


def decide_submit(state: Item, command: SubmitItem, gate: Gate) -> list[Event]:
    if state.status != "none":
        if state.pupil_id != command.pupil_id:
            raise ItemIdReused(f"portfolio item {command.item_id} already exists")
        same = (state.text, state.attachments, state.task_id) == (
            command.text,
            command.attachments,
            command.task_id,
        )
        if same and state.status in {"submitted", "approved"}:
            return []  # the same work sent again
        if state.status == "approved":
            raise ItemApproved("Approved work cannot be changed: share something new instead.")
    if not command.text.strip() and not command.attachments:
        raise EmptyItem("Write something or attach your work.")
    check_media_unique(command.attachments)
    check_consent(command.attachments, gate)
    return [
        PortfolioItemSubmitted(
            item_id=command.item_id,
            pupil_id=command.pupil_id,
            class_id=command.class_id,
            text=command.text,
            attachments=command.attachments,
            task_id=command.task_id,
        )
    ]


def decide_approve(state: Item, *, item_id: str, approved_by: str) -> list[Event]:
    if state.status == "none" or state.pupil_id is None or state.class_id is None:
        raise NotFound(f"There is no portfolio item {item_id}.")
    if state.status == "approved":
        return []
    if state.status == "sent_back":
        raise NothingToReview("This work was sent back: wait for the pupil to hand it in again.")
    return [
        PortfolioItemApproved(
            item_id=item_id,
            pupil_id=state.pupil_id,
            class_id=state.class_id,
            approved_by=approved_by,
        )
    ]


def decide_send_back(state: Item, *, item_id: str, note: str, sent_back_by: str) -> list[Event]:
    if state.status == "none" or state.pupil_id is None or state.class_id is None:
        raise NotFound(f"There is no portfolio item {item_id}.")
    if state.status == "sent_back" and state.note == note:
        return []  # the same request sent again
    if state.status == "approved":
        raise ItemApproved("This work is already approved and shared with the family.")
    if state.status == "sent_back":
        raise NothingToReview("This work was already sent back.")
    if not note.strip():
        raise Unprocessable("Say what the pupil should change.")
    return [
        PortfolioItemSentBack(
            item_id=item_id,
            pupil_id=state.pupil_id,
            class_id=state.class_id,
            note=note,
            sent_back_by=sent_back_by,
        )
    ]


# -- home learning -----------------------------------------------------------------------


@dataclass(frozen=True)
class SetTask:
    task_id: str
    class_id: str
    title: str
    instructions: str
    due_on: date | None
    set_by: str


def evolve_task(state: HomeLearningTaskSet | None, event: Event) -> HomeLearningTaskSet | None:
    match event:
        case HomeLearningTaskSet():
            return event
    return state


def decide_task(state: HomeLearningTaskSet | None, command: SetTask, today: date) -> list[Event]:
    if state is not None:
        if state.class_id != command.class_id:
            raise TaskIdReused(f"home learning {command.task_id} is for another class")
        if (state.title, state.instructions, state.due_on) == (
            command.title,
            command.instructions,
            command.due_on,
        ):
            return []
    if not command.title.strip():
        raise BlankTitle("Give the home learning a title.")
    if command.due_on is not None and command.due_on < today:
        raise DueInThePast(f"It is {today.isoformat()} at school: choose today or a later day.")
    return [
        HomeLearningTaskSet(
            task_id=command.task_id,
            class_id=command.class_id,
            title=command.title,
            instructions=command.instructions,
            due_on=command.due_on,
            set_by=command.set_by,
        )
    ]
