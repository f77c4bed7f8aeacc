"""What the messaging API does: commands append to a conversation's, an absence's or the
school's settings stream; queries read the read models only."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog
from schoolgate_contracts import Metadata
from schoolgate_contracts.messaging import (
    Inbox,
    MessageAttachment,
    OfficeSettingsChanged,
    OfficeWords,
    ReportAction,
)
from schoolgate_kit import schooltime as hours
from schoolgate_kit.app import Followed, projected
from schoolgate_kit.commands import Aggregate
from schoolgate_kit.directory import may_appear
from schoolgate_kit.identity import CLASSROOM_ROLES, Identity, Role
from schoolgate_kit.names import PupilName, display_names
from schoolgate_kit.problems import Forbidden, NotFound, Unprocessable
from schoolgate_kit.projections import strip
from schoolgate_kit.readmodels import Doc, OneOf

from schoolgate_messaging import domain
from schoolgate_messaging.access import (
    Access,
    conversation_access,
    may_announce,
    may_start_with,
    message_shown,
)
from schoolgate_messaging.bootstrap import Messaging
from schoolgate_messaging.projections import (
    ABSENCES,
    CONVERSATIONS,
    FAMILIES,
    MEDIA_CONSENT,
    MESSAGES,
    OFFICE_PARTY,
    PROJECTIONS,
    PUPILS,
    REPORTS,
    SCHOOLS,
    SETTINGS,
    STAFF,
    SUSPENSIONS,
    class_party,
    families_party,
    parent_party,
    suspension_key,
    when,
)

PAGE = 30
LIMITS = "limit:messages"
ERASED_PER_RUN = 500
"""Conversations one school's run erases at most; the next run goes on."""
log = structlog.get_logger()


@dataclass(frozen=True)
class Actor:
    identity: Identity
    correlation_id: str

    @property
    def subject(self) -> str:
        return self.identity.subject

    @property
    def school_id(self) -> str:
        return self.identity.school_id


def _metadata(messaging: Messaging, actor: Actor) -> Metadata:
    return Metadata(
        occurred_at=messaging.clock(),
        school_id=actor.school_id,
        actor=actor.subject,
        correlation_id=actor.correlation_id,
    )


async def _run(
    aggregate: Aggregate[Any],
    stream_id: str,
    decide: Any,
    *,
    actor: Actor,
    messaging: Messaging,
    expect_new: bool = False,
) -> Any:
    decided = await aggregate.run(
        messaging.store,
        stream_id,
        decide,
        metadata=_metadata(messaging, actor),
        new_id=messaging.new_id,
        expect_new=expect_new,
    )
    return decided.state


async def _get(name: str, key: str, *, messaging: Messaging) -> Doc | None:
    return strip(await messaging.readmodels.get(name, key))


async def _get_many(name: str, keys: Collection[str], *, messaging: Messaging) -> dict[str, Doc]:
    found = await messaging.readmodels.get_many(name, keys)
    return {k: v for k, v in ((k, strip(d)) for k, d in found.items()) if v is not None}


async def caught_up_with(
    position: int | None, *, names: Collection[str], messaging: Messaging
) -> None:
    """A live page heard of a change at ``position``: answer once the read models it reads
    (``names``) hold it, or after two seconds with what there is. Only those: asking after
    every projection of the service cost two dozen reads a poll."""
    if position:
        wanted = [p for p in PROJECTIONS if p.name in names]
        followed = Followed(wanted, messaging.readmodels, messaging.store)
        await projected(followed, position, within=2.0)


# -- the school's facts --------------------------------------------------------------------


async def settings_of(school_id: str, *, messaging: Messaging) -> Doc:
    doc = await _get(SETTINGS, school_id, messaging=messaging)
    if doc is None:
        return {
            "school_id": school_id,
            "switched_off": False,
            "notice": "",
            "office_days": [0, 1, 2, 3, 4],
            "office_starts": "08:00:00",
            "office_ends": "17:00:00",
            "phone": "",
            "office_words": [],
            "messages_kept_months": 24,
        }
    return doc


async def calendars(
    school_id: str, *, messaging: Messaging
) -> tuple[hours.Calendar, hours.Calendar]:
    """The school's calendar, and the office's (its own hours on the school's days)."""
    school = await _get(SCHOOLS, school_id, messaging=messaging)
    details = (school or {}).get("details")
    settings = await settings_of(school_id, messaging=messaging)
    base = hours.Calendar.of(details)
    office = hours.Calendar.of(
        details or {},
        days=settings["office_days"],
        starts=settings["office_starts"],
        ends=settings["office_ends"],
    )
    return base, office


async def pupil_in_school(pupil_id: str, school_id: str, *, messaging: Messaging) -> Doc:
    pupil = await _get(PUPILS, pupil_id, messaging=messaging)
    if pupil is None or pupil["school_id"] != school_id:
        raise NotFound("There is no such pupil at this school.")
    return pupil


async def _names_for(pupils: Sequence[Doc], *, messaging: Messaging) -> dict[str, str]:
    """First names as every family page shows them, told apart within each class. One read
    for every class at once: an inbox page spans a reader's classes, and a read per class
    was a third of a head of year's inbox page (bench/messages.py)."""
    if not pupils:
        return {}
    classes = tuple(dict.fromkeys(p["class_id"] for p in pupils))
    mates = await messaging.readmodels.find(
        PUPILS, {"school_id": pupils[0]["school_id"], "class_id": OneOf(classes)}
    )
    by_class: dict[str, list[PupilName]] = {}
    for m in mates:
        name = PupilName(m["pupil_id"], m["first_name"], m["surname"])
        by_class.setdefault(m["class_id"], []).append(name)
    shown: dict[str, str] = {}
    for classmates in by_class.values():
        shown.update(display_names(classmates))
    return shown


