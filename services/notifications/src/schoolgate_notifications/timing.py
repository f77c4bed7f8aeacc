"""When a notification goes, and what several of them become: the digest, the staff's held
summary, and the push limiter.

Pure: ``now`` is always an argument, nothing is stored or sent here. The reactors ask
``plan`` for each recipient x channel, send at once or file the item under ``Plan.batch``;
the scheduler later turns a batch into one ``digest`` or one ``away`` notice. Pushes pass
through ``admit`` (and ``flush`` when a collapsed push falls due), whose state is plain
JSON kept per recipient in the private store.

Datetimes come in aware (any offset) and go out aware in UTC; the school's wall clock is
used only inside (``schoolgate_kit.schooltime``), so a clock change moves nothing a family
sees: the digest stays at the school's 18:00 in March and in October.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from schoolgate_kit.schooltime import Calendar, in_hours, next_start

from schoolgate_notifications import words
from schoolgate_notifications.preferences import LOCKED, Audience, Channel, Kind, Timing


class Item(BaseModel):
    """One thing to tell one recipient, as filed for later and as the limiter keeps it.
    Names are display names already (first names, the recipient's own children only)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str
    kind: Kind
    at: AwareDatetime
    """When it happened: the order within a digest section."""
    pupil_id: str | None = None
    """The child it is about; items collapse per kind and child."""
    pupil: str | None = None
    sender: str | None = None
    subject: str | None = None
    """A short label that may be shown: the school way of a point, a story's first line."""


class Route(StrEnum):
    now = "now"
    digest = "digest"
    """Filed for the recipient's digest on this channel, due at ``Plan.at``."""
    held = "held"
    """A member of staff's, filed for the summary at the next start of working hours."""
    dropped = "dropped"
    """Off on this channel (the notification centre still has it)."""
    scheduled = "scheduled"
    """Told as itself once it can be seen (a story scheduled for later), at ``Plan.at``."""


@dataclass(frozen=True)
class Plan:
    route: Route
    channel: Channel
    at: datetime
    """UTC: when to deliver (``now`` itself for now and dropped)."""

    def batch(self, recipient: str) -> str | None:
        """The key items are filed under to become one send: per recipient (a parent, so
        one digest per family, however many children), channel and due moment, so items
        due at different moments never merge and a flushed batch is never filled again."""
        if self.route not in (Route.digest, Route.held, Route.scheduled):
            return None
        return f"{self.route}:{self.channel}:{recipient}:{self.at.isoformat()}"


def plan(
    kind: Kind,
    channel: Channel,
    timing: Timing,
    audience: Audience,
    calendar: Calendar,
    now: datetime,
    digest_at: time,
    shows_from: datetime | None = None,
) -> Plan:
    """When one item goes to one recipient on one channel.

    - What can be seen only later (``shows_from``: a story scheduled for Friday) is planned
      as if it happened then: told as itself at that moment, or in the digest or the staff
      summary that follows it. The centre lists it from then on.

    - Locked kinds (account, safety, emergency) go now on every channel, whatever is
      stored and whatever the hour: a warning about a sign-in from a new device is no use
      tomorrow, and an emergency ignores quiet hours by definition.
    - The notification centre (in_app) is filled now: it makes no sound, and it is the
      record the held summary and the digest point back to.
    - Digest: at the next ``digest_at`` on the school's clock; for staff, if that falls
      outside working hours, at the next start of hours after it.
    - Instant for staff outside working hours (any channel but in_app): held until hours
      next start. When the school's calendar knows no next working day (term dates run out
      and next year's not entered) it goes now: a held item needs a moment to be flushed
      at, and a message nobody is ever told about is worse than a phone that buzzes in the
      holidays; entering the term dates restores the quiet.
    """
    now = _utc(now)
    if shows_from is not None and _utc(shows_from) > now and channel is not Channel.in_app:
        later = plan(kind, channel, timing, audience, calendar, _utc(shows_from), digest_at)
        return later if later.route is not Route.now else Plan(Route.scheduled, channel, later.at)
    if kind in LOCKED or channel is Channel.in_app:
        return Plan(Route.now, channel, now)
    if timing is Timing.off:
        return Plan(Route.dropped, channel, now)
    if timing is Timing.digest:
        due = next_digest(calendar, now, digest_at)
        if audience is Audience.staff:
            due = next_start(calendar, due) or due
        return Plan(Route.digest, channel, due)
    if audience is Audience.staff and not in_hours(calendar, now):
        start = next_start(calendar, now)
        if start is not None:
            return Plan(Route.held, channel, start)
    return Plan(Route.now, channel, now)


def next_digest(calendar: Calendar, now: datetime, digest_at: time) -> datetime:
    """The first ``digest_at`` on the school's wall clock strictly after ``now``, in UTC.
    Strictly: an item that arrives as a digest goes out waits for the next one rather than
    joining a batch that may already be sent. Every day, school day or not: families hear
    about a Saturday fair on Saturday."""
    if digest_at.tzinfo is not None:
        raise ValueError("the digest time is a time of the school's day, with no offset")
    now = _utc(now)
    day = now.astimezone(calendar.timezone).date()
    while True:
        # Built on the wall clock, then compared in UTC: aware datetimes sharing a tzinfo
        # compare by wall time, which is wrong across the October hour that repeats.
        due = datetime.combine(day, digest_at, tzinfo=calendar.timezone).astimezone(UTC)
        if due > now:
            return due
        day += timedelta(days=1)


@dataclass(frozen=True)
class Notice:
    """One send: a push's title and body (or an email's subject and first line)."""

    title: str
    body: str
    tag: str
    """A device shows one notification per tag: a later notice with the same tag replaces
    the earlier one, which is how "Ada got a point" becomes "Ada got 3 points"."""
    event_ids: tuple[str, ...]
    """What it stands for, so support can see what was sent without any body."""
    replaces: bool = False
    """It replaces a notice already shown under ``tag``: show it without a second sound
    (``renotify: false``), so a collapsed burst buzzes once."""


def away(items: Iterable[Item]) -> Notice:
    """A member of staff's held items as ONE notice at the start of hours ("While you were
    away" / "3 messages, 2 stories"), never a burst of twenty pushes at 08:00."""
    kept = _unique(items)
    text = words.away(kept)
    return Notice(text.title, text.body, "away", tuple(i.event_id for i in kept))


@dataclass(frozen=True)
class Section:
    kind: Kind
    heading: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Digest:
    """One family's round-up: all its children together, a section per kind, most
    pressing first."""

    title: str
    summary: str
    sections: tuple[Section, ...]
    event_ids: tuple[str, ...]


def digest(items: Iterable[Item]) -> Digest:
    """A recipient's digest from the items filed under one batch key. An item filed twice
    (an event delivered again) is told once."""
    kept = sorted(_unique(items), key=lambda i: i.at)
    sections = tuple(
        Section(kind, words.heading(kind), words.lines(kind, of_kind))
        for kind in words.ORDER
        if (of_kind := [i for i in kept if i.kind is kind])
    )
    summary = words.counts(kept) or words.WORDS["digest.empty"]
    return Digest(words.WORDS["digest.title"], summary, sections, tuple(i.event_id for i in kept))


# The push limiter


@dataclass(frozen=True)
class Limits:
    """At most ``most`` pushes in any ``window``, and ``gap`` between two: a class's
    burst of points or a busy afternoon of stories is one or two buzzes, not twenty."""

    most: int = 5
    window: timedelta = timedelta(minutes=10)
    gap: timedelta = timedelta(seconds=60)


LIMITS = Limits()


class Sent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    at: AwareDatetime
    tag: str
    count: int
    """How many items the notice shown under ``tag`` stands for."""
    event_ids: tuple[str, ...] = ()
    """What it told, so an item delivered again (after a crash between the limiter's word
    and the send) is sent again as itself, not counted as one more."""


class LimiterState(BaseModel):
    """One recipient's limiter, as JSON (``model_dump(mode="json")``) in the private store.
    Keep it with compare-and-set or one writer per recipient: two admits from the same
    state would both send."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    sent: tuple[Sent, ...] = ()
    """Pushes within the window, oldest first."""
    pending: tuple[Item, ...] = ()
    flush_at: AwareDatetime | None = None
    """When the pending items may go, as one notice (``flush``)."""
    serial: int = Field(default=0, ge=0)
    """Counts notices, so each collapsed notice gets a tag of its own."""


@dataclass(frozen=True)
class SendNow:
    notice: Notice


@dataclass(frozen=True)
class Collapsed:
    """Kept back, to go with any others as one notice at ``flush_at``."""

    flush_at: datetime


Decision = SendNow | Collapsed


def admit(
    state: LimiterState, item: Item, now: datetime, limits: Limits = LIMITS
) -> tuple[Decision, LimiterState]:
    """Whether a push for ``item`` goes now or waits, and the limiter's next state.

    It goes now when nothing waits and the window and gap allow; a locked kind always goes
    now (it still counts towards the window). Otherwise it joins what waits, to go at the
    first moment the limits allow; once that moment has passed, what waits goes with it.
    The scheduler calls ``flush`` at ``flush_at`` for a recipient who gets nothing more."""
    now = _utc(now)
    state = _forget(state, now, limits)
    for sent in state.sent:
        if item.event_id in sent.event_ids:
            text = words.one(item)
            return SendNow(Notice(text.title, text.body, sent.tag, (item.event_id,))), state
    if item.kind in LOCKED:
        return _send(state, (item,), now)
    if any(waiting.event_id == item.event_id for waiting in state.pending):
        assert state.flush_at is not None
        return Collapsed(state.flush_at), state
    if state.pending:
        state = state.model_copy(update={"pending": (*state.pending, item)})
        assert state.flush_at is not None
        if now < state.flush_at:
            return Collapsed(state.flush_at), state
        return _send(state, state.pending, now)
    free = _free_at(state, now, limits)
    if now < free:
        return Collapsed(free), state.model_copy(update={"pending": (item,), "flush_at": free})
    return _send(state, (item,), now)


def flush(
    state: LimiterState, now: datetime, limits: Limits = LIMITS
) -> tuple[Notice | None, LimiterState]:
    """What waits, as one notice, once it may go; ``None`` before (with ``flush_at`` moved
    on if a locked notice went meanwhile and used the gap)."""
    now = _utc(now)
    state = _forget(state, now, limits)
    if not state.pending:
        return None, state
    free = _free_at(state, now, limits)
    if now < free:
        return None, state.model_copy(update={"flush_at": max(free, state.flush_at or free)})
    decision, state = _send(state, state.pending, now)
    assert isinstance(decision, SendNow)
    return decision.notice, state


def _send(
    state: LimiterState, items: Sequence[Item], now: datetime
) -> tuple[Decision, LimiterState]:
    """One notice for ``items``, recorded as sent; what it stands for no longer waits.

    One kind about one child: its tag is that kind and child, so it replaces the notice
    already shown for them within the window and tells the total ("Ada got 3 points"
    replaces "Ada got a point"). Several: "4 new notifications", under a tag of its own,
    so it hides nothing already shown. A locked kind's notice is never replaced: two
    safety notices must both stay on the screen."""
    items = _unique(items)
    groups = {(i.kind, i.pupil_id) for i in items}
    serial, shown = state.serial + 1, 0
    if len(groups) > 1:
        tag, count = f"several:{serial}", len(items)
        text = words.collapsed(items)
    elif items[0].kind in LOCKED:
        tag, count = f"{items[0].kind}:{items[0].event_id}", 1
        text = words.one(items[0])
    else:
        kind, pupil_id = groups.pop()
        tag = f"{kind}:{pupil_id or ''}"
        shown = next((s.count for s in reversed(state.sent) if s.tag == tag), 0)
        count = shown + len(items)
        text = words.group(items, count)
    ids = tuple(i.event_id for i in items)
    notice = Notice(text.title, text.body, tag, ids, replaces=shown > 0)
    told = set(notice.event_ids)
    pending = tuple(i for i in state.pending if i.event_id not in told)
    after = LimiterState(
        sent=(*state.sent, Sent(at=now, tag=tag, count=count, event_ids=ids)),
        pending=pending,
        flush_at=state.flush_at if pending else None,
        serial=serial,
    )
    return SendNow(notice), after


def _free_at(state: LimiterState, now: datetime, limits: Limits) -> datetime:
    """The first moment another push may go."""
    if not state.sent:
        return now
    free = state.sent[-1].at + limits.gap
    if len(state.sent) >= limits.most:
        free = max(free, state.sent[-limits.most].at + limits.window)
    return free


def _forget(state: LimiterState, now: datetime, limits: Limits) -> LimiterState:
    """Pushes that left the window no longer count, nor are replaced."""
    kept = tuple(s for s in state.sent if s.at > now - limits.window)
    return state if kept == state.sent else state.model_copy(update={"sent": kept})


def _unique(items: Iterable[Item]) -> list[Item]:
    return list({item.event_id: item for item in items}.values())


def _utc(at: datetime) -> datetime:
    if at.utcoffset() is None:
        raise ValueError("a moment needs its offset: pass an aware datetime")
    return at.astimezone(UTC)
