"""Events owned by the messaging service: conversations between staff and families, the
office, reports to leaders, absence reports and the school's messaging settings.

Streams:

- ``conversation-{conversation_id}``: a conversation about one pupil between a family and
  the class's staff or the school office, or a class announcement; everything said in it,
  read, withdrawn, hidden, reported and passed on.
- ``absence-{absence_id}``: a family's report that a child is away, and the office's
  record of it.
- ``messagingsettings-{school_id}``: the kill switch, the office's hours, its phone number
  and the words that mark a message as office business.

The school is named in each event's metadata (``school_id``). Everything a person wrote in
a conversation is sealed under the conversation's own key (``kind="conversation"``): the
school keeps its correspondence as a record, and its retention erases a conversation as a
whole. What a family said about a child's absence is sealed under the child's key.

Routing facts (the pupil, the class at the time, whether it is the office's, the families
in it) are copied into each ``MessageSent``: live pages and notifications route a message
without looking anything up, and a rebuild reads the conversation as it was.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from schoolgate_contracts.base import Event
from schoolgate_contracts.privacy import Id, Personal, SchoolText, SubjectOf
from schoolgate_contracts.registry import registry

ConversationText = Annotated[str, Personal("conversation_id", kind="conversation")]
"""Words said in a conversation: kept with it, erased with it."""
PupilText = Annotated[str, Personal("pupil_id")]

Side = Literal["family", "school"]
"""Who a message or a receipt comes from: a family, or the school's staff."""
Inbox = Literal["class", "office"]
"""Whose a family conversation is on the school's side: the class's staff or the office."""
OfficeMatter = Literal[
    "absence", "sickness", "appointment", "dinners", "music_lessons", "complaint", "collection"
]
ReportAction = Literal["dismissed", "hidden", "warned", "suspended"]
AbsenceReason = Literal["sickness", "appointment", "family", "other"]


class MessageAttachment(BaseModel):
    """A photo or PDF made safe by the kit's media safety; the bytes live in the media store.

    A photo says which pupils are in it, or that no child can be recognised in it, as a
    story's must: a family sees a photo of another child only with that child's consent.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    media_id: Id
    kind: Literal["image", "document"]
    alt_text: Annotated[str, Personal()] = Field(default="", max_length=500)
    tagged_pupil_ids: tuple[Id, ...] = ()
    no_child_recognisable: bool = False


MessageAttachments = Annotated[
    tuple[MessageAttachment, ...], SubjectOf("conversation_id", kind="conversation")
]


class _Messaging(Event):
    service = "messaging"


# -- conversations (stream conversation-{conversation_id}) ---------------------------------


@registry.register
class ConversationStarted(_Messaging):
    """A family conversation about a pupil (``kind="family"``), with the class's staff or
    the office; or a class announcement (``kind="announcement"``) that every family of the
    class reads and none can answer in: replies start private conversations
    (``in_reply_to``)."""

    event_type = "ConversationStarted"
    conversation_id: Id
    kind: Literal["family", "announcement"]
    pupil_id: Id | None = None
    class_id: Id | None = None
    inbox: Inbox = "class"
    parent_ids: tuple[Id, ...] = ()
    """The family members in it: the parent who wrote, or the one or two guardians staff
    chose. Empty for an announcement, which every family of the class reads."""
    started_by: Id
    started_by_side: Side
    in_reply_to: Id | None = None


@registry.register
class MessageSent(_Messaging):
    """Someone wrote in a conversation. Its readers see it from ``visible_from``: a member
    of staff writing outside school hours may schedule it for the next start of hours."""

    event_type = "MessageSent"
    conversation_id: Id
    message_id: Id
    sender_id: Id
    side: Side
    text: ConversationText = Field(max_length=5_000)
    attachments: MessageAttachments = ()
    visible_from: datetime
    pupil_id: Id | None = None
    class_id: Id | None = None
    """The pupil's class when it was sent: that class's staff read it."""
    inbox: Inbox = "class"
    parent_ids: tuple[Id, ...] = ()
    announcement: bool = False


@registry.register
class MessageRead(_Messaging):
    """A reader has read everything up to ``through_message_id``. A member of staff's
    receipt is shown to the family from ``shown_from``: the next start of school hours when
    they read it in quiet time, or at once."""

    event_type = "MessageRead"
    conversation_id: Id
    reader_id: Id
    side: Side
    through_message_id: Id
    read_at: datetime
    shown_from: datetime


@registry.register
class MessageWithdrawn(_Messaging):
    """The sender took a message back within the withdrawal window: it reads "withdrawn"."""

    event_type = "MessageWithdrawn"
    conversation_id: Id
    message_id: Id
    withdrawn_by: Id


@registry.register
class MessageHidden(_Messaging):
    """A leader hid a message from the conversation; it is kept for the record."""

    event_type = "MessageHidden"
    conversation_id: Id
    message_id: Id
    hidden_by: Id
    report_id: Id | None = None


@registry.register
class MessageReported(_Messaging):
    """Someone in the conversation reported a message to the school's leaders."""

    event_type = "MessageReported"
    conversation_id: Id
    message_id: Id
    report_id: Id
    reported_by: Id
    side: Side
    sender_id: Id
    reason: ConversationText = Field(min_length=1, max_length=1_000)


