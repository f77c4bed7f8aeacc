"""The notifications service's HTTP API: a person's notification centre, a leader's
emergency notice and digest time, and the support log of what was sent (without words)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from schoolgate_contracts.notifications import (
    EmergencyNoticeSent,
    NotificationPreferencesChanged,
    NotificationSettingsChanged,
)
from schoolgate_kit.app import Kit, correlation_id, create_service_app
from schoolgate_kit.commands import Aggregate
from schoolgate_kit.identity import CurrentIdentity, Identity, Role
from schoolgate_kit.private import open_private_store
from schoolgate_kit.problems import Forbidden, Problem, Unprocessable, problem_responses

from schoolgate_notifications import preferences, push
from schoolgate_notifications.bootstrap import Notifications
from schoolgate_notifications.compose import family_key, staff_key
from schoolgate_notifications.delivery import PENDING, SENT
from schoolgate_notifications.projections import (
    CALENDARS,
    DEFAULT_DIGEST_AT,
    POSTS_GONE,
    PREFERENCES,
    post_key,
    preferences_key,
)
from schoolgate_notifications.reactors import CENTRE, HANDLED

ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
PathId = Annotated[str, Path(pattern=ID_PATTERN)]
PAGE = 30
UNREAD_COUNTED = 99
"""Beyond this the badge says "99+": nobody needs the exact figure, and counting stays cheap."""
SEEN = "notifications.seen"
"""What each person has seen of their notification centre: the time of the newest entry."""
PEOPLE = frozenset(Role) - {Role.pupil, Role.board}

router = APIRouter(
    prefix="/schools/{school_id}/notifications",
    tags=["notifications"],
    responses=problem_responses(401, 403, 404),
)


def person_key(identity: Identity) -> str:
    return (
        family_key(identity.subject)
        if identity.role == Role.parent
        else staff_key(identity.subject)
    )


async def _notifications(request: Request) -> Notifications:
    notifications: Notifications = request.app.state.notifications
    return notifications


NotificationsDep = Annotated[Notifications, Depends(_notifications)]
Correlation = Annotated[str, Depends(correlation_id)]


def _in_school(school_id: str, identity: Identity, roles: frozenset[Role], refusal: str) -> None:
    if identity.school_id != school_id:
        raise Forbidden("that is another school")
    if identity.role not in roles:
        raise Forbidden(refusal)


async def _person(school_id: PathId, identity: CurrentIdentity) -> Identity:
    _in_school(school_id, identity, PEOPLE, "pupils and class boards get no notifications")
    return identity


async def _leader(school_id: PathId, identity: CurrentIdentity) -> Identity:
    _in_school(school_id, identity, frozenset({Role.leader}), "this is for leaders")
    return identity


async def _support(school_id: PathId, identity: CurrentIdentity) -> Identity:
    roles = frozenset({Role.leader, Role.school_admin})
    _in_school(school_id, identity, roles, "this is for leaders and the school's administrator")
    return identity


Person = Annotated[Identity, Depends(_person)]
Leader = Annotated[Identity, Depends(_leader)]
Support = Annotated[Identity, Depends(_support)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


EMERGENCIES_PER_HOUR = 3
"""Per school: a leader's account taken over cannot wake every family all night."""


class TooManyEmergencies(Problem):
    status, slug, title = 429, "too-many-emergency-notices", "Too many emergency notices"


class EmergencyRequest(Body):
    text: str = Field(min_length=1, max_length=500)


class SettingsRequest(Body):
    digest_at: time = Field(description="When the daily digest goes, in the school's time.")


async def _seen_at(notifications: Notifications, key: str, school_id: str) -> str:
    doc = await notifications.require_private().get(
        SEEN, f"{school_id}:{key}", now=notifications.clock()
    )
    return str(doc["at"]) if doc else ""


async def _entries(
    notifications: Notifications, key: str, school_id: str, *, before: str | None, limit: int
) -> list[dict[str, Any]]:
    """The newest entries up to ``before``, and never one whose time has not come (a story
    scheduled for later is listed from the moment families can see it)."""
    now = (notifications.clock() + timedelta(microseconds=1)).astimezone(UTC).isoformat()
    entries = await notifications.readmodels.find(
        CENTRE,
        {"recipient": key, "school_id": school_id},
        order_by="created_at",
        descending=True,
        limit=limit,
        before=("created_at", min(before, now) if before else now),
    )
    # a story deleted since is no longer told of (a page may then be a little short)
    about = {post_key(school_id, e["post_id"]) for e in entries if e.get("post_id")}
    gone = await notifications.readmodels.get_many(POSTS_GONE, list(about)) if about else {}
    return [
        e for e in entries if not e.get("post_id") or post_key(school_id, e["post_id"]) not in gone
    ]


