"""Everything the school holds about a person, as one archive they can keep.

The log is the truth, so an export reads it: every event of the school that is about the
person or, for a parent, about their children, opened with the deployment's keyring (an
erased person's values read as removed here too). What it finds is written as
``data.json``, a readable ``index.html`` and the photos and documents it names, in a zip.

Who is in it is decided by ids, never by names:

- a parent: their own likes, comments, code-of-conduct acceptances and suspensions, and
  about each of their children the child's record, points, targets, portfolio, the stories
  a photo of the child is in (those photos only), and the consent records. A child's care
  status and media exceptions stay with the school's leaders; another guardian is "another
  guardian", without their id.
- a member of staff: their own record, the stories they wrote, their comments, the messages
  they wrote to families, and how many points they gave (not to whom: that is the
  children's).
- a parent's conversations with the school (every message in those they are in, withdrawn
  and hidden ones marked) and the absences reported for their children. The photos and
  PDFs of messages are named by id; the messaging service serves them to the family.
- a pupil, exported by a leader: all of the above about the child, care status included.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import io
import json
import uuid
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import structlog
from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.consent import (
    CodeOfConductAccepted,
    GuardianLinked,
    GuardianRequestApproved,
    GuardianRequested,
    GuardianRequestRejected,
    MediaConsentExceptionRecorded,
    MediaConsentGranted,
    MediaConsentWithdrawn,
    ParentSuspended,
    ParentSuspensionLifted,
    PupilCareStatusRecorded,
)
from schoolgate_contracts.messaging import (
    AbsenceRecorded,
    AbsenceReported,
    ConversationPassedToClass,
    ConversationPassedToOffice,
    ConversationStarted,
    MessageHidden,
    MessageSent,
    MessageWithdrawn,
)
from schoolgate_contracts.points import DailyTargetSet, PointAwarded, PointAwardUndone
from schoolgate_contracts.roster import (
    ClassAdded,
    ClassDetailsChanged,
    PupilAvatarChosen,
    PupilDetailsChanged,
    PupilEnrolled,
    PupilErased,
    PupilLeft,
    PupilMovedClass,
    SchoolWayAdded,
    SchoolWayChanged,
    StaffDetailsChanged,
    StaffMemberAdded,
    StaffRoleChanged,
)
from schoolgate_contracts.stories import (
    Attachment,
    CommentAdded,
    PortfolioItemApproved,
    PortfolioItemSentBack,
    PortfolioItemSubmitted,
    PostDeleted,
    PostEdited,
    PostLiked,
    PostPublished,
    PostUnliked,
)
from schoolgate_kit.eventstore import EventStore
from schoolgate_kit.media import MediaStore
from schoolgate_kit.private import PrivateStore

log = structlog.get_logger()

Kind = Literal["parent", "staff", "pupil"]
PAGE = 1000
MEDIA_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/gif": "gif",
    "application/pdf": "pdf",
    "video/mp4": "mp4",
}

TYPES = tuple(
    cls.event_type
    for cls in (
        ConversationStarted,
        MessageSent,
        MessageWithdrawn,
        MessageHidden,
        ConversationPassedToOffice,
        ConversationPassedToClass,
        AbsenceReported,
        AbsenceRecorded,
        ClassAdded,
        ClassDetailsChanged,
        SchoolWayAdded,
        SchoolWayChanged,
        StaffMemberAdded,
        StaffDetailsChanged,
        StaffRoleChanged,
        PupilEnrolled,
        PupilDetailsChanged,
        PupilAvatarChosen,
        PupilMovedClass,
        PupilLeft,
        PupilErased,
        PointAwarded,
        PointAwardUndone,
        DailyTargetSet,
        PostPublished,
        PostEdited,
        PostDeleted,
        PostLiked,
        PostUnliked,
        CommentAdded,
        PortfolioItemSubmitted,
        PortfolioItemApproved,
        PortfolioItemSentBack,
        GuardianLinked,
        GuardianRequested,
        GuardianRequestApproved,
        GuardianRequestRejected,
        MediaConsentGranted,
        MediaConsentWithdrawn,
        MediaConsentExceptionRecorded,
        PupilCareStatusRecorded,
        CodeOfConductAccepted,
        ParentSuspended,
        ParentSuspensionLifted,
    )
)
"""The events an export reads: the school's names for things, and what may be about a person."""


