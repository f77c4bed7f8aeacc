"""What notifications keeps of other services' facts, to know who hears about what: pupils
and their classes, each pupil's guardians, staff and their classes, each school's calendar
and digest time, and each person's choices."""

from __future__ import annotations

import dataclasses

from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.notifications import (
    NotificationPreferencesChanged,
    NotificationSettingsChanged,
)
from schoolgate_contracts.roster import SchoolDetailsChanged, SchoolRegistered
from schoolgate_contracts.stories import PostDeleted
from schoolgate_kit.directory import (
    families_projection,
    pupils_projection,
    schools_projection,
    staff_projection,
)
from schoolgate_kit.projections import Projection
from schoolgate_kit.readmodels import Doc

PUPILS = "notifications.pupils"
SCHOOLS = "notifications.schools"
FAMILIES = "notifications.families"
STAFF = "notifications.staff"
CALENDARS = "notifications.calendars"
PREFERENCES = "notifications.preferences"
POSTS_GONE = "notifications.posts_gone"
"""Stories deleted since they were published: nobody is told of one any more (a story
scheduled for Friday and deleted on Thursday), and the centre stops listing it."""

DEFAULT_DIGEST_AT = "17:30"
"""When a school's daily digest goes until it chooses: after the school day, while families
are home."""


def preferences_key(school_id: str, person: str) -> str:
    """A person's choices at one school (a parent may have children at two)."""
    return f"{school_id}:{person}"


def post_key(school_id: str, post_id: str) -> str:
    return f"{school_id}:{post_id}"


def _post_gone(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    return {"school_id": recorded.metadata.school_id}


def _calendar(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    doc = doc or {
        "school_id": recorded.metadata.school_id,
        "details": None,
        "digest_at": DEFAULT_DIGEST_AT,
    }
    match event:
        case SchoolRegistered() | SchoolDetailsChanged():
            return {**doc, "details": event.details.model_dump(mode="json")}
        case NotificationSettingsChanged():
            return {**doc, "digest_at": event.digest_at.strftime("%H:%M")}
    return doc


def _preferences_key(recorded: RecordedEvent) -> str:
    event = recorded.event
    assert isinstance(event, NotificationPreferencesChanged)
    return preferences_key(recorded.metadata.school_id, f"{event.audience}:{event.person_id}")


def _preferences(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    assert isinstance(event, NotificationPreferencesChanged)
    return {
        "school_id": recorded.metadata.school_id,
        "person_id": event.person_id,
        "audience": event.audience,
        "choices": event.choices,
    }


PUPILS_PROJECTION = dataclasses.replace(
    pupils_projection(PUPILS),
    indexes=(("school_id", "class_id"), ("school_id", "year_group_id"), ("school_id", "left")),
)
STAFF_PROJECTION = staff_projection(STAFF)
PROJECTIONS: tuple[Projection, ...] = (
    PUPILS_PROJECTION,
    schools_projection(SCHOOLS),
    families_projection(FAMILIES),
    STAFF_PROJECTION,
    Projection(
        name=CALENDARS,
        handles=(SchoolRegistered, SchoolDetailsChanged, NotificationSettingsChanged),
        key=lambda recorded: recorded.metadata.school_id,
        evolve=_calendar,
    ),
    Projection(
        name=POSTS_GONE,
        handles=(PostDeleted,),
        key=lambda recorded: post_key(
            recorded.metadata.school_id, getattr(recorded.event, "post_id", "")
        ),
        evolve=_post_gone,
    ),
    Projection(
        name=PREFERENCES,
        handles=(NotificationPreferencesChanged,),
        key=_preferences_key,
        evolve=_preferences,
    ),
)