async def _children(identity: Identity, *, messaging: Messaging) -> list[Doc]:
    if identity.role is not Role.parent or not identity.pupil_ids:
        return []
    found = await _get_many(PUPILS, identity.pupil_ids, messaging=messaging)
    return [p for p in found.values() if p["school_id"] == identity.school_id and not p["left"]]


async def _refuse_if_switched_off(school_id: str, *, messaging: Messaging) -> None:
    settings = await settings_of(school_id, messaging=messaging)
    if settings["switched_off"]:
        raise domain.MessagingSwitchedOffProblem(settings["notice"], notice=settings["notice"])


async def _refuse_if_suspended(identity: Identity, *, messaging: Messaging) -> None:
    if identity.role is not Role.parent:
        return
    key = suspension_key(identity.school_id, identity.subject)
    doc = await _get(SUSPENSIONS, key, messaging=messaging)
    if doc is not None and doc["suspended"]:
        raise domain.SenderSuspended("This account is suspended. Please contact the school office.")


async def _limit(identity: Identity, what: str, limit: int, *, messaging: Messaging) -> None:
    """Per sender, across replicas: a parent's account taken over cannot flood a class."""
    assert messaging.private is not None, "the app opens the private store"
    wait = await messaging.private.hit(
        LIMITS,
        f"{what}:{identity.school_id}:{identity.subject}",
        limit=limit,
        window=timedelta(minutes=10),
        now=messaging.clock(),
    )
    if wait is not None:
        raise domain.TooManyMessages(
            "You have sent a lot of messages in a short time. Please wait a few minutes.",
            retry_after=int(wait) + 1,
        )


async def may_send(identity: Identity, *, messaging: Messaging) -> None:
    """Every send passes here first: the kill switch, suspension and the rate limit."""
    await _refuse_if_switched_off(identity.school_id, messaging=messaging)
    await _refuse_if_suspended(identity, messaging=messaging)
    limits = messaging.settings
    limit = (
        limits.messaging_family_limit
        if identity.role is Role.parent
        else limits.messaging_staff_limit
    )
    await _limit(identity, "send", limit, messaging=messaging)


# -- attachments: consent ------------------------------------------------------------------


async def _cleared(pupil_ids: Collection[str], school_id: str, *, messaging: Messaging) -> set[str]:
    found = await _get_many(MEDIA_CONSENT, pupil_ids, messaging=messaging)
    return {
        pid
        for pid, doc in found.items()
        if doc["school_id"] == school_id
        and may_appear(doc["granted"], doc["in_care"], doc["exception"])
    }


async def check_attachments(
    attachments: Sequence[MessageAttachment],
    *,
    sender: Identity,
    own_pupils: Collection[str],
    messaging: Messaging,
) -> None:
    """Staff photos say who is in them, and every child shown other than the family's own
    has media consent: checked when sent, as a story's photos are."""
    for attachment in attachments:
        media = await messaging.media.info(attachment.media_id)
        if media is None or media.school_id != sender.school_id or media.owner != sender.subject:
            raise Unprocessable("Attach files you uploaded here.", media_id=attachment.media_id)
        # what the file is decides the rules, never what the request calls it: a photo sent
        # as a "document" would otherwise skip the consent check
        stored = "image" if media.content_type.startswith("image/") else "document"
        if attachment.kind != stored:
            raise Unprocessable(
                f"That file is a {'photo' if stored == 'image' else 'PDF'}: say so.",
                media_id=attachment.media_id,
            )
        if attachment.kind != "image" or not sender.is_staff:
            continue
        if not attachment.tagged_pupil_ids and not attachment.no_child_recognisable:
            raise Unprocessable(
                "Say which children are in the photo, or that no child can be recognised.",
                media_id=attachment.media_id,
            )
        others = set(attachment.tagged_pupil_ids) - set(own_pupils)
        missing = others - await _cleared(others, sender.school_id, messaging=messaging)
        if missing:
            raise domain.NoMediaConsent(
                "A child in this photo has no photo consent: choose another photo.",
                media_id=attachment.media_id,
            )


# -- starting and writing ------------------------------------------------------------------


async def _send_moment(
    identity: Identity, wanted: datetime | None, *, messaging: Messaging
) -> datetime:
    now = messaging.clock()
    if identity.role is Role.parent:
        return now  # families never schedule: they write when they can
    return domain.visible_from(wanted, now)


async def start_conversation(
    *,
    actor: Actor,
    pupil_id: str,
    to_office: bool,
    parents: str | None,
    text: str,
    attachments: tuple[MessageAttachment, ...],
    send_at: datetime | None,
    conversation_id: str | None,
    messaging: Messaging,
    in_reply_to: str | None = None,
) -> Doc:
    """A family conversation about a pupil: a parent to the class's staff (or the office),
    or staff to one guardian (``parents`` = their id) or all of them (``"all"``)."""
    identity = actor.identity
    pupil = await pupil_in_school(pupil_id, actor.school_id, messaging=messaging)
    allowed = may_start_with(identity, pupil)
    if allowed is None:
        raise Forbidden("You can write only about the children of your own class or family.")
    side, inbox = allowed
    if side == "family" and to_office:
        inbox = "office"
    if side == "family":
        parent_ids: tuple[str, ...] = (identity.subject,)
    else:
        family = await _get(FAMILIES, pupil_id, messaging=messaging)
        guardians = tuple((family or {}).get("parent_ids", ()))
        if not guardians:
            raise Unprocessable("No parent has joined for this child yet: send a letter first.")
        if parents in (None, "all"):
            parent_ids = guardians
        elif parents in guardians:
            parent_ids = (parents,)
        else:
            raise Unprocessable("Choose one of the child's parents, or all of them.")
    await may_send(identity, messaging=messaging)
    await check_attachments(
        attachments, sender=identity, own_pupils={pupil_id}, messaging=messaging
    )
    # a retry with the sender's own conversation id must name the same first message
    first_id = _first_message_id(conversation_id) if conversation_id else messaging.new_id().hex
    command = domain.StartConversation(
        conversation_id=conversation_id or messaging.new_id().hex,
        kind="family",
        pupil_id=pupil_id,
        class_id=pupil["class_id"],
        inbox=inbox,  # type: ignore[arg-type]
        parent_ids=parent_ids,
        in_reply_to=in_reply_to,
        first=domain.NewMessage(
            message_id=first_id,
            sender_id=identity.subject,
            side=side,
            text=text,
            attachments=attachments,
            visible_from=await _send_moment(identity, send_at, messaging=messaging),
        ),
    )
    state: domain.Conversation = await _run(
        domain.CONVERSATIONS,
        command.conversation_id,
        lambda s: domain.decide_start(s, command),
        actor=actor,
        messaging=messaging,
        expect_new=conversation_id is None,
    )
    return _started(state)


