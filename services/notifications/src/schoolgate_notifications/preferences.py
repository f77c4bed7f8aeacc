"""What each person is sent, on which channel, and how soon: per kind x channel, one of
instant, digest or off, stored sparsely (only what the person changed) over defaults.

Pure: nothing here reads a store or a clock. The HTTP layer validates a change with
``ChoicesChange`` (any error is a 422), merges it into what is stored with ``apply``, and a
reactor asks ``effective`` for the whole matrix of one person.

Decisions, so nobody has to guess them again:

- **The notification centre (in_app) is always on, instant, for every kind.** It is the
  record of what was sent; turning a kind "off" means no buzz and no email, never a gap in
  the history. It makes no sound, so it is never held for quiet hours either.
- **Account, safety and emergency notices are locked**: instant on every channel, not
  changeable at all. The issue asks for at least one of push or email to stay instant; we
  lock both because the person cannot know beforehand which one will reach them: the case a
  sign-in from a new device warns about is exactly a lost phone or a taken-over mailbox.
  They come rarely, so locking them costs nobody a quiet evening.
- **Digest is offered on push and email** (one round-up at the school's digest time), not
  in the app (the centre already is a list).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, field_validator


class Kind(StrEnum):
    points = "points"
    """A point for my child."""
    class_stories = "class_stories"
    school_stories = "school_stories"
    """Stories for a year group or the whole school."""
    messages = "messages"
    approved_work = "approved_work"
    announcements = "announcements"
    account = "account"
    """Password reset, a sign-in from a new device."""
    safety = "safety"
    """A new guardian linked to my child, a suspension."""
    emergency = "emergency"
    """A leader's emergency announcement."""


class Channel(StrEnum):
    in_app = "in_app"
    push = "push"
    email = "email"


class Timing(StrEnum):
    instant = "instant"
    digest = "digest"
    off = "off"


class Audience(StrEnum):
    """Who a person is to the school, which decides their defaults and quiet hours."""

    parent = "parent"
    staff = "staff"

    @classmethod
    def of(cls, person: str) -> Audience:
        """The audience of a people key (``"parent:<id>"`` or ``"staff:<id>"``)."""
        prefix, sep, _ = person.partition(":")
        if not sep or prefix not in cls.__members__:
            raise ValueError(f"not a people key: {person!r}")
        return cls(prefix)


Row = Mapping[Channel, Timing]
Matrix = Mapping[Kind, Row]
"""Every kind x every channel: what ``effective`` answers."""
Choices = dict[Kind, dict[Channel, Timing]]
"""What a person changed, sparse: the stored form (as JSON, the enums' string values)."""

INSTANT, DIGEST, OFF = Timing.instant, Timing.digest, Timing.off


def _row(push: Timing, email: Timing) -> Row:
    return MappingProxyType({Channel.in_app: INSTANT, Channel.push: push, Channel.email: email})


LOCKED: Mapping[Kind, str] = MappingProxyType(
    {
        Kind.account: "Account notices (a password reset, a sign-in from a new device) "
        "keep your account safe, so they can't be changed.",
        Kind.safety: "Safety notices (a new guardian linked to your child, a suspension) "
        "can't be changed.",
        Kind.emergency: "Emergency announcements from the school can't be muted.",
    }
)
"""Kinds nobody can change, each with the reason a person is shown when they try."""

ALWAYS_ON = _row(push=INSTANT, email=INSTANT)
"""The only row a locked kind has."""

IN_APP_REASON = "The notification centre keeps every notification, so it is always on and instant."

DEFAULTS: Mapping[Audience, Matrix] = MappingProxyType(
    {
        # A parent: what is about my child, or written to me, buzzes at once; what is about
        # the whole school waits for the evening round-up. Email is the channel of parents
        # without the app on their phone, so what they would miss comes there too, but a
        # point (several a day) never fills an inbox on its own.
        Audience.parent: MappingProxyType(
            {
                Kind.points: _row(push=INSTANT, email=OFF),
                Kind.class_stories: _row(push=INSTANT, email=DIGEST),
                Kind.school_stories: _row(push=DIGEST, email=DIGEST),
                Kind.messages: _row(push=INSTANT, email=INSTANT),
                Kind.approved_work: _row(push=INSTANT, email=DIGEST),
                Kind.announcements: _row(push=INSTANT, email=INSTANT),
                Kind.account: ALWAYS_ON,
                Kind.safety: ALWAYS_ON,
                Kind.emergency: ALWAYS_ON,
            }
        ),
        # Staff: the work that waits for them (a family's message, an announcement) comes
        # on the phone, held to working hours by the timing rules; stories they mostly
        # wrote or can read in the app, and points they award themselves, so those stay in
        # the centre. Staff mailboxes are full already: email only for what is locked.
        Audience.staff: MappingProxyType(
            {
                Kind.points: _row(push=OFF, email=OFF),
                Kind.class_stories: _row(push=OFF, email=OFF),
                Kind.school_stories: _row(push=DIGEST, email=OFF),
                Kind.messages: _row(push=INSTANT, email=OFF),
                Kind.approved_work: _row(push=OFF, email=OFF),
                Kind.announcements: _row(push=INSTANT, email=OFF),
                Kind.account: ALWAYS_ON,
                Kind.safety: ALWAYS_ON,
                Kind.emergency: ALWAYS_ON,
            }
        ),
    }
)