def _shown(entry: dict[str, Any], seen_at: str) -> dict[str, Any]:
    return {
        "id": entry["event_id"],
        "kind": entry["kind"],
        "title": entry["title"],
        "body": entry["body"],
        "url": entry["url"],
        "at": entry["created_at"],
        "unread": entry["created_at"] > seen_at,
    }


@router.get("")
async def centre(
    school_id: PathId,
    identity: Person,
    notifications: NotificationsDep,
    before: Annotated[datetime | None, Query(description="A page's last `at`.")] = None,
) -> dict[str, Any]:
    """Your notifications, newest first, a page at a time, and how many are unread."""
    key = person_key(identity)
    seen_at = await _seen_at(notifications, key, school_id)
    entries = await _entries(
        notifications,
        key,
        school_id,
        before=before.isoformat() if before else None,
        limit=PAGE + 1,
    )
    unread = await _unread(notifications, key, school_id, seen_at)
    return {
        "items": [_shown(e, seen_at) for e in entries[:PAGE]],
        "more": len(entries) > PAGE,
        "unread": unread,
    }


async def _unread(notifications: Notifications, key: str, school_id: str, seen_at: str) -> int:
    newest = await _entries(notifications, key, school_id, before=None, limit=UNREAD_COUNTED + 1)
    return sum(1 for e in newest if e["created_at"] > seen_at)


@router.get("/unread")
async def unread(
    school_id: PathId, identity: Person, notifications: NotificationsDep
) -> dict[str, int]:
    """How many notifications are new since you last opened them (at most 100)."""
    key = person_key(identity)
    seen_at = await _seen_at(notifications, key, school_id)
    return {"unread": await _unread(notifications, key, school_id, seen_at)}


@router.post("/seen")
async def seen(
    school_id: PathId, identity: Person, notifications: NotificationsDep
) -> dict[str, int]:
    """Everything in your notification centre so far counts as read."""
    key = person_key(identity)
    newest = await _entries(notifications, key, school_id, before=None, limit=1)
    if newest:
        await notifications.require_private().put(
            SEEN,
            f"{school_id}:{key}",
            {"at": newest[0]["created_at"]},
            now=notifications.clock(),
            group=key,
        )
    return {"unread": 0}


SETTINGS = Aggregate[list[Any]]("notifysettings", list, lambda s, e: [*s, e])
EMERGENCY = Aggregate[list[Any]]("emergency", list, lambda s, e: [*s, e])


@router.get("/settings")
async def read_settings(
    school_id: PathId, identity: Person, notifications: NotificationsDep
) -> dict[str, str]:
    """When the school's daily digest goes."""
    doc = await notifications.readmodels.get(CALENDARS, school_id) or {}
    return {"digest_at": str(doc.get("digest_at", DEFAULT_DIGEST_AT))}


@router.put("/settings")
async def change_settings(
    school_id: PathId,
    body: SettingsRequest,
    identity: Leader,
    notifications: NotificationsDep,
    correlation: Correlation,
) -> dict[str, str]:
    """Leaders choose when the daily digest goes."""
    digest_at = body.digest_at.replace(second=0, microsecond=0, tzinfo=None)
    wanted = NotificationSettingsChanged(digest_at=digest_at, changed_by=identity.subject)

    def decide(history: list[Any]) -> list[NotificationSettingsChanged]:
        last = history[-1] if history else None
        same = isinstance(last, NotificationSettingsChanged) and last.digest_at == digest_at
        return [] if same else [wanted]

    await SETTINGS.run(
        notifications.store,
        school_id,
        decide,
        metadata=notifications.metadata(identity, correlation),
        new_id=notifications.new_id,
    )
    return {"digest_at": digest_at.strftime("%H:%M")}