def _first_message_id(conversation_id: str) -> str:
    return hashlib.sha256(f"first:{conversation_id}".encode()).hexdigest()[:32]


def _started(state: domain.Conversation) -> Doc:
    assert state.started is not None
    last = state.messages[state.order[0]]
    return {
        "conversation_id": state.started.conversation_id,
        "message_id": last.message_id,
        "visible_from": last.visible_from,
        "inbox": state.inbox,
    }


async def announce(
    *,
    actor: Actor,
    class_id: str,
    text: str,
    attachments: tuple[MessageAttachment, ...],
    send_at: datetime | None,
    messaging: Messaging,
) -> Doc:
    """A message to every family of a class; each family's reply is private."""
    identity = actor.identity
    school = await _get(SCHOOLS, actor.school_id, messaging=messaging)
    if school is None or class_id not in school.get("classes", {}):
        raise NotFound("There is no such class at this school.")
    if not may_announce(identity, class_id):
        raise Forbidden("Only the class's staff and leaders write to its families.")
    await may_send(identity, messaging=messaging)
    await check_attachments(attachments, sender=identity, own_pupils=(), messaging=messaging)
    command = domain.StartConversation(
        conversation_id=messaging.new_id().hex,
        kind="announcement",
        pupil_id=None,
        class_id=class_id,
        inbox="class",
        parent_ids=(),
        first=domain.NewMessage(
            message_id=messaging.new_id().hex,
            sender_id=identity.subject,
            side="school",
            text=text,
            attachments=attachments,
            visible_from=await _send_moment(identity, send_at, messaging=messaging),
        ),
    )
    state = await _run(
        domain.CONVERSATIONS,
        command.conversation_id,
        lambda s: domain.decide_start(s, command),
        actor=actor,
        messaging=messaging,
        expect_new=True,
    )
    return _started(state)


@dataclass(frozen=True)
class Opened:
    conversation: Doc
    access: Access
    pupil: Doc | None


async def open_conversation(
    conversation_id: str, identity: Identity, *, messaging: Messaging
) -> Opened:
    """The conversation and what this reader may do with it; 404 to anyone who may not
    see it, so conversation ids cannot be probed."""
    missing = domain.ConversationNotFound("There is no such conversation.")
    doc = await _get(CONVERSATIONS, conversation_id, messaging=messaging)
    if doc is None or doc["school_id"] != identity.school_id:
        raise missing
    pupil = None
    if doc.get("pupil_id"):
        pupil = await _get(PUPILS, doc["pupil_id"], messaging=messaging)
    # only what the decision needs is read, since every message sent comes this way: a
    # family's children for an announcement, the term dates for a class the pupil left
    children = []
    if doc["kind"] == "announcement":
        children = await _children(identity, messaging=messaging)
    terms: tuple[tuple[date, date], ...] = ()
    left_their_class = pupil is not None and pupil["class_id"] not in identity.class_ids
    if identity.role in CLASSROOM_ROLES and left_their_class:
        base, _ = await calendars(identity.school_id, messaging=messaging)
        terms = base.terms
    access = conversation_access(
        identity,
        doc,
        pupil=pupil,
        children_classes=frozenset(c["class_id"] for c in children),
        now=messaging.clock(),
        terms=terms,
    )
    if access is None:
        raise missing
    return Opened(doc, access, pupil)


async def reply(
    conversation_id: str,
    *,
    actor: Actor,
    text: str,
    attachments: tuple[MessageAttachment, ...],
    send_at: datetime | None,
    message_id: str | None,
    messaging: Messaging,
) -> Doc:
    identity = actor.identity
    opened = await open_conversation(conversation_id, identity, messaging=messaging)
    if opened.conversation["kind"] == "announcement" and opened.access.side == "family":
        return await _private_reply(opened, actor=actor, text=text, messaging=messaging)
    if not opened.access.write:
        raise Forbidden("You can read this conversation but not write in it.")
    await may_send(identity, messaging=messaging)
    own = {opened.conversation["pupil_id"]} if opened.conversation.get("pupil_id") else set()
    await check_attachments(attachments, sender=identity, own_pupils=own, messaging=messaging)
    message = domain.NewMessage(
        message_id=message_id or messaging.new_id().hex,
        sender_id=identity.subject,
        side=opened.access.side,
        text=text,
        attachments=attachments,
        visible_from=await _send_moment(identity, send_at, messaging=messaging),
    )
    class_id = opened.pupil["class_id"] if opened.pupil else None
    state: domain.Conversation = await _run(
        domain.CONVERSATIONS,
        conversation_id,
        lambda s: domain.decide_send(s, message, class_id=class_id),
        actor=actor,
        messaging=messaging,
    )
    sent = state.messages[message.message_id]
    return {
        "conversation_id": conversation_id,
        "message_id": sent.message_id,
        "visible_from": sent.visible_from,
        "inbox": state.inbox,
    }