class LockedChoice(ValueError):
    """A change nobody may make. A ValueError, so raised inside ``ChoicesChange`` it becomes
    an ordinary validation error (a 422 with the reason as its message); raised by
    ``unsubscribe`` the HTTP layer maps it to a 422 problem with ``kind`` and ``channel``."""

    def __init__(self, kind: Kind, channel: Channel, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.channel = channel
        self.reason = reason


def check(kind: Kind, channel: Channel, timing: Timing) -> None:
    """Raise ``LockedChoice`` unless a person may set ``kind`` on ``channel`` to ``timing``.
    Setting a locked choice to the value it already has is allowed, so a page may send the
    whole matrix back as shown."""
    if kind in LOCKED and timing != ALWAYS_ON[channel]:
        raise LockedChoice(kind, channel, LOCKED[kind])
    if channel is Channel.in_app and timing is not Timing.instant:
        raise LockedChoice(kind, channel, IN_APP_REASON)


class ChoicesChange(BaseModel):
    """What a person sends to change their choices: only the cells they change.
    ``{"choices": {"class_stories": {"push": "digest"}, "messages": {"email": "instant"}}}``.
    Unknown kinds, channels, timings or fields are refused, and so is any locked choice."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)
    # strict=False: JSON has no enums, so the strings must be read into them; anything
    # that is not one of their values is still an error.
    choices: dict[Kind, dict[Channel, Timing]]

    @field_validator("choices", mode="after")
    @classmethod
    def _nothing_locked(cls, choices: Choices) -> Choices:
        for kind, row in choices.items():
            for channel, timing in row.items():
                check(kind, channel, timing)
        return choices


def apply(stored: Mapping[str, Mapping[str, str]] | None, change: ChoicesChange) -> Choices:
    """The stored choices with ``change`` laid over them, cell by cell: what the person
    did not send stays as it was."""
    merged = _read(stored)
    for kind, row in change.choices.items():
        merged.setdefault(kind, {}).update(row)
    return _tidy(merged)


def effective(stored: Mapping[str, Mapping[str, str]] | None, audience: Audience) -> Matrix:
    """Every kind x channel for one person: their stored choices over the defaults of
    their audience. Locked kinds and the notification centre are forced back to their
    fixed value whatever is stored, and what is stored under a kind or channel this
    version no longer knows is skipped, so old data never stops a notification."""
    stored_choices = _read(stored)
    matrix: dict[Kind, Row] = {}
    for kind, default in DEFAULTS[audience].items():
        row = dict(default)
        if kind not in LOCKED:
            for channel, timing in stored_choices.get(kind, {}).items():
                if channel is not Channel.in_app:
                    row[channel] = timing
        matrix[kind] = MappingProxyType(row)
    return MappingProxyType(matrix)


def unsubscribe(stored: Mapping[str, Mapping[str, str]] | None, kind: Kind) -> Choices:
    """The choices after a one-click unsubscribe (RFC 8058) from the emails of ``kind``:
    email off for that kind, everything else as it was. A locked kind is refused with
    ``LockedChoice``: its emails carry no unsubscribe link, so a link that asks for it
    was not made by us."""
    check(kind, Channel.email, Timing.off)
    choices = _read(stored)
    choices.setdefault(kind, {})[Channel.email] = Timing.off
    return _tidy(choices)


def as_json(choices: Choices) -> dict[str, dict[str, str]]:
    """The stored form: plain strings, so it goes into the private store as JSON."""
    return {
        str(kind): {str(channel): str(timing) for channel, timing in row.items()}
        for kind, row in choices.items()
    }


def _read(stored: Mapping[str, Mapping[str, str]] | None) -> Choices:
    """Stored JSON into choices, skipping what this version does not know."""
    choices: Choices = {}
    for kind, row in (stored or {}).items():
        if kind not in Kind.__members__:
            continue
        cells = {
            Channel(channel): Timing(timing)
            for channel, timing in row.items()
            if channel in Channel.__members__ and timing in Timing.__members__
        }
        if cells:
            choices[Kind(kind)] = cells
    return choices


def _tidy(choices: Choices) -> Choices:
    """No locked cells and no in-app cells are kept: they could only ever say the default."""
    tidy: Choices = {}
    for kind, row in choices.items():
        kept: dict[Channel, Timing] = {
            channel: timing for channel, timing in row.items() if channel != Channel.in_app
        }
        if kind not in LOCKED and kept:
            tidy[kind] = kept
    return tidy