@dataclass(frozen=True)
class Subject:
    school_id: str
    kind: Kind
    person_id: str
    """The parent, the member of staff, or the pupil."""
    pupil_ids: frozenset[str] = frozenset()
    """A parent's children; for a pupil's export, the pupil."""

    @property
    def sees_care(self) -> bool:
        return self.kind == "pupil"


@dataclass
class _Post:
    post_id: str
    author_id: str
    text: str
    attachments: tuple[Attachment, ...]
    at: str
    deleted: bool = False


@dataclass
class Collected:
    """What the log holds about the subject, ready to write."""

    data: dict[str, Any]
    media: dict[str, str] = field(default_factory=dict)
    """Media ids the archive includes, by the section that named them."""


Progress = Callable[[float], Awaitable[None]]
FetchMedia = Callable[[str], Awaitable[tuple[str, bytes] | None]]


async def collect(store: EventStore, subject: Subject, *, progress: Progress) -> Collected:
    """Read the log once, in pages, saying how far it has got (0 to 1) after each."""
    head = await store.head()
    found = _Finder(subject)
    position = 0
    while True:
        batch = await store.read_all(after=position, limit=PAGE, types=TYPES)
        for recorded in batch.events:
            if recorded.metadata.school_id == subject.school_id:
                found.see(recorded)
        position = batch.up_to
        await progress(min(position / head, 1.0) if head else 1.0)
        if batch.caught_up or position >= head:
            break
    return found.collected()


async def archive(collected: Collected, fetch: FetchMedia) -> bytes:
    """The zip: ``data.json``, ``index.html`` and ``media/``. A media file that is gone
    (deleted since) is listed as missing, not an error."""
    buffer = io.BytesIO()
    files: dict[str, str] = {}
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for media_id in sorted(collected.media):
            got = await fetch(media_id)
            if got is None:
                continue
            content_type, content = got
            name = f"media/{media_id}.{MEDIA_EXTENSIONS.get(content_type, 'bin')}"
            # photos are compressed already: stored, not deflated again
            out.writestr(zipfile.ZipInfo(name), content, compress_type=zipfile.ZIP_STORED)
            files[media_id] = name
        data = {**collected.data, "media_files": files}
        out.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False))
        out.writestr("index.html", _index(data))
    return buffer.getvalue()