async def _private_reply(opened: Opened, *, actor: Actor, text: str, messaging: Messaging) -> Doc:
    """A family answering an announcement starts a conversation of their own with the class
    about their child there: never a reply to every family."""
    class_id = opened.conversation["class_id"]
    children = await _children(actor.identity, messaging=messaging)
    child = next((c for c in children if c["class_id"] == class_id), None)
    if child is None:
        raise Forbidden("None of your children is in that class now.")
    return await start_conversation(
        actor=actor,
        pupil_id=child["pupil_id"],
        to_office=False,
        parents=None,
        text=text,
        attachments=(),
        send_at=None,
        conversation_id=None,
        messaging=messaging,
        in_reply_to=opened.conversation["conversation_id"],
    )


async def mark_read(
    conversation_id: str, through_message_id: str, *, actor: Actor, messaging: Messaging
) -> Doc:
    """Mark a conversation read up to a message. A member of staff reading in quiet time
    leaves a receipt the family sees from the next start of hours."""
    identity = actor.identity
    opened = await open_conversation(conversation_id, identity, messaging=messaging)
    if not opened.access.write and opened.conversation["kind"] == "family":
        # a former class's teacher, or a leader reading a report, tells the family nothing:
        # "read" means read by those who answer
        return {"conversation_id": conversation_id, "read_through": 0, "receipt_shown_from": None}
    now = messaging.clock()
    shown_from = now
    if opened.access.side == "school":
        base, office = await calendars(actor.school_id, messaging=messaging)
        calendar = office if opened.conversation["inbox"] == "office" else base
        # with no school day ahead (next year's terms not entered yet), shown at once
        shown_from = hours.receipt_shown_from(calendar, now) or now
    state: domain.Conversation = await _run(
        domain.CONVERSATIONS,
        conversation_id,
        lambda s: domain.decide_read(
            s,
            reader_id=identity.subject,
            side=opened.access.side,
            through_message_id=through_message_id,
            read_at=now,
            shown_from=shown_from,
        ),
        actor=actor,
        messaging=messaging,
    )
    return {
        "conversation_id": conversation_id,
        "read_through": state.read_through.get(
            domain.reader_key(opened.access.side, identity.subject), 0
        ),
        "receipt_shown_from": shown_from,
    }


async def withdraw(
    conversation_id: str, message_id: str, *, actor: Actor, messaging: Messaging
) -> None:
    await open_conversation(conversation_id, actor.identity, messaging=messaging)
    await _run(
        domain.CONVERSATIONS,
        conversation_id,
        lambda s: domain.decide_withdraw(s, message_id, by=actor.subject, now=messaging.clock()),
        actor=actor,
        messaging=messaging,
    )


async def report(
    conversation_id: str, message_id: str, reason: str, *, actor: Actor, messaging: Messaging
) -> str:
    opened = await open_conversation(conversation_id, actor.identity, messaging=messaging)
    await _limit(
        actor.identity, "report", messaging.settings.messaging_report_limit, messaging=messaging
    )
    report_id = messaging.new_id().hex
    state: domain.Conversation = await _run(
        domain.CONVERSATIONS,
        conversation_id,
        lambda s: domain.decide_report(
            s,
            message_id,
            report_id=report_id,
            by=actor.subject,
            side=opened.access.side,
            reason=reason,
        ),
        actor=actor,
        messaging=messaging,
    )
    open_ones = [
        r.report_id
        for r in state.reports.values()
        if r.message_id == message_id and r.reported_by == actor.subject and r.resolved is None
    ]
    return open_ones[-1] if open_ones else report_id


async def resolve(
    report_id: str, action: ReportAction, note: str, *, actor: Actor, messaging: Messaging
) -> Doc:
    found = await _get(REPORTS, report_id, messaging=messaging)
    if found is None or found["school_id"] != actor.school_id:
        raise domain.ReportNotFound("There is no such report.")
    await _run(
        domain.CONVERSATIONS,
        found["conversation_id"],
        lambda s: domain.decide_resolve(s, report_id, action=action, by=actor.subject, note=note),
        actor=actor,
        messaging=messaging,
    )
    return {**found, "status": "resolved", "action": action}


async def hide(
    conversation_id: str, message_id: str, *, actor: Actor, messaging: Messaging
) -> None:
    # only in a conversation the leader may read (the office's, an announcement, a reported
    # one): a class's talk with a family is not theirs to see, so not theirs to edit
    await open_conversation(conversation_id, actor.identity, messaging=messaging)
    await _run(
        domain.CONVERSATIONS,
        conversation_id,
        lambda s: domain.decide_hide(s, message_id, by=actor.subject),
        actor=actor,
        messaging=messaging,
    )


async def pass_on(
    conversation_id: str, to: Inbox, note: str, *, actor: Actor, messaging: Messaging
) -> Doc:
    """A teacher passes a conversation to the office, or the office to the class; the
    family sees where it went."""
    opened = await open_conversation(conversation_id, actor.identity, messaging=messaging)
    if not opened.access.write or opened.access.side != "school":
        raise Forbidden("Only the staff who have this conversation can pass it on.")
    if opened.conversation["inbox"] == "class" and to == "class":
        raise Unprocessable("This conversation is with the class already.")
    class_id = opened.pupil["class_id"] if opened.pupil else None
    state: domain.Conversation = await _run(
        domain.CONVERSATIONS,
        conversation_id,
        lambda s: domain.decide_pass(s, to=to, by=actor.subject, note=note, class_id=class_id),
        actor=actor,
        messaging=messaging,
    )
    return {"conversation_id": conversation_id, "inbox": state.inbox}


