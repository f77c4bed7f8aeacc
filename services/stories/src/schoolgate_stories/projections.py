"""Read models of the stories service.

Posts, portfolio items and home-learning tasks as they are now; likes and comments; each
school's settings. The roster's facts (pupils, classes, year groups) and every pupil's media
consent are followed here too, so stories answers (and hides media) without asking another
service. A pupil with no ``stories.media_consent`` document may not appear in media.

Posts and portfolio items carry a top-level marker ``m_<media_id>`` for each attachment, so
"which post holds this media?" is one ``find`` on equal fields (all the read-model port
offers) rather than a scan in Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.consent import ParentAccountClosed
from schoolgate_contracts.privacy import REMOVED
from schoolgate_contracts.roster import StaffMemberErased
from schoolgate_contracts.stories import (
    Attachment,
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
from schoolgate_kit.directory import (
    media_consent_projection,
    pupils_projection,
    schools_projection,
)
from schoolgate_kit.projections import Projection
from schoolgate_kit.readmodels import Doc

POSTS = "stories.posts"
LIKES = "stories.likes"
COMMENTS = "stories.comments"
SETTINGS = "stories.settings"
PORTFOLIO = "stories.portfolio"
HOME_LEARNING = "stories.home_learning"
MEDIA_CONSENT = "stories.media_consent"
PUPILS = "stories.pupils"
SCHOOLS = "stories.schools"

MARKER = "m_"


def media_marker(media_id: str) -> str:
    """The field that says a post or item holds ``media_id`` (ids are ``[A-Za-z0-9_-]``)."""
    return MARKER + media_id.replace("-", "_")


def like_key(post_id: str, parent_id: str) -> str:
    return f"{post_id}:{parent_id}"


def when(moment: datetime) -> str:
    """A moment as sortable text: UTC, one format."""
    return moment.astimezone(UTC).isoformat()


def _attachments(attachments: Sequence[Attachment]) -> dict[str, object]:
    return {
        "attachments": [a.model_dump(mode="json") for a in attachments],
        **{media_marker(a.media_id): True for a in attachments},
    }


def _without_markers(doc: Doc) -> Doc:
    return {k: v for k, v in doc.items() if not k.startswith(MARKER)}


# -- stories.posts -----------------------------------------------------------------------

PostEvent = PostPublished | PostEdited | PostDeleted


def _post_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, PostEvent)
    return event.post_id


def _post(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    match event:
        case PostPublished():
            return {
                "post_id": event.post_id,
                "school_id": recorded.metadata.school_id,
                "author_id": event.author_id,
                "audience": event.audience.model_dump(mode="json"),
                "text": event.text,
                "visible_from": when(event.visible_from),
                "published_at": when(recorded.metadata.occurred_at),
                "edited_at": None,
                **_attachments(event.attachments),
            }
        case PostEdited() if doc is not None:
            return {
                **_without_markers(doc),
                "text": event.text,
                "visible_from": when(event.visible_from),
                "edited_at": when(recorded.metadata.occurred_at),
                **_attachments(event.attachments),
            }
        case PostDeleted():
            return None
    return doc


posts = Projection(
    name=POSTS, handles=(PostPublished, PostEdited, PostDeleted), key=_post_key, evolve=_post
)


# -- stories.likes: one document per post and parent who likes it -----------------------


def _like_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, PostLiked | PostUnliked)
    return like_key(event.post_id, event.parent_id)


def _like(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    match event:
        case PostLiked():
            return {
                "post_id": event.post_id,
                "parent_id": event.parent_id,
                "school_id": recorded.metadata.school_id,
                "liked_at": when(recorded.metadata.occurred_at),
            }
        case PostUnliked():
            return None
    return doc


likes = Projection(name=LIKES, handles=(PostLiked, PostUnliked), key=_like_key, evolve=_like)


# -- stories.comments --------------------------------------------------------------------


# One document per author holds their comments; each comment is derived from it as a document
# of its own (what a post's comments are read from). So when a parent closes their account,
# one event changes every comment they wrote: each then reads "removed", as a rebuild would.


def _author_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    match event:
        case CommentAdded():
            return f"a:{event.author_id}"
        case ParentAccountClosed():
            return f"a:{event.parent_id}"
        case StaffMemberErased():
            return f"a:{event.staff_id}"
    raise AssertionError(f"{COMMENTS} does not handle {type(event).__name__}")


def _author(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    if isinstance(event, ParentAccountClosed | StaffMemberErased):
        if doc is None:
            return None
        kept = {c: {**comment, "text": REMOVED} for c, comment in doc["comments"].items()}
        return {**doc, "comments": kept, "closed": True}
    assert isinstance(event, CommentAdded)
    doc = doc or {"author_id": event.author_id, "comments": {}, "closed": False}
    comment = {
        "comment_id": event.comment_id,
        "post_id": event.post_id,
        "school_id": recorded.metadata.school_id,
        "author_id": event.author_id,
        "text": REMOVED if doc["closed"] else event.text,
        "added_at": when(recorded.metadata.occurred_at),
    }
    return {**doc, "comments": {**doc["comments"], event.comment_id: comment}}


def _comment_docs(key: str, doc: Doc) -> dict[str, Doc]:
    return {f"c:{c}": comment for c, comment in doc["comments"].items()}


comments = Projection(
    name=COMMENTS,
    handles=(CommentAdded, ParentAccountClosed, StaffMemberErased),
    key=_author_key,
    evolve=_author,
    derive=_comment_docs,
    indexes=(("post_id", "added_at"),),
    version=2,  # by author, so that closing an account reaches every comment at once
)


# -- stories.settings --------------------------------------------------------------------


def _settings(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    assert isinstance(event, StorySettingsChanged)
    return {"school_id": recorded.metadata.school_id, "comments_enabled": event.comments_enabled}


settings = Projection(
    name=SETTINGS,
    handles=(StorySettingsChanged,),
    key=lambda recorded: recorded.metadata.school_id,
    evolve=_settings,
)


# -- stories.portfolio -------------------------------------------------------------------

ItemEvent = PortfolioItemSubmitted | PortfolioItemApproved | PortfolioItemSentBack


def _item_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, ItemEvent)
    return event.item_id


def _item(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    at = when(recorded.metadata.occurred_at)
    match event:
        case PortfolioItemSubmitted():
            return {
                **_without_markers(doc or {"first_submitted_at": at}),
                "item_id": event.item_id,
                "school_id": recorded.metadata.school_id,
                "pupil_id": event.pupil_id,
                "class_id": event.class_id,
                "text": event.text,
                "task_id": event.task_id,
                "status": "submitted",
                "note": None,
                "submitted_at": at,
                "decided_by": None,
                "decided_at": None,
                **_attachments(event.attachments),
            }
        case PortfolioItemApproved() if doc is not None:
            return {**doc, "status": "approved", "decided_by": event.approved_by, "decided_at": at}
        case PortfolioItemSentBack() if doc is not None:
            return {
                **doc,
                "status": "sent_back",
                "note": event.note,
                "decided_by": event.sent_back_by,
                "decided_at": at,
            }
    return doc


portfolio = Projection(
    name=PORTFOLIO,
    handles=(PortfolioItemSubmitted, PortfolioItemApproved, PortfolioItemSentBack),
    key=_item_key,
    evolve=_item,
)


# -- stories.home_learning ---------------------------------------------------------------


def _task(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    assert isinstance(event, HomeLearningTaskSet)
    at = when(recorded.metadata.occurred_at)
    return {
        "task_id": event.task_id,
        "school_id": recorded.metadata.school_id,
        "class_id": event.class_id,
        "title": event.title,
        "instructions": event.instructions,
        "due_on": None if event.due_on is None else event.due_on.isoformat(),
        "set_by": event.set_by,
        "set_at": (doc or {}).get("set_at", at),
        "changed_at": at,
    }


home_learning = Projection(
    name=HOME_LEARNING,
    handles=(HomeLearningTaskSet,),
    key=lambda recorded: str(getattr(recorded.event, "task_id")),  # noqa: B009
    evolve=_task,
)


# -- stories.media_consent: may pupil P appear in media? ---------------------------------

media_consent = media_consent_projection(MEDIA_CONSENT)
pupils = pupils_projection(PUPILS)
schools = schools_projection(SCHOOLS)

PROJECTIONS = (
    posts,
    likes,
    comments,
    settings,
    portfolio,
    home_learning,
    media_consent,
    pupils,
    schools,
)