class _Finder:
    def __init__(self, subject: Subject) -> None:
        self.subject = subject
        self.pupils = subject.pupil_ids
        self.classes: dict[str, str] = {}
        self.ways: dict[str, str] = {}
        self.staff: dict[str, str] = {}
        self.children: dict[str, dict[str, Any]] = {}
        self.points: list[dict[str, Any]] = []
        self.targets: list[dict[str, Any]] = []
        self.portfolio: dict[str, dict[str, Any]] = {}
        self.posts: dict[str, _Post] = {}
        self.liked: dict[str, bool] = {}
        self.comments: list[dict[str, Any]] = []
        self.consent: list[dict[str, Any]] = []
        self.account: list[dict[str, Any]] = []
        self.given: dict[str, int] = {}
        self.me: dict[str, Any] = {}
        self.conversations: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, dict[str, Any]] = {}
        self.sent: list[dict[str, Any]] = []
        self.absences: dict[str, dict[str, Any]] = {}

    def _message(self, event: MessageSent, at: str) -> None:
        said = {
            "from": "you" if event.sender_id == self.subject.person_id else event.side,
            "text": event.text,
            "files": [a.media_id for a in event.attachments],
            "at": event.visible_from.isoformat(),
        }
        conversation = self.conversations.get(event.conversation_id)
        if conversation is not None:
            conversation["messages"].append(said)
            self.messages[event.message_id] = said
        elif event.sender_id == self.subject.person_id and self.subject.kind == "staff":
            said = {"conversation_id": event.conversation_id, **said}
            self.sent.append(said)
            self.messages[event.message_id] = said

    # -- reading ------------------------------------------------------------------------

    def see(self, recorded: RecordedEvent) -> None:
        event, at = recorded.event, recorded.metadata.occurred_at.isoformat()
        me = self.subject.person_id
        match event:
            case ClassAdded() | ClassDetailsChanged():
                self.classes[event.class_id] = event.name
            case SchoolWayAdded() | SchoolWayChanged():
                self.ways[event.school_way_id] = event.name
            case StaffMemberAdded() | StaffDetailsChanged():
                self.staff[event.staff_id] = event.display_name
                if self.subject.kind == "staff" and event.staff_id == me:
                    self.me.update(display_name=event.display_name, email=event.email)
                    if isinstance(event, StaffMemberAdded):
                        self.me.update(role=event.role.value, added=at)
            case StaffRoleChanged() if self.subject.kind == "staff" and event.staff_id == me:
                self.me["role"] = event.role.value
            case PupilEnrolled() if event.pupil_id in self.pupils:
                self.children[event.pupil_id] = {
                    "pupil_id": event.pupil_id,
                    "first_name": event.first_name,
                    "surname": event.surname,
                    "class_id": event.class_id,
                    "enrolled": at,
                    "left": None,
                    "history": [],
                }
            case PupilDetailsChanged() if event.pupil_id in self.children:
                self.children[event.pupil_id].update(
                    first_name=event.first_name, surname=event.surname
                )
            case PupilMovedClass() if event.pupil_id in self.children:
                child = self.children[event.pupil_id]
                child["history"].append({"moved_to": event.to_class_id, "at": at})
                child["class_id"] = event.to_class_id
            case PupilLeft() if event.pupil_id in self.children:
                self.children[event.pupil_id]["left"] = at
            case PupilErased() if event.pupil_id in self.children:
                self.children[event.pupil_id]["erased"] = at
            case PointAwarded():
                if event.pupil_id in self.pupils:
                    self.points.append(self._point(event, at, undone=False))
                if self.subject.kind == "staff" and event.awarded_by == me:
                    month = event.school_date.strftime("%Y-%m")
                    self.given[month] = self.given.get(month, 0) + event.points
            case PointAwardUndone() if event.pupil_id in self.pupils:
                self.points.append(self._point(event, at, undone=True))
            case DailyTargetSet() if event.pupil_id in self.pupils:
                self.targets.append(
                    {"pupil_id": event.pupil_id, "points_per_day": event.points_per_day, "at": at}
                )
            case PostPublished():
                self.posts[event.post_id] = _Post(
                    event.post_id, event.author_id, event.text, event.attachments, at
                )
            case PostEdited() if event.post_id in self.posts:
                post = self.posts[event.post_id]
                post.text, post.attachments = event.text, event.attachments
            case PostDeleted() if event.post_id in self.posts:
                self.posts[event.post_id].deleted = True
            case PostLiked() if event.parent_id == me:
                self.liked[event.post_id] = True
            case PostUnliked() if event.parent_id == me:
                self.liked[event.post_id] = False
            case ConversationStarted() if me in event.parent_ids:
                self.conversations[event.conversation_id] = {
                    "about": event.pupil_id,
                    "with": "the office" if event.inbox == "office" else "the class",
                    "messages": [],
                }
            case MessageSent():
                self._message(event, at)
            case MessageWithdrawn() | MessageHidden() if event.message_id in self.messages:
                mark = "withdrawn" if isinstance(event, MessageWithdrawn) else "hidden"
                self.messages[event.message_id][mark] = True
            case ConversationPassedToOffice() | ConversationPassedToClass() if (
                event.conversation_id in self.conversations
            ):
                where = (
                    "the office" if isinstance(event, ConversationPassedToOffice) else "the class"
                )
                self.conversations[event.conversation_id]["with"] = where
            case AbsenceReported() if event.pupil_id in self.pupils:
                self.absences[event.absence_id] = {
                    "pupil_id": event.pupil_id,
                    "first_day": event.first_day.isoformat(),
                    "last_day": event.last_day.isoformat(),
                    "reason": event.reason,
                    "note": event.note,
                    "reported_at": at,
                    "recorded_by_the_office": False,
                }
            case AbsenceRecorded() if event.absence_id in self.absences:
                self.absences[event.absence_id]["recorded_by_the_office"] = True
            case CommentAdded() if event.author_id == me:
                self.comments.append({"post_id": event.post_id, "text": event.text, "at": at})
            case PortfolioItemSubmitted() if event.pupil_id in self.pupils:
                self.portfolio[event.item_id] = {
                    "item_id": event.item_id,
                    "pupil_id": event.pupil_id,
                    "text": event.text,
                    "media": [a.media_id for a in event.attachments],
                    "descriptions": [a.alt_text for a in event.attachments],
                    "submitted": at,
                    "status": "waiting for the teacher",
                }
            case PortfolioItemApproved() if event.item_id in self.portfolio:
                self.portfolio[event.item_id]["status"] = "approved"
            case PortfolioItemSentBack() if event.item_id in self.portfolio:
                self.portfolio[event.item_id].update(status="sent back", note=event.note)
            case GuardianLinked() | GuardianRequested() | GuardianRequestApproved() if (
                event.pupil_id in self.pupils
            ):
                self.consent.append(self._guardian(event, at))
            case GuardianRequestRejected() if event.pupil_id in self.pupils:
                self.consent.append(self._guardian(event, at))
            case MediaConsentGranted() if event.pupil_id in self.pupils:
                self.consent.append({"pupil_id": event.pupil_id, "media_consent": True, "at": at})
            case MediaConsentWithdrawn() if event.pupil_id in self.pupils:
                self.consent.append({"pupil_id": event.pupil_id, "media_consent": False, "at": at})
            case MediaConsentExceptionRecorded() if (
                event.pupil_id in self.pupils and self.subject.sees_care
            ):
                self.consent.append(
                    {"pupil_id": event.pupil_id, "media_exception": event.reason, "at": at}
                )
            case PupilCareStatusRecorded() if (
                event.pupil_id in self.pupils and self.subject.sees_care
            ):
                self.consent.append(
                    {"pupil_id": event.pupil_id, "in_care": event.in_care, "at": at}
                )
            case CodeOfConductAccepted() if event.parent_id == me:
                self.account.append({"code_of_conduct_accepted": event.version, "at": at})
            case ParentSuspended() if event.parent_id == me:
                self.account.append({"suspended": event.reason, "at": at})
            case ParentSuspensionLifted() if event.parent_id == me:
                self.account.append({"suspension_lifted": True, "at": at})

    def _point(self, event: PointAwarded | PointAwardUndone, at: str, *, undone: bool) -> Doc:
        return {
            "pupil_id": event.pupil_id,
            "value": self.ways.get(event.school_way_id, event.school_way_id),
            "points": event.points,
            "kind": event.kind,
            "school_date": event.school_date.isoformat(),
            "undone": undone,
            "at": at,
        }

    def _guardian(
        self,
        event: GuardianLinked
        | GuardianRequested
        | GuardianRequestApproved
        | GuardianRequestRejected,
        at: str,
    ) -> Doc:
        who = "you" if event.parent_id == self.subject.person_id else "another guardian"
        if self.subject.kind == "pupil":
            who = event.parent_id
        record: Doc = {"pupil_id": event.pupil_id, "guardian": who, "at": at}
        record["what"] = {
            GuardianLinked: "became a guardian",
            GuardianRequested: "asked to become a guardian",
            GuardianRequestApproved: "request approved",
            GuardianRequestRejected: "request turned down",
        }[type(event)]
        if isinstance(event, GuardianRequestApproved | GuardianRequestRejected) and (
            who == "you" or self.subject.kind == "pupil"
        ):
            record["reason"] = event.reason
        return record

    # -- writing ------------------------------------------------------------------------

    def collected(self) -> Collected:
        media: dict[str, str] = {}
        stories = []
        for post in self.posts.values():
            if post.deleted:
                continue
            if self.subject.kind == "staff":
                shown = list(post.attachments) if post.author_id == self.subject.person_id else []
                if post.author_id != self.subject.person_id:
                    continue
            else:
                shown = [a for a in post.attachments if set(a.tagged_pupil_ids) & self.pupils]
                if not shown:
                    continue
            for attachment in shown:
                media[attachment.media_id] = "stories"
            stories.append(
                {
                    "post_id": post.post_id,
                    "text": post.text,
                    "at": post.at,
                    "photos": [{"media_id": a.media_id, "description": a.alt_text} for a in shown],
                }
            )
        for item in self.portfolio.values():
            for media_id in item["media"]:
                media[media_id] = "portfolio"
        for child in self.children.values():
            child["class"] = self.classes.get(child["class_id"], child["class_id"])
        data: dict[str, Any] = {
            "about": self.subject.kind,
            "school_id": self.subject.school_id,
            "person_id": self.subject.person_id,
        }
        if self.subject.kind == "staff":
            data |= {
                "you": self.me,
                "stories_you_wrote": stories,
                "your_comments": self.comments,
                "messages_you_wrote": self.sent,
                "points_you_gave_by_month": dict(sorted(self.given.items())),
            }
        else:
            data |= {
                "children" if self.subject.kind == "parent" else "pupil": list(
                    self.children.values()
                ),
                "points": self.points,
                "targets": self.targets,
                "portfolio": list(self.portfolio.values()),
                "stories_with_a_photo_of_them": stories,
                "consent": self.consent,
            }
        if self.subject.kind == "parent":
            data |= {
                "your_likes": sorted(p for p, liked in self.liked.items() if liked),
                "your_comments": self.comments,
                "your_conversations_with_the_school": list(self.conversations.values()),
                "absences_you_reported": list(self.absences.values()),
                "your_account": self.account,
            }
        return Collected(data=data, media=media)


