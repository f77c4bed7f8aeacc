"""Events owned by the stories service: posts to classes, year groups and the whole school,
likes and comments, and pupils' portfolios and home learning.

A post lives in its own stream (``post-{post_id}``); a portfolio item in
``portfolio-{item_id}``; a home-learning task in ``homelearning-{task_id}``; a school's
story settings in ``storysettings-{school_id}``. The school is named in each event's
metadata (``school_id``). Media bytes never enter the log: events carry media ids, and the
bytes live in the media store, already made safe (re-encoded, resized, metadata stripped).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schoolgate_contracts.base import Event
from schoolgate_contracts.privacy import Id, Personal, SchoolText, SubjectOf
from schoolgate_contracts.registry import registry

PostText = Annotated[str, Personal("post_id", kind="post")]
"""A story's words: the school's record of a day, erased with the story (its own key)."""
PupilText = Annotated[str, Personal("pupil_id")]
"""A pupil's own work, and what their teacher said of it: erased with the pupil."""
MediaKind = Literal["image", "video", "document"]


class Audience(BaseModel):
    """Who a post is for: some classes, one year group, or the whole school."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["classes", "year_group", "school"]
    class_ids: tuple[Id, ...] = ()
    year_group_id: Id | None = None


class Attachment(BaseModel):
    """A photo, short video or PDF on a post or portfolio item, and the pupils shown in it.

    A post's photo or video says who is in it (``tagged_pupil_ids``) or that no child can
    be recognised in it (``no_child_recognisable``), so the consent rule covers every one.
    Untagged media recorded before that (schema version 1) said neither: it loads with
    ``no_child_recognisable`` false, as "not said", never as "nobody is in it".
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    media_id: Id
    kind: MediaKind
    alt_text: Annotated[str, Personal()] = Field(default="", max_length=500)
    tagged_pupil_ids: tuple[Id, ...] = ()
    no_child_recognisable: bool = False


PostAttachments = Annotated[tuple[Attachment, ...], SubjectOf("post_id", kind="post")]
PupilAttachments = Annotated[tuple[Attachment, ...], SubjectOf("pupil_id")]


class _Stories(Event):
    service = "stories"


# -- posts (stream post-{post_id}) ---------------------------------------------------------


@registry.register
class PostPublished(_Stories):
    """A member of staff posted once to an audience. Families see it from ``visible_from``
    (a scheduled post has it in the future)."""

    event_type = "PostPublished"
    schema_version = 2
    post_id: Id
    author_id: Id
    audience: Audience
    text: PostText = Field(max_length=10_000)
    attachments: PostAttachments = ()
    visible_from: datetime


@registry.register
class PostEdited(_Stories):
    """The post now reads this way; families always see the current version."""

    event_type = "PostEdited"
    schema_version = 2
    post_id: Id
    edited_by: Id
    text: PostText = Field(max_length=10_000)
    attachments: PostAttachments = ()
    visible_from: datetime


@registry.register
class PostDeleted(_Stories):
    event_type = "PostDeleted"
    post_id: Id
    deleted_by: Id


@registry.register
class PostLiked(_Stories):
    event_type = "PostLiked"
    post_id: Id
    parent_id: Id


@registry.register
class PostUnliked(_Stories):
    event_type = "PostUnliked"
    post_id: Id
    parent_id: Id


@registry.register
class CommentAdded(_Stories):
    """Only where the school turned comments on."""

    event_type = "CommentAdded"
    post_id: Id
    comment_id: Id
    author_id: Id
    text: Annotated[str, Personal("author_id")] = Field(min_length=1, max_length=2_000)


@registry.register
class StorySettingsChanged(_Stories):
    """Comments are off unless a leader turns them on (stream storysettings-{school_id})."""

    event_type = "StorySettingsChanged"
    comments_enabled: bool
    changed_by: Id


# -- portfolios and home learning ----------------------------------------------------------


@registry.register
class HomeLearningTaskSet(_Stories):
    event_type = "HomeLearningTaskSet"
    task_id: Id
    class_id: Id
    title: SchoolText = Field(min_length=1, max_length=200)
    instructions: SchoolText = Field(default="", max_length=5_000)
    due_on: date | None = None
    set_by: Id


@registry.register
class PortfolioItemSubmitted(_Stories):
    """A pupil posted work they are proud of, or handed in home learning (``task_id``).
    Families see it only once a teacher approves it."""

    event_type = "PortfolioItemSubmitted"
    schema_version = 2
    item_id: Id
    pupil_id: Id
    class_id: Id
    text: PupilText = Field(default="", max_length=5_000)
    attachments: PupilAttachments = ()
    task_id: Id | None = None


@registry.register
class PortfolioItemApproved(_Stories):
    event_type = "PortfolioItemApproved"
    item_id: Id
    pupil_id: Id
    class_id: Id
    approved_by: Id


@registry.register
class PortfolioItemSentBack(_Stories):
    """The teacher asked the pupil to change something; the note says what."""

    event_type = "PortfolioItemSentBack"
    item_id: Id
    pupil_id: Id
    class_id: Id
    note: PupilText = Field(min_length=1, max_length=1_000)
    sent_back_by: Id


def _attachments_say_who_v2(data: dict[str, Any]) -> dict[str, Any]:
    # version 1 had no way to say "no child can be recognised": an untagged photo said nothing
    return {
        **data,
        "attachments": [{**a, "no_child_recognisable": False} for a in data.get("attachments", ())],
    }


for _type in ("PostPublished", "PostEdited", "PortfolioItemSubmitted"):
    registry.upcaster(_type, from_version=1)(_attachments_say_who_v2)
