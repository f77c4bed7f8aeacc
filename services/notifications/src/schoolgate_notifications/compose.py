"""Who hears about an event, and in what words.

Each notification names only what its recipient may see: a family hears about its own child
by first name; a story or announcement names the class or school, never another child; a
message says who wrote and about which child, never what it says (the app shows the words to
whoever may read them). No notification carries a photo, so no child appears in one
without consent, and nothing written in one needs a second consent check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.consent import GuardianLinked, ParentSuspended
from schoolgate_contracts.messaging import MessageSent
from schoolgate_contracts.notifications import EmergencyNoticeSent
from schoolgate_contracts.points import PointAwarded
from schoolgate_contracts.privacy import REMOVED
from schoolgate_contracts.stories import PortfolioItemApproved, PostPublished
from schoolgate_kit.readmodels import Doc, OneOf, ReadModelStore

from schoolgate_notifications.projections import FAMILIES, PUPILS, SCHOOLS, STAFF

CLASS_STAFF = frozenset({"teacher", "teaching_assistant"})
OFFICE_STAFF = frozenset({"office"})


def family_key(parent_id: str) -> str:
    return f"parent:{parent_id}"


def staff_key(staff_id: str) -> str:
    return f"staff:{staff_id}"


@dataclass(frozen=True)
class Note:
    """One notification for one person: what every channel shows of it."""

    recipient: str
    """``parent:<id>`` or ``staff:<id>``: who, and so which defaults and quiet hours."""
    school_id: str
    kind: str
    title: str
    body: str
    url: str
    pupil_id: str | None = None
    pupil_name: str | None = None
    count: int = 1
    extra: dict[str, Any] = field(default_factory=dict)
    post_id: str | None = None
    """The story it tells of: a story deleted since is told of no more."""
    shows_from: datetime | None = None
    """When what it tells of can be seen, if later than the event (a story scheduled for
    Friday morning): nobody is told of it before then, on any channel."""

    def as_doc(self) -> Doc:
        return {
            "recipient": self.recipient,
            "school_id": self.school_id,
            "kind": self.kind,
            "title": self.title,
            "body": self.body,
            "url": self.url,
            "pupil_id": self.pupil_id,
            "pupil_name": self.pupil_name,
            "count": self.count,
            "post_id": self.post_id,
        }


class Directory:
    """Reads of the service's own projections, for one event at a time."""

    def __init__(self, readmodels: ReadModelStore) -> None:
        self.readmodels = readmodels

    async def pupil(self, pupil_id: str, school_id: str) -> Doc | None:
        doc = await self.readmodels.get(PUPILS, pupil_id)
        return doc if doc is not None and doc.get("school_id") == school_id else None

    async def guardians(self, pupil_ids: Iterable[str], school_id: str) -> list[str]:
        """Each parent once, however many of these pupils are theirs."""
        families = await self.readmodels.get_many(FAMILIES, list(pupil_ids))
        seen: dict[str, None] = {}
        for family in families.values():
            if family.get("school_id") != school_id:
                continue
            for parent in family.get("parent_ids", []):
                seen.setdefault(parent, None)
        return list(seen)

    async def pupils_of(
        self, school_id: str, *, class_ids: Iterable[str] = (), year_group_id: str | None = None
    ) -> list[str]:
        where: dict[str, Any] = {"school_id": school_id, "left": False}
        classes = list(class_ids)
        if classes:
            where["class_id"] = OneOf(tuple(classes))
        elif year_group_id is not None:
            where["year_group_id"] = year_group_id
        return [d["pupil_id"] for d in await self.readmodels.find(PUPILS, where)]

    async def staff(self, school_id: str) -> list[Doc]:
        return await self.readmodels.find(STAFF, {"school_id": school_id, "left": False})

    async def staff_member(self, staff_id: str, school_id: str) -> Doc | None:
        doc = await self.readmodels.get(STAFF, staff_id)
        return doc if doc is not None and doc.get("school_id") == school_id else None

    async def school(self, school_id: str) -> Doc:
        return await self.readmodels.get(SCHOOLS, school_id) or {}


def _first_name(pupil: Doc | None) -> str | None:
    name = pupil.get("first_name") if pupil else None
    return None if not name or name == REMOVED else str(name)


def _staff_name(staff: Doc | None, fallback: str) -> str:
    name = staff.get("name") if staff else None
    return fallback if not name or name == REMOVED else str(name)


def _families(
    parents: Iterable[str], school_id: str, kind: str, title: str, body: str, url: str, **more: Any
) -> list[Note]:
    return [Note(family_key(p), school_id, kind, title, body, url, **more) for p in parents]


async def _point(recorded: RecordedEvent, event: PointAwarded, d: Directory) -> list[Note]:
    school_id = recorded.metadata.school_id
    if event.pupil_id == REMOVED:
        return []  # delivered after its week was erased: nobody's point any more
    name = _first_name(await d.pupil(event.pupil_id, school_id))
    if name is None:
        return []
    value = (await d.school(school_id)).get("school_ways", {}).get(event.school_way_id, "")
    points = event.points
    if event.kind == "needs_work":
        title = f"{name}: something to work on"
        body = f"{value}: a note from school to talk about at home." if value else ""
    else:
        title = f"{name} got {points} point{'s' if points != 1 else ''}"
        body = f"For {value}." if value else ""
    parents = await d.guardians([event.pupil_id], school_id)
    return _families(
        parents, school_id, "points", title, body, "#home",
        pupil_id=event.pupil_id, pupil_name=name, count=points, extra={"subject": value or None},
    )  # fmt: skip