Doc = dict[str, Any]

SECTIONS = {
    "you": "You",
    "children": "Your children",
    "pupil": "The pupil",
    "points": "Points",
    "targets": "Daily targets",
    "portfolio": "Portfolio",
    "stories_with_a_photo_of_them": "Stories with a photo of them",
    "stories_you_wrote": "Stories you wrote",
    "consent": "Consent and guardians",
    "your_likes": "Stories you liked",
    "your_comments": "Your comments",
    "your_account": "Your account",
    "points_you_gave_by_month": "Points you gave, by month",
    "your_conversations_with_the_school": "Your conversations with the school",
    "absences_you_reported": "Absences you reported",
    "messages_you_wrote": "Messages you wrote to families",
}


def _index(data: dict[str, Any]) -> str:
    """A plain page that opens in any browser, offline: every value escaped."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        "<title>Your data from Schoolgate</title>",
        "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:1rem auto;",
        "padding:0 1rem;color:#1b1b1b}table{border-collapse:collapse;width:100%}",
        "td,th{border:1px solid #999;padding:.3rem;text-align:left;vertical-align:top;",
        "overflow-wrap:anywhere}img{max-width:12rem}</style></head><body>",
        "<h1>Your data from Schoolgate</h1>",
        f"<p>Made {html.escape(datetime.now().date().isoformat())}. The same data is in",
        " <code>data.json</code>, for other programs; photos and documents are in the",
        " <code>media</code> folder.</p>",
    ]
    files: dict[str, str] = data.get("media_files", {})
    for key, title in SECTIONS.items():
        if key not in data:
            continue
        parts.append(f"<h2>{html.escape(title)}</h2>")
        parts.append(_html_value(data[key], files))
    parts.append("</body></html>")
    return "".join(parts)


def _html_value(value: Any, files: dict[str, str]) -> str:
    if isinstance(value, list):
        if not value:
            return "<p>Nothing.</p>"
        if all(isinstance(v, dict) for v in value):
            keys = sorted({k for v in value for k in v})
            head = "".join(f"<th scope='col'>{html.escape(k)}</th>" for k in keys)
            rows = "".join(
                "<tr>" + "".join(f"<td>{_html_value(v.get(k), files)}</td>" for k in keys) + "</tr>"
                for v in value
            )
            return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        return "<ul>" + "".join(f"<li>{_html_value(v, files)}</li>" for v in value) + "</ul>"
    if isinstance(value, dict):
        if "media_id" in value and value["media_id"] in files:
            src = html.escape(files[value["media_id"]], quote=True)
            alt = html.escape(str(value.get("description") or "a photo"), quote=True)
            return f"<a href='{src}'><img src='{src}' alt='{alt}'></a>"
        if not value:
            return "<p>Nothing.</p>"
        rows = "".join(
            f"<tr><th scope='row'>{html.escape(str(k))}</th><td>{_html_value(v, files)}</td></tr>"
            for k, v in value.items()
        )
        return f"<table>{rows}</table>"
    if value is None:
        return ""
    if isinstance(value, str) and value in files:
        src = html.escape(files[value], quote=True)
        return f"<a href='{src}'>{html.escape(value)}</a>"
    return html.escape(str(value))


# -- the jobs -------------------------------------------------------------------------------
#
# An export is built in the background: the request answers at once with the job, whose
# progress the page shows, and the archive is kept (in the media store, which every replica
# shares) until the link expires. A job whose process stopped is seen as stale and may be
# asked for again.

EXPORTS, ARCHIVES = "exports", "export_archives"
KEPT = timedelta(hours=24)
STALE = timedelta(minutes=2)
MAX_ARCHIVE_BYTES = 256 * 1024 * 1024
"""Larger than any family's photos; a larger archive fails with a reason instead."""
BUILDING, READY, FAILED = "building", "ready", "failed"