# -- reading -------------------------------------------------------------------------------


def _in(access: Access, entry: list[Any]) -> bool:
    """Whether a timeline entry was sent while the pupil was in a class the reader sees."""
    return access.classes is None or entry[6] in access.classes


def _unread(doc: Doc, access: Access, now: str) -> int:
    receipt = doc["receipts"].get(access.reader)
    upto = receipt["upto"] if receipt else 0
    return sum(
        1 for m in doc["timeline"][upto:] if m[1] != access.side and m[2] <= now and m[5] == "sent"
    )


def _parties(identity: Identity, children: Sequence[Doc]) -> list[str]:
    match identity.role:
        case Role.parent:
            classes = sorted({families_party(c["class_id"]) for c in children})
            return [parent_party(identity.subject), *classes]
        case Role.teacher | Role.teaching_assistant:
            return [class_party(c) for c in sorted(identity.class_ids)]
        case Role.office | Role.leader:
            return [OFFICE_PARTY]
    return []


async def inbox(
    identity: Identity, *, messaging: Messaging, before: str | None = None, limit: int = PAGE
) -> Doc:
    """The reader's conversations, newest first, with unread counts and a preview."""
    children = await _children(identity, messaging=messaging)
    parties = _parties(identity, children)
    if not parties:
        return {"conversations": [], "unread": 0, "next": None}
    entries = await messaging.readmodels.find(
        CONVERSATIONS,
        {"school_id": identity.school_id, "party": OneOf(tuple(parties))},
        order_by="last_at",
        descending=True,
        limit=limit * 2,
        before=("last_at", before) if before else None,
    )
    ids = list(dict.fromkeys(e["conversation_id"] for e in entries))[:limit]
    docs = await _get_many(CONVERSATIONS, ids, messaging=messaging)
    pupil_ids = {d["pupil_id"] for d in docs.values() if d.get("pupil_id")}
    pupils = await _get_many(PUPILS, pupil_ids, messaging=messaging)
    names = await _names_for(list(pupils.values()), messaging=messaging) if pupils else {}
    school = await _get(SCHOOLS, identity.school_id, messaging=messaging) or {}
    # the school's own calendar, as ``calendars`` makes it, from the document just read:
    # the office's hours are not needed here, and each read is a trip to the store's thread
    base = hours.Calendar.of(school.get("details"))
    now = messaging.clock()
    now_text = when(now)
    shown = []
    for conversation_id in ids:
        doc = docs.get(conversation_id)
        if doc is None:
            continue
        pupil = pupils.get(doc.get("pupil_id") or "")
        access = conversation_access(
            identity,
            doc,
            pupil=pupil,
            children_classes=frozenset(c["class_id"] for c in children),
            now=now,
            terms=base.terms,
        )
        if access is None:
            continue
        shown.append(_summary(doc, access, pupil, names, school.get("classes", {}), now_text))
    last = entries[-1]["last_at"] if len(entries) >= limit * 2 else None
    return {
        "conversations": shown,
        "unread": sum(c["unread"] for c in shown),
        "next": last,
    }


def _summary(
    doc: Doc,
    access: Access,
    pupil: Doc | None,
    names: dict[str, str],
    classes: dict[str, str],
    now: str,
) -> Doc:
    visible = [
        m
        for m in doc["timeline"]
        if (m[2] <= now or (access.side == "school" and m[1] == "school")) and _in(access, m)
    ]
    last = visible[-1] if visible else None
    preview = ""
    if last is not None:
        preview = {"withdrawn": "Message withdrawn", "hidden": "Hidden by the school"}.get(
            last[5], last[4]
        )
    return {
        "conversation_id": doc["conversation_id"],
        "kind": doc["kind"],
        "inbox": doc["inbox"],
        "pupil_id": doc.get("pupil_id"),
        "pupil_name": names.get(doc.get("pupil_id") or "", ""),
        "class_id": doc.get("class_id"),
        "class_name": classes.get(doc.get("class_id") or "", ""),
        "last_at": last[2] if last else doc["last_at"],
        "preview": preview,
        "last_from": last[1] if last else None,
        "unread": _unread(doc, access, now),
        "read_only": not access.write,
        "waiting": doc["waiting"] and access.side == "school",
    }


async def conversation(conversation_id: str, identity: Identity, *, messaging: Messaging) -> Doc:
    """One conversation as this reader may see it: its messages, oldest first, each with
    whether the other side has read it (a member of staff's receipt held in quiet time)."""
    opened = await open_conversation(conversation_id, identity, messaging=messaging)
    doc, access = opened.conversation, opened.access
    now = messaging.clock()
    now_text = when(now)
    messages = await messaging.readmodels.find(
        MESSAGES, {"conversation_id": conversation_id}, order_by="seq"
    )
    leader = identity.role is Role.leader
    order = {m[0]: i for i, m in enumerate(doc["timeline"])}
    receipts = doc["receipts"]
    shown = []
    for found in messages:
        message = message_shown(strip(found) or {}, access, now=now, leader=leader)
        if message is None:
            continue
        position = order.get(message["message_id"], 0)
        shown.append(
            {
                **message,
                "mine": message["sender_id"] == identity.subject,
                "read": _read_by_other_side(message, position, receipts, now_text),
            }
        )
    shown.sort(key=lambda m: (m["visible_from"], m["seq"]))
    names = await _names_for([opened.pupil], messaging=messaging) if opened.pupil else {}
    school = await _get(SCHOOLS, identity.school_id, messaging=messaging) or {}
    staff = await class_staff(opened.pupil, identity.school_id, messaging=messaging)
    return {
        "conversation_id": conversation_id,
        "kind": doc["kind"],
        "inbox": doc["inbox"],
        "pupil_id": doc.get("pupil_id"),
        "pupil_name": names.get(doc.get("pupil_id") or "", ""),
        "class_id": doc.get("class_id"),
        "class_name": school.get("classes", {}).get(doc.get("class_id") or "", ""),
        "class_staff": staff,
        "in_reply_to": doc.get("in_reply_to"),
        "passes": [
            {"to": p["to"], "note": p["note"], "at": p["at"]} for p in doc.get("passes", ())
        ],
        "side": access.side,
        "may_write": access.write,
        "may_reply": access.write or doc["kind"] == "announcement",
        "messages": shown,
        "unread": _unread(doc, access, now_text),
        "warnings": [
            {"note": w["note"], "at": w["at"]}
            for w in doc.get("warnings", ())
            if w["sender_id"] == identity.subject
        ],
    }