async def _post(recorded: RecordedEvent, event: PostPublished, d: Directory) -> list[Note]:
    school_id = recorded.metadata.school_id
    school = await d.school(school_id)
    audience = event.audience
    author = _staff_name(await d.staff_member(event.author_id, school_id), "The school")
    if audience.kind == "classes":
        pupils = await d.pupils_of(school_id, class_ids=audience.class_ids)
        names = [school.get("classes", {}).get(c) for c in audience.class_ids]
        where = ", ".join(n for n in names if n) or "your child's class"
        kind = "class_stories"
    elif audience.kind == "year_group":
        pupils = await d.pupils_of(school_id, year_group_id=audience.year_group_id)
        where = school.get("year_groups", {}).get(audience.year_group_id or "", "the year group")
        kind = "school_stories"
    else:
        pupils = await d.pupils_of(school_id)
        where = school.get("name") or "the school"
        kind = "school_stories"
    parents = await d.guardians(pupils, school_id)
    later = event.visible_from if event.visible_from > recorded.metadata.occurred_at else None
    return _families(
        parents, school_id, kind, f"New story for {where}", f"From {author}.", "#news",
        extra={"sender": author, "subject": where}, post_id=event.post_id, shows_from=later,
    )  # fmt: skip


async def _approved(
    recorded: RecordedEvent, event: PortfolioItemApproved, d: Directory
) -> list[Note]:
    school_id = recorded.metadata.school_id
    name = _first_name(await d.pupil(event.pupil_id, school_id))
    if name is None:
        return []
    parents = await d.guardians([event.pupil_id], school_id)
    return _families(
        parents, school_id, "approved_work", f"{name}'s work is in their portfolio",
        "Their teacher approved it.", "#home", pupil_id=event.pupil_id, pupil_name=name,
    )  # fmt: skip


async def _message(recorded: RecordedEvent, event: MessageSent, d: Directory) -> list[Note]:
    school_id = recorded.metadata.school_id
    url = f"#conversation={event.conversation_id}"
    pupil = await d.pupil(event.pupil_id, school_id) if event.pupil_id else None
    name = _first_name(pupil)
    about = f" about {name}" if name else ""
    if event.side == "school":
        sender = _staff_name(await d.staff_member(event.sender_id, school_id), "The school")
        if event.announcement:
            pupils = await d.pupils_of(school_id, class_ids=[event.class_id or ""])
            parents = await d.guardians(pupils, school_id)
            title = f"Announcement from {sender}"
            return _families(
                parents, school_id, "announcements", title, "", url, extra={"sender": sender}
            )
        parents = [p for p in event.parent_ids if p != event.sender_id]
        title = f"Message from {sender}{about}"
        return _families(
            parents, school_id, "messages", title, "", url,
            pupil_id=event.pupil_id, pupil_name=name, extra={"sender": sender},
        )  # fmt: skip
    staff = await d.staff(school_id)
    if event.inbox == "office":
        readers = [s for s in staff if s.get("role") in OFFICE_STAFF]
        title = f"A family wrote to the office{about}"
    else:
        readers = [
            s
            for s in staff
            if s.get("role") in CLASS_STAFF and event.class_id in s.get("class_ids", [])
        ]
        title = f"A family wrote{about}"
    family = f"{name}'s family" if name else "A family"
    return [
        Note(
            staff_key(s["staff_id"]),
            school_id,
            "messages",
            title,
            "",
            url,
            pupil_id=event.pupil_id,
            pupil_name=name,
            extra={"sender": family},
        )
        for s in readers
        if s["staff_id"] != event.sender_id
    ]


async def _guardian(recorded: RecordedEvent, event: GuardianLinked, d: Directory) -> list[Note]:
    school_id = recorded.metadata.school_id
    name = _first_name(await d.pupil(event.pupil_id, school_id)) or "your child"
    others = [p for p in await d.guardians([event.pupil_id], school_id) if p != event.parent_id]
    welcome = _families(
        [event.parent_id], school_id, "account", f"You are linked to {name}",
        "You will see their points, stories and messages here.", "#home",
        pupil_id=event.pupil_id, pupil_name=name,
    )  # fmt: skip
    told = _families(
        others, school_id, "safety", f"Another parent or carer was linked to {name}",
        "If you did not expect this, please contact the school office.", "#home",
        pupil_id=event.pupil_id, pupil_name=name,
    )  # fmt: skip
    return welcome + told


async def _suspended(recorded: RecordedEvent, event: ParentSuspended, d: Directory) -> list[Note]:
    school_id = recorded.metadata.school_id
    return _families(
        [event.parent_id], school_id, "safety", "The school has paused your messaging",
        "You can still see your child's news. Please contact the school office.", "#messages",
    )  # fmt: skip


async def _emergency(
    recorded: RecordedEvent, event: EmergencyNoticeSent, d: Directory
) -> list[Note]:
    school_id = recorded.metadata.school_id
    parents = await d.guardians(await d.pupils_of(school_id), school_id)
    school = (await d.school(school_id)).get("name") or "School"
    return _families(
        parents, school_id, "emergency", f"{school}: urgent", event.text, "#home",
        extra={"sender": school, "subject": event.text},
    )  # fmt: skip


async def notes_for(recorded: RecordedEvent, directory: Directory) -> list[Note]:
    """Everyone this event tells something, each once."""
    match recorded.event:
        case PointAwarded() as event:
            return await _point(recorded, event, directory)
        case PostPublished() as event:
            return await _post(recorded, event, directory)
        case PortfolioItemApproved() as event:
            return await _approved(recorded, event, directory)
        case MessageSent() as event:
            return await _message(recorded, event, directory)
        case GuardianLinked() as event:
            return await _guardian(recorded, event, directory)
        case ParentSuspended() as event:
            return await _suspended(recorded, event, directory)
        case EmergencyNoticeSent() as event:
            return await _emergency(recorded, event, directory)
    return []