@router.post("/emergency", status_code=201, responses=problem_responses(429))
async def emergency(
    school_id: PathId,
    body: EmergencyRequest,
    identity: Leader,
    notifications: NotificationsDep,
    correlation: Correlation,
) -> dict[str, str]:
    """A leader's urgent notice to every family, on every channel, now: it cannot be muted
    and is not held for quiet hours. For closures and emergencies only: a few an hour."""
    wait = await notifications.require_private().hit(
        "notifications.emergencies",
        school_id,
        limit=EMERGENCIES_PER_HOUR,
        window=timedelta(hours=1),
        now=notifications.clock(),
    )
    if wait is not None:
        raise TooManyEmergencies(
            f"This school has sent {EMERGENCIES_PER_HOUR} emergency notices this hour."
            " Families can be told more in a message or an announcement."
        )
    notice_id = notifications.new_id().hex
    await EMERGENCY.run(
        notifications.store,
        notice_id,
        lambda _: [
            EmergencyNoticeSent(
                notice_id=notice_id, text=body.text.strip(), sent_by=identity.subject
            )
        ],
        metadata=notifications.metadata(identity, correlation),
        new_id=notifications.new_id,
        expect_new=True,
    )
    return {"notice_id": notice_id}


@router.get("/handled")
async def handled(
    school_id: PathId,
    identity: Support,
    notifications: NotificationsDep,
    before: Annotated[datetime | None, Query()] = None,
) -> dict[str, Any]:
    """For support: what the school's notifications were about and how many people each
    reached, newest first. Never who, and never the words."""
    docs = await notifications.readmodels.find(
        HANDLED,
        {"school_id": school_id},
        order_by="occurred_at",
        descending=True,
        limit=PAGE,
        before=("occurred_at", before.isoformat()) if before else None,
    )
    return {
        "items": [
            {"kind": d["kind"], "recipients": d["recipients"], "at": d["occurred_at"]} for d in docs
        ]
    }


PREFERENCES_STREAM = Aggregate[list[Any]]("notifyprefs", list, lambda s, e: [*s, e])


def _matrix(stored: dict[str, Any] | None, audience: preferences.Audience) -> dict[str, Any]:
    matrix = preferences.effective(stored, audience)
    return {
        "choices": {str(k): {str(c): str(t) for c, t in row.items()} for k, row in matrix.items()},
        "locked": {str(k): reason for k, reason in preferences.LOCKED.items()},
    }


async def _stored_choices(
    notifications: Notifications, school_id: str, person: str
) -> dict[str, Any] | None:
    doc = await notifications.readmodels.get(PREFERENCES, preferences_key(school_id, person))
    return doc.get("choices") if doc else None


@router.get("/preferences")
async def read_preferences(
    school_id: PathId, identity: Person, notifications: NotificationsDep
) -> dict[str, Any]:
    """What you hear about, per kind and channel (in the app, on this phone, by email):
    instant, in the daily digest, or off. Some kinds cannot be changed: ``locked`` says why."""
    person = person_key(identity)
    stored = await _stored_choices(notifications, school_id, person)
    return _matrix(stored, preferences.Audience.of(person))


@router.put("/preferences")
async def change_preferences(
    school_id: PathId,
    body: preferences.ChoicesChange,
    identity: Person,
    notifications: NotificationsDep,
    correlation: Correlation,
) -> dict[str, Any]:
    """Change some of your choices; what you do not send stays as it was."""
    audience = preferences.Audience.of(person_key(identity))
    made: dict[str, dict[str, str]] = {}

    def decide(history: list[Any]) -> list[NotificationPreferencesChanged]:
        # decided on the person's own stream, not the read model: two quick changes in a
        # row each build on the one before
        last = history[-1] if history else None
        stored = last.choices if isinstance(last, NotificationPreferencesChanged) else None
        made.clear()
        made.update(preferences.as_json(preferences.apply(stored, body)))
        if stored == made:
            return []
        return [
            NotificationPreferencesChanged(
                person_id=identity.subject, audience=audience.value, choices=made
            )
        ]

    await PREFERENCES_STREAM.run(
        notifications.store,
        f"{identity.school_id}.{identity.subject}",
        decide,
        metadata=notifications.metadata(identity, correlation),
        new_id=notifications.new_id,
    )
    return _matrix(made, audience)


push_router = APIRouter(
    prefix="/push", tags=["notifications"], responses=problem_responses(401, 403)
)


