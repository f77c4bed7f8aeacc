"""Read models of the messaging service.

Conversations (each with its timeline of who said what when, receipts and unread marks),
messages, reports to leaders and absence reports; and what messaging follows of other
services: pupils and the classes they have been in, schools' calendars, staff, families,
suspensions, media consent and the code of conduct. Queries read these only.

A conversation derives one small index document per inbox it belongs to (a parent's, a
class's, the office's, a class's families for an announcement), so "my inbox, newest first"
is one ``find`` on equal fields, whoever asks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.consent import (
    ParentSuspended,
    ParentSuspensionLifted,
)
from schoolgate_contracts.messaging import (
    AbsenceRecorded,
    AbsenceReported,
    ConversationErased,
    ConversationPassedToClass,
    ConversationPassedToOffice,
    ConversationStarted,
    MessageHidden,
    MessageRead,
    MessageReported,
    MessageSent,
    MessageWithdrawn,
    MessagingSwitchedOff,
    MessagingSwitchedOn,
    OfficeSettingsChanged,
    ReportResolved,
)
from schoolgate_contracts.privacy import REMOVED
from schoolgate_contracts.roster import (
    ClassAdded,
    ClassDetailsChanged,
    PupilDetailsChanged,
    PupilEnrolled,
    PupilErased,
    PupilLeft,
    PupilMovedClass,
    RetentionSet,
    SchoolDetailsChanged,
    SchoolRegistered,
)
from schoolgate_kit.directory import (
    conduct_projection,
    families_projection,
    media_consent_projection,
    staff_projection,
)
from schoolgate_kit.projections import Projection, Purge
from schoolgate_kit.readmodels import Doc

CONVERSATIONS = "messaging.conversations"
MESSAGES = "messaging.messages"
REPORTS = "messaging.reports"
ABSENCES = "messaging.absences"
SETTINGS = "messaging.settings"
PUPILS = "messaging.pupils"
SCHOOLS = "messaging.schools"
STAFF = "messaging.staff"
FAMILIES = "messaging.families"
SUSPENSIONS = "messaging.suspensions"
MEDIA_CONSENT = "messaging.media_consent"
CONDUCT = "messaging.conduct"

PREVIEW = 140
"""Characters of a message an inbox shows."""


def when(moment: datetime) -> str:
    """A moment as sortable text: UTC, one format."""
    return moment.astimezone(UTC).isoformat()


def suspension_key(school_id: str, parent_id: str) -> str:
    return f"{school_id}:{parent_id}"


# -- conversations -------------------------------------------------------------------------

ConversationEvent = (
    ConversationStarted
    | MessageSent
    | MessageRead
    | MessageWithdrawn
    | MessageHidden
    | MessageReported
    | ReportResolved
    | ConversationPassedToOffice
    | ConversationPassedToClass
    | ConversationErased
)


def _conversation_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, ConversationEvent)
    return event.conversation_id


def _mark(timeline: list[list[Any]], message_id: str, state: str) -> list[list[Any]]:
    return [[*m[:5], state, *m[6:]] if m[0] == message_id else m for m in timeline]


def _conversation(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    at = when(recorded.metadata.occurred_at)
    match event:
        case ConversationStarted():
            return {
                "conversation_id": event.conversation_id,
                "school_id": recorded.metadata.school_id,
                "kind": event.kind,
                "pupil_id": event.pupil_id,
                "class_id": event.class_id,
                "inbox": event.inbox,
                "parent_ids": list(event.parent_ids),
                "started_by": event.started_by,
                "started_by_side": event.started_by_side,
                "in_reply_to": event.in_reply_to,
                "started_at": at,
                "last_at": at,
                "classes": {event.class_id: at} if event.class_id else {},
                "timeline": [],
                "receipts": {},
                "waiting": False,
                "waiting_since": None,
                "passes": [],
                "reported": False,
            }
    if doc is None or isinstance(event, ConversationErased):
        return None
    match event:
        case MessageSent():
            visible = when(event.visible_from)
            # [id, side, visible from, sender, preview, state, class]
            entry: list[str | None] = [event.message_id, event.side, visible]
            entry += [event.sender_id, event.text[:PREVIEW], "sent", event.class_id]
            classes = dict(doc["classes"])
            if event.class_id:
                classes[event.class_id] = max(visible, classes.get(event.class_id, ""))
            waiting = doc["waiting"]
            since = doc["waiting_since"]
            if doc["kind"] == "family":
                if event.side == "family" and not waiting:
                    waiting, since = True, visible
                elif event.side == "school":
                    waiting, since = False, None
            return {
                **doc,
                "timeline": [*doc["timeline"], entry],
                "last_at": max(doc["last_at"], visible),
                "class_id": event.class_id or doc["class_id"],
                "classes": classes,
                "waiting": waiting,
                "waiting_since": since,
            }
        case MessageRead():
            key = "school" if event.side == "school" else event.reader_id
            ids = [m[0] for m in doc["timeline"]]
            upto = ids.index(event.through_message_id) + 1 if event.through_message_id in ids else 0
            held = doc["receipts"].get(key)
            if held is not None and held["upto"] >= upto:
                return doc
            receipt = {
                "upto": upto,
                "read_at": when(event.read_at),
                "shown_from": when(event.shown_from),
                "by": event.reader_id,
            }
            return {**doc, "receipts": {**doc["receipts"], key: receipt}}
        case MessageWithdrawn():
            return {**doc, "timeline": _mark(doc["timeline"], event.message_id, "withdrawn")}
        case MessageHidden():
            return {**doc, "timeline": _mark(doc["timeline"], event.message_id, "hidden")}
        case MessageReported():
            return {**doc, "reported": True}
        case ReportResolved() if event.action == "warned":
            # the sender is told, in the conversation, what the school's leaders said
            warning = {"sender_id": event.sender_id, "note": event.note, "at": at}
            return {**doc, "warnings": [*doc.get("warnings", ()), warning]}
        case ConversationPassedToOffice():
            passed = {"to": "office", "by": event.passed_by, "note": event.note, "at": at}
            return {**doc, "inbox": "office", "passes": [*doc["passes"], passed]}
        case ConversationPassedToClass():
            passed = {"to": "class", "by": event.passed_by, "note": event.note, "at": at}
            classes = {**doc["classes"], event.class_id: doc["last_at"]}
            return {
                **doc,
                "inbox": "class",
                "class_id": event.class_id,
                "classes": classes,
                "passes": [*doc["passes"], passed],
            }
    return doc


def index_key(conversation_id: str, party: str) -> str:
    return f"{conversation_id}|{party}"


def parent_party(parent_id: str) -> str:
    return f"parent:{parent_id}"


def class_party(class_id: str) -> str:
    return f"class:{class_id}"


def families_party(class_id: str) -> str:
    return f"families:{class_id}"


OFFICE_PARTY = "office"


def _inbox_entries(key: str, doc: Doc) -> dict[str, Doc]:
    """One index document per inbox the conversation is in: whose it is (``party``), and
    when it last changed there."""
    school_id, last_at = doc["school_id"], doc["last_at"]
    parties: dict[str, str] = {}
    if doc["kind"] == "announcement":
        if doc["class_id"]:
            parties[families_party(doc["class_id"])] = last_at
            parties[class_party(doc["class_id"])] = last_at
    else:
        for parent_id in doc["parent_ids"]:
            parties[parent_party(parent_id)] = last_at
        for class_id, class_last in doc["classes"].items():
            parties[class_party(class_id)] = class_last
        if doc["inbox"] == "office":
            parties[OFFICE_PARTY] = last_at
    return {
        index_key(key, party): {
            "school_id": school_id,
            "party": party,
            "conversation_id": key,
            "last_at": party_last,
        }
        for party, party_last in parties.items()
    }


CONVERSATIONS_PROJECTION = Projection(
    name=CONVERSATIONS,
    handles=(
        ConversationStarted,
        MessageSent,
        MessageRead,
        MessageWithdrawn,
        MessageHidden,
        MessageReported,
        ReportResolved,
        ConversationPassedToOffice,
        ConversationPassedToClass,
        ConversationErased,
    ),
    key=_conversation_key,
    evolve=_conversation,
    derive=_inbox_entries,
    indexes=(
        ("school_id", "party", "last_at"),
        ("school_id", "waiting"),
        ("school_id", "kind", "last_at"),
        ("school_id", "pupil_id"),
    ),
)


def _erased_messages(recorded: RecordedEvent) -> Purge:
    event = recorded.event
    assert isinstance(event, ConversationErased)
    return {"conversation_id": event.conversation_id}, ("seq", 2**62)


def _erased_reports(recorded: RecordedEvent) -> Purge:
    event = recorded.event
    assert isinstance(event, ConversationErased)
    return {"conversation_id": event.conversation_id}, ("reported_at", "~")


# -- messages ------------------------------------------------------------------------------

MessageEvent = MessageSent | MessageWithdrawn | MessageHidden


def _message_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, MessageEvent)
    # a message id is unique only within its conversation: a sender may choose their own (a
    # safe retry), and one seen elsewhere must not take over that conversation's message
    return f"{event.conversation_id}:{event.message_id}"


def _message(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    match event:
        case MessageSent() if event.text == REMOVED:
            return None  # an erased conversation's, met again by a rebuild
        case MessageSent():
            return {
                "message_id": event.message_id,
                "conversation_id": event.conversation_id,
                "school_id": recorded.metadata.school_id,
                "sender_id": event.sender_id,
                "side": event.side,
                "text": event.text,
                "attachments": [a.model_dump(mode="json") for a in event.attachments],
                "visible_from": when(event.visible_from),
                "sent_at": when(recorded.metadata.occurred_at),
                "class_id": event.class_id,
                "inbox": event.inbox,
                "seq": recorded.position,
                "withdrawn": False,
                "hidden": False,
            }
        case MessageWithdrawn() if doc is not None:
            return {**doc, "withdrawn": True}
        case MessageHidden() if doc is not None:
            return {**doc, "hidden": True}
    return doc


MESSAGES_PROJECTION = Projection(
    name=MESSAGES,
    handles=(MessageSent, MessageWithdrawn, MessageHidden),
    key=_message_key,
    evolve=_message,
    indexes=(("conversation_id", "seq"),),
    purged_by=(ConversationErased,),
    purge=_erased_messages,
    version=2,  # keyed by conversation and message (was: message alone)
)


# -- reports -------------------------------------------------------------------------------


def _report_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, MessageReported | ReportResolved)
    return event.report_id


def _report(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    at = when(recorded.metadata.occurred_at)
    match event:
        case MessageReported() if event.reason == REMOVED:
            return None  # an erased conversation's, met again by a rebuild
        case MessageReported():
            return {
                "report_id": event.report_id,
                "school_id": recorded.metadata.school_id,
                "conversation_id": event.conversation_id,
                "message_id": event.message_id,
                "reported_by": event.reported_by,
                "side": event.side,
                "sender_id": event.sender_id,
                "reason": event.reason,
                "reported_at": at,
                "status": "open",
                "action": None,
                "resolved_by": None,
                "resolved_at": None,
                "note": "",
            }
        case ReportResolved() if doc is not None:
            return {
                **doc,
                "status": "resolved",
                "action": event.action,
                "resolved_by": event.resolved_by,
                "resolved_at": at,
                "note": event.note,
            }
    return doc


REPORTS_PROJECTION = Projection(
    name=REPORTS,
    handles=(MessageReported, ReportResolved),
    key=_report_key,
    evolve=_report,
    indexes=(("school_id", "status", "reported_at"), ("school_id", "sender_id", "reported_at")),
    purged_by=(ConversationErased,),
    purge=_erased_reports,
)


# -- absences ------------------------------------------------------------------------------


def _erased_pupils_absences(recorded: RecordedEvent) -> Purge:
    event = recorded.event
    assert isinstance(event, PupilErased)
    where = {"school_id": recorded.metadata.school_id, "pupil_id": event.pupil_id}
    return where, ("reported_at", "~")


def _absence_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, AbsenceReported | AbsenceRecorded)
    return event.absence_id


def _absence(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    match event:
        case AbsenceReported() if event.note == REMOVED:
            return None  # an erased pupil's, met again by a rebuild
        case AbsenceReported():
            return {
                "absence_id": event.absence_id,
                "school_id": recorded.metadata.school_id,
                "pupil_id": event.pupil_id,
                "class_id": event.class_id,
                "first_day": event.first_day.isoformat(),
                "last_day": event.last_day.isoformat(),
                "reason": event.reason,
                "note": event.note,
                "reported_by": event.reported_by,
                "reported_at": when(recorded.metadata.occurred_at),
                "status": "reported",
                "recorded_by": None,
            }
        case AbsenceRecorded() if doc is not None:
            return {**doc, "status": "recorded", "recorded_by": event.recorded_by}
    return doc


ABSENCES_PROJECTION = Projection(
    name=ABSENCES,
    handles=(AbsenceReported, AbsenceRecorded),
    key=_absence_key,
    evolve=_absence,
    indexes=(("school_id", "status", "reported_at"), ("school_id", "pupil_id", "reported_at")),
    purged_by=(PupilErased,),
    purge=_erased_pupils_absences,
)


# -- the school's messaging settings -------------------------------------------------------


def _settings(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    doc = doc or {
        "school_id": recorded.metadata.school_id,
        "switched_off": False,
        "notice": "",
        "office_days": [0, 1, 2, 3, 4],
        "office_starts": "08:00:00",
        "office_ends": "17:00:00",
        "phone": "",
        "office_words": [],
        "messages_kept_months": 24,
    }
    match event:
        case MessagingSwitchedOff():
            return {**doc, "switched_off": True, "notice": event.notice}
        case MessagingSwitchedOn():
            return {**doc, "switched_off": False, "notice": ""}
        case OfficeSettingsChanged():
            dumped = event.model_dump(mode="json")
            return {**doc, **{k: v for k, v in dumped.items() if k != "changed_by"}}
        case RetentionSet():
            return {**doc, "messages_kept_months": event.retention.messages_kept_months}
    return doc


SETTINGS_PROJECTION = Projection(
    name=SETTINGS,
    handles=(MessagingSwitchedOff, MessagingSwitchedOn, OfficeSettingsChanged, RetentionSet),
    key=lambda recorded: recorded.metadata.school_id,
    evolve=_settings,
)


# -- pupils, and the classes they have been in ---------------------------------------------

PupilEvent = PupilEnrolled | PupilDetailsChanged | PupilMovedClass | PupilLeft | PupilErased


def _pupil_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, PupilEvent)
    return event.pupil_id


def _pupil(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    match event:
        case PupilEnrolled():
            return {
                "pupil_id": event.pupil_id,
                "school_id": recorded.metadata.school_id,
                "first_name": event.first_name,
                "surname": event.surname,
                "class_id": event.class_id,
                "left": False,
                "moves": [],
            }
    if doc is None:
        return None
    match event:
        case PupilDetailsChanged():
            return {**doc, "first_name": event.first_name, "surname": event.surname}
        case PupilMovedClass():
            moved = {"from": doc["class_id"], "at": when(recorded.metadata.occurred_at)}
            return {**doc, "class_id": event.to_class_id, "moves": [*doc["moves"], moved]}
        case PupilLeft():
            return {**doc, "left": True}
        case PupilErased():
            return {**doc, "first_name": REMOVED, "surname": REMOVED, "left": True}
    return doc


PUPILS_PROJECTION = Projection(
    name=PUPILS,
    handles=(PupilEnrolled, PupilDetailsChanged, PupilMovedClass, PupilLeft, PupilErased),
    key=_pupil_key,
    evolve=_pupil,
    indexes=(("school_id", "class_id"), ("school_id", "left")),
)


# -- schools: their calendar and class names -----------------------------------------------


def _school(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    doc = doc or {"school_id": recorded.metadata.school_id, "name": "", "details": None}
    match event:
        case SchoolRegistered() | SchoolDetailsChanged():
            details = event.details.model_dump(mode="json")
            return {**doc, "name": event.details.name, "details": details}
        case ClassAdded() | ClassDetailsChanged():
            return {**doc, "classes": {**doc.get("classes", {}), event.class_id: event.name}}
    return doc


SCHOOLS_PROJECTION = Projection(
    name=SCHOOLS,
    handles=(SchoolRegistered, SchoolDetailsChanged, ClassAdded, ClassDetailsChanged),
    key=lambda recorded: recorded.metadata.school_id,
    evolve=_school,
)


# -- staff and families: the kit's directory ---------------------------------------------

STAFF_PROJECTION = staff_projection(STAFF)
FAMILIES_PROJECTION = families_projection(FAMILIES)


def _suspension_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, ParentSuspended | ParentSuspensionLifted)
    return suspension_key(recorded.metadata.school_id, event.parent_id)


def _suspension(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    assert isinstance(event, ParentSuspended | ParentSuspensionLifted)
    return {
        "parent_id": event.parent_id,
        "school_id": recorded.metadata.school_id,
        "suspended": isinstance(event, ParentSuspended),
    }


SUSPENSIONS_PROJECTION = Projection(
    name=SUSPENSIONS,
    handles=(ParentSuspended, ParentSuspensionLifted),
    key=_suspension_key,
    evolve=_suspension,
)


PROJECTIONS: tuple[Projection, ...] = (
    CONVERSATIONS_PROJECTION,
    MESSAGES_PROJECTION,
    REPORTS_PROJECTION,
    ABSENCES_PROJECTION,
    SETTINGS_PROJECTION,
    PUPILS_PROJECTION,
    SCHOOLS_PROJECTION,
    STAFF_PROJECTION,
    FAMILIES_PROJECTION,
    SUSPENSIONS_PROJECTION,
    media_consent_projection(MEDIA_CONSENT),
    conduct_projection(CONDUCT),
)
