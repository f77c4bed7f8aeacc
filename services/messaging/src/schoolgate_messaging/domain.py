"""Messaging: what may happen in a conversation, to an absence report and to a school's
messaging settings. No I/O: clocks, ids and the school's calendar come in as arguments.

Who may read or write a conversation is decided in ``access`` from its read model, the
reader's identity and where the pupil is now; what may happen next is decided here from the
conversation's own stream.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from schoolgate_contracts import Event
from schoolgate_contracts.messaging import (
    AbsenceReason,
    AbsenceRecorded,
    AbsenceReported,
    ConversationErased,
    ConversationPassedToClass,
    ConversationPassedToOffice,
    ConversationStarted,
    Inbox,
    MessageAttachment,
    MessageHidden,
    MessageRead,
    MessageReported,
    MessageSent,
    MessageWithdrawn,
    MessagingSwitchedOff,
    MessagingSwitchedOn,
    OfficeSettingsChanged,
    OfficeWords,
    ReportAction,
    ReportResolved,
    Side,
)
from schoolgate_kit.commands import Aggregate
from schoolgate_kit.problems import Conflict, Forbidden, NotFound, Problem, Unprocessable

WITHDRAW_WINDOW = timedelta(minutes=10)
"""How long a sender may take a message back: long enough to catch a slip, short enough
that what was read stays said."""
LONGEST_SCHEDULE = timedelta(days=14)


# -- problems -----------------------------------------------------------------------------


class ConversationNotFound(NotFound):
    slug = "conversation-not-found"
    title = "No such conversation"


class MessageNotFound(NotFound):
    slug = "message-not-found"
    title = "No such message"


class MessagingSwitchedOffProblem(Forbidden):
    slug = "messaging-switched-off"
    title = "Messaging is switched off at this school"


class ReplyPrivately(Forbidden):
    slug = "reply-privately"
    title = "Announcements are answered privately"


class TooLateToWithdraw(Conflict):
    slug = "too-late-to-withdraw"
    title = "It is too late to take this message back"


class NotYours(Forbidden):
    slug = "not-your-message"
    title = "Only the sender can do that"


class ReportNotFound(NotFound):
    slug = "report-not-found"
    title = "No such report"


class AlreadyResolved(Conflict):
    slug = "report-already-resolved"
    title = "A leader already decided on this report"


class CannotSuspendStaff(Unprocessable):
    slug = "cannot-suspend-staff"
    title = "Only a parent's account can be suspended here"


class SenderSuspended(Forbidden):
    slug = "account-suspended"
    title = "This account is suspended"


class EmptyMessage(Unprocessable):
    slug = "empty-message"
    title = "Write something or attach a file"


class BadDates(Unprocessable):
    slug = "bad-absence-dates"
    title = "Those dates do not make an absence"


class ScheduledTooFar(Unprocessable):
    slug = "scheduled-too-far"
    title = "A message can be scheduled up to two weeks ahead"


class TooManyMessages(Problem):
    status, slug, title = 429, "too-many-messages", "Too many messages for now"


# -- a conversation (stream conversation-{id}) -------------------------------------------


@dataclass(frozen=True)
class Sent:
    message_id: str
    sender_id: str
    side: Side
    visible_from: datetime
    withdrawn: bool = False
    hidden: bool = False


@dataclass(frozen=True)
class Report:
    report_id: str
    message_id: str
    sender_id: str
    reported_by: str
    resolved: ReportAction | None = None


@dataclass(frozen=True)
class Conversation:
    started: ConversationStarted | None = None
    inbox: Inbox = "class"
    class_id: str | None = None
    messages: dict[str, Sent] = field(default_factory=dict)
    order: tuple[str, ...] = ()
    read_through: dict[str, int] = field(default_factory=dict)
    """Per reader (a parent's id, or "school"), how many messages of ``order`` they read."""
    reports: dict[str, Report] = field(default_factory=dict)
    erased: bool = False

    @property
    def exists(self) -> bool:
        return self.started is not None and not self.erased

    @property
    def announcement(self) -> bool:
        return self.started is not None and self.started.kind == "announcement"


def initial_conversation() -> Conversation:
    return Conversation()


def evolve_conversation(state: Conversation, event: Event) -> Conversation:
    match event:
        case ConversationStarted():
            return replace(state, started=event, inbox=event.inbox, class_id=event.class_id)
        case MessageSent():
            sent = Sent(event.message_id, event.sender_id, event.side, event.visible_from)
            return replace(
                state,
                messages={**state.messages, event.message_id: sent},
                order=(*state.order, event.message_id),
                class_id=event.class_id or state.class_id,
            )
        case MessageRead():
            reader = reader_key(event.side, event.reader_id)
            upto = state.order.index(event.through_message_id) + 1
            best = max(upto, state.read_through.get(reader, 0))
            return replace(state, read_through={**state.read_through, reader: best})
        case MessageWithdrawn():
            sent = replace(state.messages[event.message_id], withdrawn=True)
            return replace(state, messages={**state.messages, event.message_id: sent})
        case MessageHidden():
            sent = replace(state.messages[event.message_id], hidden=True)
            return replace(state, messages={**state.messages, event.message_id: sent})
        case MessageReported():
            report = Report(event.report_id, event.message_id, event.sender_id, event.reported_by)
            return replace(state, reports={**state.reports, event.report_id: report})
        case ReportResolved():
            report = replace(state.reports[event.report_id], resolved=event.action)
            return replace(state, reports={**state.reports, event.report_id: report})
        case ConversationPassedToOffice():
            return replace(state, inbox="office")
        case ConversationPassedToClass():
            return replace(state, inbox="class", class_id=event.class_id)
        case ConversationErased():
            return replace(state, erased=True)
    return state


CONVERSATIONS = Aggregate("conversation", initial_conversation, evolve_conversation)


def reader_key(side: Side, reader_id: str) -> str:
    """Whose receipt: each parent their own; the school's staff share one (a message to the
    class is read once the teacher or the assistant has read it)."""
    return "school" if side == "school" else reader_id


@dataclass(frozen=True)
class NewMessage:
    message_id: str
    sender_id: str
    side: Side
    text: str
    attachments: tuple[MessageAttachment, ...]
    visible_from: datetime


@dataclass(frozen=True)
class StartConversation:
    conversation_id: str
    kind: str
    pupil_id: str | None
    class_id: str | None
    inbox: Inbox
    parent_ids: tuple[str, ...]
    first: NewMessage
    in_reply_to: str | None = None


def _message_event(state: Conversation, message: NewMessage) -> MessageSent:
    started = state.started
    assert started is not None
    if not message.text.strip() and not message.attachments:
        raise EmptyMessage("Write a message, or attach a photo or a PDF.")
    return MessageSent(
        conversation_id=started.conversation_id,
        message_id=message.message_id,
        sender_id=message.sender_id,
        side=message.side,
        text=message.text,
        attachments=message.attachments,
        visible_from=message.visible_from,
        pupil_id=started.pupil_id,
        class_id=state.class_id,
        inbox=state.inbox,
        parent_ids=started.parent_ids,
        announcement=started.kind == "announcement",
    )


def decide_start(state: Conversation, command: StartConversation) -> list[Event]:
    if state.started is not None:
        again = (
            command.first.message_id in state.messages
            and not state.erased
            and state.started.started_by == command.first.sender_id
            and state.started.pupil_id == command.pupil_id  # pupil ids never repeat: one school
        )
        if again:
            return []  # the same request again: already done
        raise Conflict("That conversation id is already used; leave it out for a new one.")
    first = command.first
    started = ConversationStarted(
        conversation_id=command.conversation_id,
        kind="announcement" if command.kind == "announcement" else "family",
        pupil_id=command.pupil_id,
        class_id=command.class_id,
        inbox=command.inbox,
        parent_ids=command.parent_ids,
        started_by=first.sender_id,
        started_by_side=first.side,
        in_reply_to=command.in_reply_to,
    )
    begun = evolve_conversation(state, started)
    return [started, _message_event(begun, first)]


def decide_send(state: Conversation, message: NewMessage, *, class_id: str | None) -> list[Event]:
    """A new message; ``class_id`` is the pupil's class now (a conversation moves with the
    child, so the new class's staff read what comes next)."""
    if not state.exists:
        raise ConversationNotFound("There is no such conversation.")
    if message.message_id in state.messages:
        return []  # a retry of the same message
    if state.announcement and message.side == "family":
        raise ReplyPrivately("Reply to an announcement privately: your reply goes to the class.")
    moved = replace(state, class_id=class_id or state.class_id)
    return [_message_event(moved, message)]


def decide_read(
    state: Conversation,
    *,
    reader_id: str,
    side: Side,
    through_message_id: str,
    read_at: datetime,
    shown_from: datetime,
) -> list[Event]:
    if through_message_id not in state.messages:
        raise MessageNotFound("There is no such message in this conversation.")
    upto = state.order.index(through_message_id) + 1
    if state.read_through.get(reader_key(side, reader_id), 0) >= upto:
        return []  # read already: receipts never go backwards
    started = state.started
    assert started is not None
    return [
        MessageRead(
            conversation_id=started.conversation_id,
            reader_id=reader_id,
            side=side,
            through_message_id=through_message_id,
            read_at=read_at,
            shown_from=shown_from,
        )
    ]


def _message(state: Conversation, message_id: str) -> Sent:
    found = state.messages.get(message_id)
    if found is None:
        raise MessageNotFound("There is no such message in this conversation.")
    return found


def decide_withdraw(state: Conversation, message_id: str, *, by: str, now: datetime) -> list[Event]:
    sent = _message(state, message_id)
    if sent.sender_id != by:
        raise NotYours("Only the person who sent a message can take it back.")
    if sent.withdrawn:
        return []
    # a scheduled message can be taken back until ten minutes after it appears
    if now > sent.visible_from + WITHDRAW_WINDOW:
        raise TooLateToWithdraw(
            "A message can be taken back for 10 minutes after it is sent. "
            "You can report it to the school's leaders instead."
        )
    assert state.started is not None
    return [
        MessageWithdrawn(
            conversation_id=state.started.conversation_id, message_id=message_id, withdrawn_by=by
        )
    ]


def decide_report(
    state: Conversation,
    message_id: str,
    *,
    report_id: str,
    by: str,
    side: Side,
    reason: str,
) -> list[Event]:
    sent = _message(state, message_id)
    if sent.sender_id == by:
        raise Forbidden("You cannot report your own message: you can take it back instead.")
    if any(
        r.message_id == message_id and r.reported_by == by and r.resolved is None
        for r in state.reports.values()
    ):
        return []  # reported already and still waiting for a leader
    assert state.started is not None
    return [
        MessageReported(
            conversation_id=state.started.conversation_id,
            message_id=message_id,
            report_id=report_id,
            reported_by=by,
            side=side,
            sender_id=sent.sender_id,
            reason=reason,
        )
    ]


def decide_resolve(
    state: Conversation,
    report_id: str,
    *,
    action: ReportAction,
    by: str,
    note: str,
) -> list[Event]:
    report = state.reports.get(report_id)
    if report is None:
        raise ReportNotFound("There is no such report.")
    if report.resolved is not None:
        if report.resolved == action:
            return []
        raise AlreadyResolved(f"This report was already {report.resolved}.")
    sent = state.messages[report.message_id]
    if action == "suspended" and sent.side != "family":
        raise CannotSuspendStaff(
            "A member of staff's account is not suspended from here: speak to them."
        )
    assert state.started is not None
    conversation_id = state.started.conversation_id
    events: list[Event] = []
    if action == "hidden" and not sent.hidden:
        events.append(
            MessageHidden(
                conversation_id=conversation_id,
                message_id=report.message_id,
                hidden_by=by,
                report_id=report_id,
            )
        )
    events.append(
        ReportResolved(
            conversation_id=conversation_id,
            report_id=report_id,
            message_id=report.message_id,
            sender_id=report.sender_id,
            action=action,
            resolved_by=by,
            note=note,
        )
    )
    return events


def decide_hide(state: Conversation, message_id: str, *, by: str) -> list[Event]:
    sent = _message(state, message_id)
    if sent.hidden:
        return []
    assert state.started is not None
    return [
        MessageHidden(
            conversation_id=state.started.conversation_id, message_id=message_id, hidden_by=by
        )
    ]


def decide_pass(
    state: Conversation, *, to: Inbox, by: str, note: str, class_id: str | None
) -> list[Event]:
    if not state.exists or state.announcement:
        raise ConversationNotFound("Only a family's conversation can be passed on.")
    assert state.started is not None
    if state.inbox == to:
        return []
    conversation_id = state.started.conversation_id
    if to == "office":
        return [
            ConversationPassedToOffice(conversation_id=conversation_id, passed_by=by, note=note)
        ]
    if class_id is None:
        raise Unprocessable("This pupil is in no class to pass the conversation to.")
    return [
        ConversationPassedToClass(
            conversation_id=conversation_id, class_id=class_id, passed_by=by, note=note
        )
    ]


def decide_erase(state: Conversation, *, last_at: datetime) -> list[Event]:
    """The school's retention: record that the conversation is gone (its key already is)."""
    if state.started is None or state.erased:
        return []
    return [ConversationErased(conversation_id=state.started.conversation_id, last_at=last_at)]


def kept_since(today: date, months: int) -> date:
    """Conversations last written in before this day are past a retention of ``months``."""
    count = today.year * 12 + today.month - 1 - months
    year, month = divmod(count, 12)
    day = min(today.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day)


def visible_from(wanted: datetime | None, now: datetime) -> datetime:
    """Now, or a later moment a member of staff chose (within two weeks)."""
    if wanted is None or wanted <= now:
        return now
    if wanted - now > LONGEST_SCHEDULE:
        raise ScheduledTooFar("Choose a moment within the next two weeks.")
    return wanted


# -- absence (stream absence-{id}) -------------------------------------------------------


@dataclass(frozen=True)
class Absence:
    reported: AbsenceReported | None = None
    recorded_by: str | None = None


def initial_absence() -> Absence:
    return Absence()


def evolve_absence(state: Absence, event: Event) -> Absence:
    match event:
        case AbsenceReported():
            return replace(state, reported=event)
        case AbsenceRecorded():
            return replace(state, recorded_by=event.recorded_by)
    return state


ABSENCES = Aggregate("absence", initial_absence, evolve_absence)
LONGEST_ABSENCE = timedelta(days=62)


@dataclass(frozen=True)
class ReportAbsence:
    absence_id: str
    pupil_id: str
    class_id: str
    first_day: date
    last_day: date
    reason: AbsenceReason
    note: str
    reported_by: str


def decide_report_absence(state: Absence, command: ReportAbsence, *, today: date) -> list[Event]:
    if state.reported is not None:
        return []  # the same report again
    if command.last_day < command.first_day:
        raise BadDates("The last day cannot come before the first.")
    if command.last_day - command.first_day > LONGEST_ABSENCE:
        raise BadDates("For an absence of more than two months, please speak to the office.")
    if command.first_day < today - timedelta(days=14):
        raise BadDates("An absence can be reported up to two weeks after it began.")
    return [
        AbsenceReported(
            absence_id=command.absence_id,
            pupil_id=command.pupil_id,
            class_id=command.class_id,
            first_day=command.first_day,
            last_day=command.last_day,
            reason=command.reason,
            note=command.note,
            reported_by=command.reported_by,
        )
    ]


def decide_record_absence(state: Absence, *, by: str) -> list[Event]:
    if state.reported is None:
        raise NotFound("There is no such absence report.")
    if state.recorded_by is not None:
        return []
    return [
        AbsenceRecorded(
            absence_id=state.reported.absence_id, pupil_id=state.reported.pupil_id, recorded_by=by
        )
    ]


# -- the school's settings (stream messagingsettings-{school_id}) --------------------------


@dataclass(frozen=True)
class Settings:
    switched_off: bool = False
    notice: str = ""
    office_days: tuple[int, ...] = (0, 1, 2, 3, 4)
    office_starts: time = time(8, 0)
    office_ends: time = time(17, 0)
    phone: str = ""
    office_words: tuple[OfficeWords, ...] = ()


def initial_settings() -> Settings:
    return Settings()


def evolve_settings(state: Settings, event: Event) -> Settings:
    match event:
        case MessagingSwitchedOff():
            return replace(state, switched_off=True, notice=event.notice)
        case MessagingSwitchedOn():
            return replace(state, switched_off=False, notice="")
        case OfficeSettingsChanged():
            return replace(
                state,
                office_days=event.office_days,
                office_starts=event.office_starts,
                office_ends=event.office_ends,
                phone=event.phone,
                office_words=event.office_words,
            )
    return state


SETTINGS = Aggregate("messagingsettings", initial_settings, evolve_settings)


def decide_switch(state: Settings, *, on: bool, notice: str, by: str) -> list[Event]:
    if on:
        return [MessagingSwitchedOn(switched_by=by)] if state.switched_off else []
    if state.switched_off and state.notice == notice:
        return []
    return [MessagingSwitchedOff(switched_by=by, notice=notice)]


def decide_office(state: Settings, wanted: OfficeSettingsChanged) -> list[Event]:
    if wanted.office_ends <= wanted.office_starts:
        raise Unprocessable("The office closes after it opens.")
    if not wanted.office_days or any(not 0 <= d <= 6 for d in wanted.office_days):
        raise Unprocessable("Choose the office's days (Monday is 0, Sunday 6).")
    current = (
        state.office_days,
        state.office_starts,
        state.office_ends,
        state.phone,
        state.office_words,
    )
    if current == (
        wanted.office_days,
        wanted.office_starts,
        wanted.office_ends,
        wanted.phone,
        wanted.office_words,
    ):
        return []
    return [wanted]


class NoMediaConsent(Unprocessable):
    slug = "no-media-consent"
    title = "A child in this photo may not be shown"
