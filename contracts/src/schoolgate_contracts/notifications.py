"""Events owned by the notifications service: what each person wants to hear about and how,
the school's digest time, and a leader's emergency notice.

Streams:

- ``notifyprefs-{person_id}``: one person's choices (a parent's or a member of staff's id,
  both unique across a district), per kind of notification and per channel.
- ``notifysettings-{school_id}``: when the school's daily digest goes, in its timezone.
- ``emergency-{notice_id}``: a leader's emergency notice to every family of the school. It
  reaches everyone on every channel at once, whatever they chose and whatever the hour.

What was sent to whom is not an event: deliveries are effects, kept (without their words) in
the service's own records for support.
"""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import Field

from schoolgate_contracts.base import Event
from schoolgate_contracts.privacy import Id, SchoolText
from schoolgate_contracts.registry import registry

Timing = Literal["instant", "digest", "off"]
Audience = Literal["parent", "staff"]


class _Notifications(Event):
    service = "notifications"


@registry.register
class NotificationPreferencesChanged(_Notifications):
    """A person's choices, whole: ``choices[kind][channel]`` for the kinds and channels they
    changed from the defaults (the service knows the kinds, the defaults and which choices
    may not be made, and checks them before this is written)."""

    event_type = "NotificationPreferencesChanged"
    person_id: Id
    audience: Audience
    choices: dict[str, dict[str, Timing]] = Field(max_length=32)


@registry.register
class NotificationSettingsChanged(_Notifications):
    """When the daily digest goes, in the school's timezone."""

    event_type = "NotificationSettingsChanged"
    digest_at: time
    changed_by: Id


@registry.register
class EmergencyNoticeSent(_Notifications):
    """A leader's notice to every family of the school (a closure, a lockdown): it cannot be
    muted, and it is not held for quiet hours."""

    event_type = "EmergencyNoticeSent"
    notice_id: Id
    text: SchoolText = Field(min_length=1, max_length=500)
    sent_by: Id