def _read_by_other_side(message: Doc, position: int, receipts: Doc, now: str) -> bool:
    if message["side"] == "family":
        receipt = receipts.get("school")
        return bool(receipt and receipt["upto"] > position and receipt["shown_from"] <= now)
    return any(key != "school" and r["upto"] > position for key, r in receipts.items())


async def class_staff(pupil: Doc | None, school_id: str, *, messaging: Messaging) -> list[str]:
    """The names of the teachers (then assistants) of the pupil's class, for "Ms Oak
    usually replies within one school day"."""
    if pupil is None:
        return []
    staff = await messaging.readmodels.find(STAFF, {"school_id": school_id, "left": False})
    ordered = sorted(
        (s for s in staff if pupil["class_id"] in s["class_ids"]),
        key=lambda s: (s["role"] != "teacher", s["name"]),
    )
    return [s["name"] for s in ordered if s["role"] in {"teacher", "teaching_assistant"}]


async def recipients(pupil_id: str, identity: Identity, *, messaging: Messaging) -> Doc:
    """Who a new message about a pupil reaches, for the page to say before it is written: the
    class's staff by name ("Ms Oak and Mr Birch") and how many of the child's parents have
    joined (their names are the consent service's to give)."""
    pupil = await pupil_in_school(pupil_id, identity.school_id, messaging=messaging)
    if may_start_with(identity, pupil) is None:
        raise Forbidden("You can write only about the children of your own class or family.")
    family = await _get(FAMILIES, pupil_id, messaging=messaging) or {}
    return {
        "pupil_id": pupil_id,
        "class_staff": await class_staff(pupil, identity.school_id, messaging=messaging),
        "parents": len(family.get("parent_ids", ())),
    }


async def attachment(
    conversation_id: str, media_id: str, identity: Identity, *, messaging: Messaging
) -> Doc:
    """The message attachment a reader may see: in a message of this conversation they see,
    and, for a family, with consent for every other child shown. Else 404."""
    opened = await open_conversation(conversation_id, identity, messaging=messaging)
    missing = NotFound("There is no such file here.")
    messages = await messaging.readmodels.find(
        MESSAGES, {"conversation_id": conversation_id}, order_by="seq"
    )
    for found in messages:
        message = message_shown(
            strip(found) or {}, opened.access, now=messaging.clock(), leader=False
        )
        if message is None:
            continue
        for held in message["attachments"]:
            if held["media_id"] != media_id:
                continue
            if opened.access.side == "family" and message["side"] == "school":
                own = {opened.conversation.get("pupil_id")} | set(identity.pupil_ids)
                others = set(held["tagged_pupil_ids"]) - own
                if others - await _cleared(others, identity.school_id, messaging=messaging):
                    raise missing
            return dict(held)
    raise missing


THUMB_SUFFIX = "-thumb"


async def may_upload(identity: Identity, *, messaging: Messaging) -> None:
    """Checked before the file is read, so a suspended account or a switched-off school is
    not sent megabytes first (and is told why, not that the body was empty)."""
    if not identity.is_staff and identity.role is not Role.parent:
        raise Forbidden("messages are between the school's staff and families")
    await _refuse_if_switched_off(identity.school_id, messaging=messaging)
    await _refuse_if_suspended(identity, messaging=messaging)
    # each upload costs a decoding process and disk: counted like a message, apart from them
    limit = (
        messaging.settings.messaging_family_limit
        if identity.role is Role.parent
        else messaging.settings.messaging_staff_limit
    )
    await _limit(identity, "upload", limit, messaging=messaging)


async def upload_media(data: bytes, *, identity: Identity, messaging: Messaging) -> Doc:
    """A photo or PDF made safe by the kit's media safety, stored under a new id owned by
    the uploader: only they can attach it, and only readers of the message see it. The
    route asks ``may_upload`` first, before it reads the body."""
    safe = await messaging.decoder.make_safe(data)
    if safe.kind not in {"image", "document"}:
        raise Unprocessable("Send a photo or a PDF: videos are for stories.")
    media_id = messaging.new_id().hex
    for variant, suffix in (("full", ""), ("thumb", THUMB_SUFFIX)):
        content = safe.variants.get(variant)
        if content is not None:
            await messaging.media.put(
                media_id + suffix,
                content,
                school_id=identity.school_id,
                owner=identity.subject,
                content_type=safe.content_type,
            )
    return {
        "media_id": media_id,
        "kind": safe.kind,
        "content_type": safe.content_type,
        "width": safe.width,
        "height": safe.height,
    }