async def _anyone(identity: CurrentIdentity) -> Identity:
    if identity.role not in PEOPLE:
        raise Forbidden("pupils and class boards get no notifications")
    return identity


Someone = Annotated[Identity, Depends(_anyone)]


class InvalidSubscription(Unprocessable):
    slug = "invalid-push-subscription"
    title = "This browser's push subscription was not accepted"


class Endpoint(Body):
    endpoint: str = Field(min_length=1, max_length=2048)


@push_router.get("/key")
async def push_key(identity: Someone, notifications: NotificationsDep) -> dict[str, str]:
    """The key a browser subscribes with (its applicationServerKey)."""
    keys = await push.vapid_keys(notifications.require_private(), now=notifications.clock())
    return {"application_server_key": keys.application_server_key}


class SubscriptionKeys(Body):
    p256dh: str = Field(min_length=1, max_length=200)
    auth: str = Field(min_length=1, max_length=100)


class SubscriptionIn(Body):
    """A browser's ``PushSubscription.toJSON()``."""

    endpoint: str = Field(min_length=1, max_length=2048)
    expirationTime: int | None = None  # the browser's own name for it
    keys: SubscriptionKeys


@push_router.post("/subscriptions", status_code=201)
async def subscribe(
    body: SubscriptionIn, identity: Someone, notifications: NotificationsDep
) -> dict[str, str]:
    """Notifications on this device: the browser's ``PushSubscription.toJSON()``."""
    try:
        await push.subscribe(
            notifications.require_private(),
            person_key(identity),
            body.model_dump(exclude_none=True),
            notifications.clock(),
            allow_loopback=notifications.settings.allow_loopback_push,
        )
    except push.InvalidSubscription as exc:
        raise InvalidSubscription(str(exc)) from exc
    return {"status": "subscribed"}


@push_router.delete("/subscriptions")
async def unsubscribe(
    body: Endpoint, identity: Someone, notifications: NotificationsDep
) -> dict[str, bool]:
    """No more notifications on this device."""
    removed = await push.unsubscribe(
        notifications.require_private(),
        person_key(identity),
        body.endpoint,
        now=notifications.clock(),
    )
    return {"removed": removed}


PersonKey = Annotated[
    str,
    Query(
        pattern=r"^(parent|staff):[A-Za-z0-9_-]{1,64}$",
        description="parent:<id> or staff:<id>",
    ),
]


@router.get("/sent")
async def sent_to(
    school_id: PathId, person: PersonKey, identity: Support, notifications: NotificationsDep
) -> dict[str, Any]:
    """For support ("I never got the email"): what was sent to one person on each channel,
    when, and how it went, and what waits for their digest; never the words."""
    sent = await notifications.readmodels.find(
        SENT,
        {"school_id": school_id, "recipient": person},
        order_by="at",
        descending=True,
        limit=PAGE,
    )
    waiting = await notifications.readmodels.find(
        PENDING, {"school_id": school_id, "recipient": person}, limit=PAGE
    )
    return {
        "sent": [{k: d[k] for k in ("channel", "kind", "at", "outcome", "together")} for d in sent],
        "waiting": [
            {"channel": d["channel"], "route": d["route"], "due_at": d["due_at"]} for d in waiting
        ],
    }


def create_app(notifications: Notifications) -> FastAPI:
    kit = Kit(
        name="notifications",
        settings=notifications.settings,
        clock=notifications.clock,
        ready_checks={
            "event_store": notifications.store.ping,
            "read_models": notifications.readmodels.ping,
        },
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = None
        if notifications.private is None:
            opened = await open_private_store(notifications.settings.private_store_location())
            notifications.private = opened
        await notifications.readmodels.ensure_index(
            CENTRE, ("recipient", "school_id", "created_at")
        )
        await notifications.readmodels.ensure_index(HANDLED, ("school_id", "occurred_at"))
        await notifications.readmodels.ensure_index(PENDING, ("channel", "due_at"))
        await notifications.readmodels.ensure_index(PENDING, ("school_id", "recipient"))
        await notifications.readmodels.ensure_index(SENT, ("school_id", "recipient", "at"))
        try:
            yield
        finally:
            if opened is not None:
                await opened.close()
                notifications.private = None

    app = create_service_app(kit, routers=[router, push_router], lifespan=lifespan)
    app.state.notifications = notifications
    return app