class Exports:
    def __init__(
        self,
        store: EventStore,
        media: MediaStore,
        jobs: PrivateStore,
        *,
        clock: Callable[[], datetime],
    ) -> None:
        self._store = store
        self._media = media
        self._jobs = jobs
        self._clock = clock
        self._running: set[asyncio.Task[None]] = set()

    async def start(self, requester: str, subject: Subject, fetch: FetchMedia) -> Doc:
        """The requester's building job for this subject, or a new one."""
        await self.forget_expired()
        now = self._clock()
        for job in (await self._jobs.in_group(EXPORTS, requester, now=now)).values():
            if job["subject"] == _subject_doc(subject) and self._view(job)["status"] == BUILDING:
                return self._view(job)
        export_id = f"exp_{uuid.uuid4().hex}"
        job = {
            "export_id": export_id,
            "requester": requester,
            "subject": _subject_doc(subject),
            "status": BUILDING,
            "progress": 0.0,
            "started_at": now.isoformat(),
            "updated_at": now.isoformat(),
        }
        await self._save(job)
        task = asyncio.create_task(self._build(job, subject, fetch), name=f"export:{export_id}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return self._view(job)

    async def job(self, requester: str, export_id: str) -> Doc | None:
        """The requester's job; None for anyone else's (or none at all)."""
        job = await self._jobs.get(EXPORTS, export_id, now=self._clock())
        if job is None or job["requester"] != requester:
            return None
        return self._view(job)

    async def jobs(self, requester: str) -> list[Doc]:
        await self.forget_expired()
        found = await self._jobs.in_group(EXPORTS, requester, now=self._clock())
        return sorted((self._view(j) for j in found.values()), key=lambda j: j["started_at"])

    async def archive(self, requester: str, export_id: str) -> bytes | None:
        job = await self.job(requester, export_id)
        if job is None or job["status"] != READY:
            return None
        got = await self._media.get(export_id)
        return None if got is None else got[1]

    async def close(self) -> None:
        for task in list(self._running):
            task.cancel()
        for task in list(self._running):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _view(self, job: Doc) -> Doc:
        view = {k: job[k] for k in ("export_id", "status", "progress", "started_at")}
        view["expires_at"] = job.get("expires_at")
        view["reason"] = job.get("reason")
        updated = datetime.fromisoformat(job["updated_at"])
        if job["status"] == BUILDING and self._clock() - updated > STALE:
            view.update(status=FAILED, reason="It stopped part way. Please ask again.")
        return view

    async def _save(self, job: Doc) -> None:
        started = datetime.fromisoformat(job["started_at"])
        await self._jobs.put(
            EXPORTS,
            job["export_id"],
            job,
            now=self._clock(),
            group=job["requester"],
            expires_at=started + KEPT,
        )

    async def _build(self, job: Doc, subject: Subject, fetch: FetchMedia) -> None:
        async def progress(done: float) -> None:
            # most of the work is reading the log: it is nine tenths of the bar
            job.update(progress=round(done * 0.9, 3), updated_at=self._clock().isoformat())
            await self._save(job)

        try:
            collected = await collect(self._store, subject, progress=progress)
            data = await archive(collected, fetch)
            if len(data) > MAX_ARCHIVE_BYTES:
                raise ArchiveTooLarge
            started = datetime.fromisoformat(job["started_at"])
            await self._jobs.put(
                ARCHIVES,
                job["export_id"],
                {"expires_at": (started + KEPT).isoformat()},
                now=self._clock(),
                group=ARCHIVES,
            )
            await self._media.put(
                job["export_id"],
                data,
                school_id=subject.school_id,
                owner=job["requester"],
                content_type="application/zip",
            )
            job.update(status=READY, progress=1.0, expires_at=(started + KEPT).isoformat())
        except ArchiveTooLarge:
            job.update(status=FAILED, reason="It is too large to download: please ask the school.")
        except Exception:
            log.exception("export.failed", export_id=job["export_id"])
            job.update(status=FAILED, reason="Something went wrong. Please ask again.")
        job["updated_at"] = self._clock().isoformat()
        await self._save(job)

    async def forget_expired(self) -> int:
        """Delete the archives whose link has expired. The jobs' documents expire with
        their links, so each archive is also listed, without expiry, in ``ARCHIVES`` until
        it is deleted here (at every start of an export, and every listing)."""
        now = self._clock()
        gone = 0
        for export_id, kept in (await self._jobs.in_group(ARCHIVES, ARCHIVES, now=now)).items():
            if datetime.fromisoformat(kept["expires_at"]) <= now:
                await self._media.delete(export_id)
                await self._jobs.delete(ARCHIVES, export_id)
                gone += 1
        return gone


class ArchiveTooLarge(Exception):
    pass


def _subject_doc(subject: Subject) -> Doc:
    return {
        "school_id": subject.school_id,
        "kind": subject.kind,
        "person_id": subject.person_id,
        "pupil_ids": sorted(subject.pupil_ids),
    }