@registry.register
class ReportResolved(_Messaging):
    """A leader decided on a report: dismissed it, hid the message, warned its sender or
    suspended them (the consent service's suspension, recorded here as the decision)."""

    event_type = "ReportResolved"
    conversation_id: Id
    report_id: Id
    message_id: Id
    sender_id: Id
    action: ReportAction
    resolved_by: Id
    note: ConversationText = Field(default="", max_length=1_000)


@registry.register
class ConversationPassedToOffice(_Messaging):
    """A member of staff passed a family conversation to the office, with a note the family
    sees too ("I have passed this to the office, who book music lessons")."""

    event_type = "ConversationPassedToOffice"
    conversation_id: Id
    passed_by: Id
    note: ConversationText = Field(default="", max_length=1_000)


@registry.register
class ConversationPassedToClass(_Messaging):
    """The office passed a family conversation to the class's staff, with a note."""

    event_type = "ConversationPassedToClass"
    conversation_id: Id
    class_id: Id
    passed_by: Id
    note: ConversationText = Field(default="", max_length=1_000)


@registry.register
class ConversationErased(_Messaging):
    """The school's retention erased a conversation nobody had written in since
    ``last_at``: its key was destroyed first, so everything said in it reads as removed,
    and read models drop it on this event."""

    event_type = "ConversationErased"
    conversation_id: Id
    last_at: datetime


# -- absence (stream absence-{absence_id}) -------------------------------------------------


@registry.register
class AbsenceReported(_Messaging):
    """A family told the school a child will be away: a record the office acts on."""

    event_type = "AbsenceReported"
    absence_id: Id
    pupil_id: Id
    class_id: Id
    first_day: date
    last_day: date
    reason: AbsenceReason
    note: PupilText = Field(default="", max_length=1_000)
    reported_by: Id


@registry.register
class AbsenceRecorded(_Messaging):
    """The office recorded the absence in the school's register."""

    event_type = "AbsenceRecorded"
    absence_id: Id
    pupil_id: Id
    recorded_by: Id


# -- the school's settings (stream messagingsettings-{school_id}) --------------------------


@registry.register
class MessagingSwitchedOff(_Messaging):
    """A leader switched messaging off for the whole school: nobody can send until it is
    switched on again. Families see the notice."""

    event_type = "MessagingSwitchedOff"
    switched_by: Id
    notice: SchoolText = Field(min_length=1, max_length=500)


@registry.register
class MessagingSwitchedOn(_Messaging):
    event_type = "MessagingSwitchedOn"
    switched_by: Id


class OfficeWords(BaseModel):
    """Words a leader added that mark a message as one office matter."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    matter: OfficeMatter
    words: tuple[SchoolText, ...] = Field(default=(), max_length=50)


@registry.register
class OfficeSettingsChanged(_Messaging):
    """The office's own hours (on the school's days and terms), its phone number for urgent
    matters, and the school's own words for office business."""

    event_type = "OfficeSettingsChanged"
    office_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    office_starts: time = time(8, 0)
    office_ends: time = time(17, 0)
    phone: SchoolText = Field(default="", max_length=40)
    office_words: tuple[OfficeWords, ...] = ()
    changed_by: Id