async def media_bytes(
    conversation_id: str, media_id: str, size: str, identity: Identity, *, messaging: Messaging
) -> tuple[str, bytes]:
    held = await attachment(conversation_id, media_id, identity, messaging=messaging)
    found = await messaging.media.get(held["media_id"] + (THUMB_SUFFIX if size == "thumb" else ""))
    if found is None and size == "thumb":
        found = await messaging.media.get(held["media_id"])
    if found is None or found[0].school_id != identity.school_id:
        raise NotFound("There is no such file here.")
    return found[0].content_type, found[1]


# -- the hours, for a page about to send -----------------------------------------------------


async def status(identity: Identity, *, messaging: Messaging) -> Doc:
    """Whether messaging is on, and whether the school and the office are "in" now: what a
    page says before a family sends ("expect a reply after 8:00 on Monday")."""
    settings = await settings_of(identity.school_id, messaging=messaging)
    base, office = await calendars(identity.school_id, messaging=messaging)
    now = messaging.clock()
    school_now = hours.expectation(base, now)
    office_now = hours.expectation(office, now)
    return {
        "switched_off": settings["switched_off"],
        "notice": settings["notice"],
        "phone": settings["phone"],
        "timezone": str(base.timezone),
        "school": _expected(school_now),
        "office": _expected(office_now),
    }


def _expected(expected: hours.Expectation) -> Doc:
    return {
        "in_hours": expected.in_hours,
        "reply_after": expected.reply_after,
        "reply_after_local": expected.reply_after_local,
    }


# -- absence -------------------------------------------------------------------------------


async def report_absence(
    *,
    actor: Actor,
    pupil_id: str,
    first_day: date,
    last_day: date,
    reason: Any,
    note: str,
    messaging: Messaging,
) -> Doc:
    identity = actor.identity
    if identity.role is not Role.parent or pupil_id not in identity.pupil_ids:
        raise Forbidden("A child's absence is reported by their parents.")
    pupil = await pupil_in_school(pupil_id, actor.school_id, messaging=messaging)
    # not refused when messaging is switched off: the office must still hear that a child
    # is away, and a report holds dates and a reason, not a conversation
    await _refuse_if_suspended(identity, messaging=messaging)
    await _limit(
        identity, "absence", messaging.settings.messaging_family_limit, messaging=messaging
    )
    base, _ = await calendars(actor.school_id, messaging=messaging)
    today = messaging.clock().astimezone(base.timezone).date()
    command = domain.ReportAbsence(
        absence_id=messaging.new_id().hex,
        pupil_id=pupil_id,
        class_id=pupil["class_id"],
        first_day=first_day,
        last_day=last_day,
        reason=reason,
        note=note,
        reported_by=identity.subject,
    )
    await _run(
        domain.ABSENCES,
        command.absence_id,
        lambda s: domain.decide_report_absence(s, command, today=today),
        actor=actor,
        messaging=messaging,
        expect_new=True,
    )
    return {
        "absence_id": command.absence_id,
        "pupil_id": pupil_id,
        "first_day": first_day,
        "last_day": last_day,
        "reason": reason,
        "status": "reported",
    }


async def record_absence(absence_id: str, *, actor: Actor, messaging: Messaging) -> None:
    found = await _get(ABSENCES, absence_id, messaging=messaging)
    if found is None or found["school_id"] != actor.school_id:
        raise NotFound("There is no such absence report.")
    await _run(
        domain.ABSENCES,
        absence_id,
        lambda s: domain.decide_record_absence(s, by=actor.subject),
        actor=actor,
        messaging=messaging,
    )


async def absences(
    identity: Identity, *, messaging: Messaging, status: str | None = None
) -> list[Doc]:
    """The office's list (everyone's), or a parent's own reports."""
    where: dict[str, Any] = {"school_id": identity.school_id}
    if status:
        where["status"] = status
    if identity.role is Role.parent:
        where["pupil_id"] = OneOf(tuple(sorted(identity.pupil_ids)))
    found = await messaging.readmodels.find(
        ABSENCES, where, order_by="reported_at", descending=True, limit=200
    )
    docs = [d for d in (strip(f) for f in found) if d is not None]
    if identity.role is Role.parent:
        docs = [d for d in docs if d["pupil_id"] in identity.pupil_ids]
    pupils = await _get_many(PUPILS, {d["pupil_id"] for d in docs}, messaging=messaging)
    names = await _names_for(list(pupils.values()), messaging=messaging) if pupils else {}
    school = await _get(SCHOOLS, identity.school_id, messaging=messaging) or {}
    return [
        {
            **d,
            "pupil_name": names.get(d["pupil_id"], ""),
            "class_name": school.get("classes", {}).get(d["class_id"], ""),
        }
        for d in docs
    ]


# -- leaders -------------------------------------------------------------------------------


async def reports(identity: Identity, *, messaging: Messaging, status: str) -> list[Doc]:
    found = await messaging.readmodels.find(
        REPORTS,
        {"school_id": identity.school_id, "status": status},
        order_by="reported_at",
        descending=True,
        limit=200,
    )
    return [d for d in (strip(f) for f in found) if d is not None]


async def report_with_conversation(
    report_id: str, identity: Identity, *, messaging: Messaging
) -> Doc:
    found = await _get(REPORTS, report_id, messaging=messaging)
    if found is None or found["school_id"] != identity.school_id:
        raise domain.ReportNotFound("There is no such report.")
    return {
        "report": found,
        "conversation": await conversation(found["conversation_id"], identity, messaging=messaging),
    }


