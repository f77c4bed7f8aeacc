"""Who may read and write a conversation, and which of its messages they see. No I/O.

- A parent: the family conversations they are in, about a child who is still theirs; the
  announcements of their children's classes, to read (replies go privately).
- A teacher or teaching assistant: the class conversations of pupils now in their classes,
  and the messages sent while the pupil was in one of them. When a pupil moves class the
  new class's staff read what comes next; the old class's staff keep what was said in
  their class, read-only, until the end of the next term (120 days without term dates).
- The office: the office's conversations, whole.
- A leader: the office's conversations, announcements, and any conversation with a
  message reported to them. Leaders do not read class conversations otherwise: a family
  writes to their child's teacher, not to the head.
- Nobody else (pupils, class boards, school administrators) reads conversations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from schoolgate_contracts.messaging import Side
from schoolgate_kit.identity import CLASSROOM_ROLES, Identity, Role
from schoolgate_kit.readmodels import Doc

FORMER_CLASS_WITHOUT_TERMS = timedelta(days=120)


@dataclass(frozen=True)
class Access:
    side: Side
    reader: str
    """Whose receipt the reader's reading moves: their own id, or "school"."""
    write: bool
    classes: frozenset[str] | None = None
    """Only messages sent while the pupil was in these classes; None: every message."""
    why: str = ""


def readonly_until(moved: datetime, terms: tuple[tuple[date, date], ...]) -> datetime:
    """The end of the term after the one a pupil moved in (the day after its last day)."""
    day = moved.date()
    later = sorted(ends for starts, ends in terms if ends >= day)
    if len(later) >= 2:
        return datetime.combine(later[1] + timedelta(days=1), moved.timetz())
    if later:
        return datetime.combine(later[0] + timedelta(days=1), moved.timetz())
    return moved + FORMER_CLASS_WITHOUT_TERMS


def _former_classes(
    identity: Identity,
    conversation: Doc,
    pupil: Doc,
    now: datetime,
    terms: tuple[tuple[date, date], ...],
) -> frozenset[str]:
    kept: set[str] = set()
    for move in pupil.get("moves", ()):
        left = move["from"]
        if left not in identity.class_ids or left not in conversation["classes"]:
            continue
        if left == pupil["class_id"]:
            continue  # moved back: they are this class's pupil again
        if now < readonly_until(datetime.fromisoformat(move["at"]), terms):
            kept.add(left)
    return frozenset(kept)


def conversation_access(
    identity: Identity,
    conversation: Doc,
    *,
    pupil: Doc | None,
    children_classes: frozenset[str] = frozenset(),
    now: datetime,
    terms: tuple[tuple[date, date], ...] = (),
) -> Access | None:
    """What ``identity`` may do with ``conversation`` (its read model); None: nothing, and
    it must be told the conversation is not there. ``pupil`` is the conversation's pupil as
    messaging knows them now; ``children_classes`` a parent's children's classes."""
    if conversation["school_id"] != identity.school_id:
        return None
    role = identity.role
    if conversation["kind"] == "announcement":
        class_id = conversation["class_id"]
        if role is Role.parent and class_id in children_classes:
            return Access("family", identity.subject, write=False, why="announcement")
        if role in CLASSROOM_ROLES and class_id in identity.class_ids:
            return Access("school", "school", write=True, why="class")
        if role is Role.leader:
            return Access("school", "school", write=True, why="leader")
        return None
    if role is Role.parent:
        mine = identity.subject in conversation["parent_ids"]
        if mine and conversation["pupil_id"] in identity.pupil_ids:
            return Access("family", identity.subject, write=True, why="family")
        return None
    if role in CLASSROOM_ROLES and pupil is not None:
        if conversation["inbox"] == "class" and pupil["class_id"] in identity.class_ids:
            own = frozenset(identity.class_ids & set(conversation["classes"]))
            writes = not pupil.get("left", False)
            return Access("school", "school", write=writes, classes=own, why="class")
        former = _former_classes(identity, conversation, pupil, now, terms)
        if former:
            return Access("school", "school", write=False, classes=former, why="former-class")
        return None
    if role is Role.office and conversation["inbox"] == "office":
        return Access("school", "school", write=True, why="office")
    if role is Role.leader:
        if conversation["inbox"] == "office":
            return Access("school", "school", write=True, why="office")
        if conversation.get("reported"):
            return Access("school", "school", write=False, why="report")
    return None


def message_shown(message: Doc, access: Access, *, now: datetime, leader: bool) -> Doc | None:
    """A message as this reader sees it, or None when they do not see it at all.

    Families see a message once it is visible; staff see their side's scheduled ones, marked.
    A withdrawn message reads "withdrawn" to everyone; a hidden one "hidden by the school",
    except to leaders, who keep the record."""
    if access.classes is not None and message["class_id"] not in access.classes:
        return None
    scheduled = message["visible_from"] > now.isoformat()
    if scheduled and (access.side == "family" or message["side"] == "family"):
        return None
    shown = {**message, "scheduled": scheduled}
    if message["withdrawn"]:
        return {**shown, "text": "", "attachments": []}
    if message["hidden"] and not leader:
        return {**shown, "text": "", "attachments": []}
    return shown


def may_start_with(identity: Identity, pupil: Doc) -> tuple[Side, str] | None:
    """Whether ``identity`` may start a conversation about ``pupil``, and in which inbox
    it then is: a parent about their own child (the class's, or the office's when they
    choose); class staff about a pupil of their class; the office and leaders about any
    pupil of the school, from the office."""
    if pupil["school_id"] != identity.school_id or pupil.get("left"):
        return None
    if identity.role is Role.parent:
        return ("family", "class") if pupil["pupil_id"] in identity.pupil_ids else None
    if identity.role in CLASSROOM_ROLES:
        return ("school", "class") if pupil["class_id"] in identity.class_ids else None
    if identity.role in {Role.office, Role.leader}:
        return ("school", "office")
    return None


def may_announce(identity: Identity, class_id: str) -> bool:
    if identity.role in CLASSROOM_ROLES:
        return class_id in identity.class_ids
    return identity.role is Role.leader
