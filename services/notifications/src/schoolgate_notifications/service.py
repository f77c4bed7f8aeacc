"""The notifications service as the runtime knows it: its API, its projections, a reactor per
channel queue (the notification centre, push, email) and the scheduler that sends what falls
due (digests, held summaries, collapsed pushes)."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from schoolgate_contracts.topology import NOTIFICATIONS_EMAIL, NOTIFICATIONS_PUSH
from schoolgate_kit.mail import Mailer
from schoolgate_kit.private import PrivateStore, open_private_store
from schoolgate_kit.reactors import Reactor
from schoolgate_kit.runtime import Parts, ServiceDefinition
from schoolgate_kit.settings import Settings

from schoolgate_notifications import push
from schoolgate_notifications.bootstrap import Notifications
from schoolgate_notifications.channels import EmailChannel, PushChannel
from schoolgate_notifications.delivery import Outbox, Outgoing, PushesFirst, Scheduler
from schoolgate_notifications.entrypoints.http import create_app
from schoolgate_notifications.preferences import Channel
from schoolgate_notifications.projections import PROJECTIONS, SCHOOLS
from schoolgate_notifications.reactors import reactors
from schoolgate_notifications.settings import NotificationsSettings


def _app(settings: Settings, parts: Parts) -> FastAPI:
    return create_app(
        Notifications(
            settings=NotificationsSettings.model_validate(settings.model_dump()),
            store=parts.store,
            readmodels=parts.readmodels,
            clock=parts.clock,
        )
    )


class NoMailServer:
    """Email with no mail server configured: nothing is sent, and the support log says so
    ("nowhere"); the app and push still work."""

    channel = Channel.email

    async def routes(self, recipients: Sequence[str]) -> dict[str, Any]:
        return {}

    async def send(self, outgoing: Outgoing, route: Any = None) -> bool:
        return False


@dataclass
class Workers:
    """What the worker's reactors and scheduler share: one private store, one push sender,
    one mailer, and each channel's outbox (with its per-person limiter locks)."""

    parts: Parts
    settings: NotificationsSettings = field(default_factory=NotificationsSettings)
    _private: PrivateStore | None = None
    _push: push.PushSender | None = None
    _opening: asyncio.Lock = field(default_factory=asyncio.Lock)
    outboxes: list[Outbox] = field(default_factory=list)
    _school_names: dict[str, tuple[str, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        mailer = Mailer.from_settings(self.settings)
        push_channel = PushChannel(self.private, self.push_sender, self.parts.clock)
        email_channel: EmailChannel | NoMailServer = NoMailServer()
        if mailer is not None:
            email_channel = EmailChannel(
                private=self.private,
                mailer=mailer,
                clock=self.parts.clock,
                secret=self.settings.identity_secret.get_secret_value(),
                public_base_url=self.settings.public_base_url,
                school_names=self.school_name,
            )
        first = PushesFirst()
        self.outboxes = [
            Outbox(
                channel,
                self.parts.readmodels,
                self.private,
                self.parts.clock,
                limits=self.settings.push_limits,
                first=first,
            )
            for channel in (push_channel, email_channel)
        ]

    async def private(self) -> PrivateStore:
        async with self._opening:
            if self._private is None:
                self._private = await open_private_store(self.settings.private_store_location())
            return self._private

    async def push_sender(self) -> push.PushSender:
        private = await self.private()
        async with self._opening:
            if self._push is None:
                keys = await push.vapid_keys(private, now=self.parts.clock())
                sender = push.PushSender(keys, subject=self.settings.vapid_subject)
                self._push = await sender.__aenter__()
            return self._push

    async def school_name(self, school_id: str) -> str:
        """For an email's footer; kept a minute, as a fan-out asks it for every family."""
        now = time.monotonic()
        kept = self._school_names.get(school_id)
        if kept is not None and now - kept[1] < 60:
            return kept[0]
        doc = await self.parts.readmodels.get(SCHOOLS, school_id) or {}
        name = str(doc.get("name") or "")
        self._school_names[school_id] = (name, now)
        return name

    async def schedule(self) -> None:
        await Scheduler(self.outboxes, every=self.settings.notifications_flush_every_seconds).run()


_WORKERS: weakref.WeakKeyDictionary[Parts, Workers] = weakref.WeakKeyDictionary()


def workers_of(parts: Parts, settings: NotificationsSettings | None = None) -> Workers:
    """One set per process's parts: the reactors and the scheduler are asked for separately.
    ``settings``: instead of the environment's (a benchmark's), on the first call."""
    if parts not in _WORKERS:
        _WORKERS[parts] = Workers(parts, settings=settings or NotificationsSettings())
    return _WORKERS[parts]


def _reactors(parts: Parts) -> list[Reactor]:
    push_box, email_box = workers_of(parts).outboxes
    return reactors(
        parts.readmodels,
        store=parts.store,
        channels=[(NOTIFICATIONS_PUSH, push_box.handle), (NOTIFICATIONS_EMAIL, email_box.handle)],
    )


def _tasks(parts: Parts) -> list[Any]:
    workers = workers_of(parts)

    def schedule() -> Coroutine[Any, Any, None]:
        return workers.schedule()

    return [schedule]


DEFINITION = ServiceDefinition(
    name="notifications",
    create_app=_app,
    projections=PROJECTIONS,
    reactors=_reactors,
    tasks=_tasks,
)