async def response_times(identity: Identity, *, messaging: Messaging) -> Doc:
    """Conversations waiting for the school longer than one school day, by class and for the
    office: counts, never names of staff, so nobody is ranked."""
    waiting = await messaging.readmodels.find(
        CONVERSATIONS, {"school_id": identity.school_id, "waiting": True}
    )
    base, office = await calendars(identity.school_id, messaging=messaging)
    school = await _get(SCHOOLS, identity.school_id, messaging=messaging) or {}
    now = messaging.clock()
    rows: dict[str, Doc] = {}
    for found in waiting:
        doc = strip(found) or {}
        if doc.get("kind") != "family" or not doc.get("waiting_since"):
            continue
        since = datetime.fromisoformat(doc["waiting_since"])
        calendar = office if doc["inbox"] == "office" else base
        key = "office" if doc["inbox"] == "office" else doc.get("class_id") or "office"
        row = rows.setdefault(
            key,
            {
                "class_id": None if key == "office" else key,
                "name": "The office" if key == "office" else school.get("classes", {}).get(key, ""),
                "waiting": 0,
                "overdue": 0,
                "oldest_since": None,
            },
        )
        row["waiting"] += 1
        if hours.overdue(calendar, since, now):
            row["overdue"] += 1
            oldest = row["oldest_since"]
            row["oldest_since"] = (
                min(oldest, doc["waiting_since"]) if oldest else doc["waiting_since"]
            )
    ordered = sorted(rows.values(), key=lambda r: (r["class_id"] is None, r["name"]))
    return {"as_of": now.astimezone(UTC), "rows": ordered}


async def switch(on: bool, notice: str, *, actor: Actor, messaging: Messaging) -> Doc:
    state: domain.Settings = await _run(
        domain.SETTINGS,
        actor.school_id,
        lambda s: domain.decide_switch(s, on=on, notice=notice, by=actor.subject),
        actor=actor,
        messaging=messaging,
    )
    return {"switched_off": state.switched_off, "notice": state.notice}


async def change_office(
    *,
    actor: Actor,
    days: tuple[int, ...],
    starts: Any,
    ends: Any,
    phone: str,
    words: tuple[OfficeWords, ...],
    messaging: Messaging,
) -> Doc:
    wanted = OfficeSettingsChanged(
        office_days=tuple(sorted(set(days))),
        office_starts=starts,
        office_ends=ends,
        phone=phone.strip(),
        office_words=words,
        changed_by=actor.subject,
    )
    await _run(
        domain.SETTINGS,
        actor.school_id,
        lambda s: domain.decide_office(s, wanted),
        actor=actor,
        messaging=messaging,
    )
    return wanted.model_dump(mode="json", exclude={"changed_by"})


# -- retention -----------------------------------------------------------------------------


async def _erase(
    conversation_id: str, last_at: datetime, *, actor: Actor, messaging: Messaging
) -> None:
    """The conversation's key first, so what was said reads as removed everywhere, then
    ``ConversationErased``, on which read models drop it. Done again, it does nothing."""
    if messaging.keyring is not None:
        await asyncio.to_thread(
            messaging.keyring.erase, "conversation", conversation_id, school_id=actor.school_id
        )
    await _run(
        domain.CONVERSATIONS,
        conversation_id,
        lambda s: domain.decide_erase(s, last_at=last_at),
        actor=actor,
        messaging=messaging,
    )


def _system(school_id: str, why: str, messaging: Messaging) -> Actor:
    return Actor(
        Identity(subject=why, role=Role.leader, school_id=school_id),
        correlation_id=f"{why}-{messaging.new_id().hex}",
    )


async def erase_conversations_about(pupil_id: str, school_id: str, *, messaging: Messaging) -> int:
    """A pupil was erased: what was said about them goes with them, as their portfolio and
    teachers' notes do. Their absences were sealed under their own key already."""
    found = await messaging.readmodels.find(
        CONVERSATIONS, {"school_id": school_id, "pupil_id": pupil_id}
    )
    actor = _system(school_id, "pupil-erased", messaging)
    for doc in found:
        await _erase(
            doc["conversation_id"],
            datetime.fromisoformat(doc["last_at"]),
            actor=actor,
            messaging=messaging,
        )
    return len(found)


async def erase_old_conversations(school_id: str, *, messaging: Messaging) -> int:
    """Erase the school's conversations nobody has written in for longer than it keeps
    messages (24 months unless a leader chose): the conversation's key first, so what was
    said reads as removed everywhere, then ``ConversationErased``, on which read models
    drop it. A run cut short is finished by the next."""
    settings = await settings_of(school_id, messaging=messaging)
    base, _ = await calendars(school_id, messaging=messaging)
    today = messaging.clock().astimezone(base.timezone).date()
    since = domain.kept_since(today, int(settings["messages_kept_months"]))
    cutoff = datetime.combine(since, datetime.min.time(), tzinfo=base.timezone)
    old = await messaging.readmodels.find(
        CONVERSATIONS,
        # the kind is the conversation's own: its inbox entries have none
        {"school_id": school_id, "kind": OneOf(("family", "announcement"))},
        order_by="last_at",
        limit=ERASED_PER_RUN,
        before=("last_at", when(cutoff)),
    )
    actor = _system(school_id, "retention", messaging)
    for doc in old:
        await _erase(
            doc["conversation_id"],
            datetime.fromisoformat(doc["last_at"]),
            actor=actor,
            messaging=messaging,
        )
    return len(old)


async def keep_to_retention(*, messaging: Messaging, every: timedelta) -> None:
    """Erase what is due at every school, now and every ``every``, until cancelled."""
    while True:
        try:
            for school in await messaging.readmodels.find(SCHOOLS, {}):
                count = await erase_old_conversations(school["school_id"], messaging=messaging)
                if count:
                    log.info("messaging.conversations_erased", count=count)
        except Exception:
            log.exception("messaging.retention_run_failed")
        await asyncio.sleep(every.total_seconds())
