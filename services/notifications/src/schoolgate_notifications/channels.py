"""The ways out: web push to each of a person's devices, and email to their address.

Each answers ``Sender.send`` (``delivery``): True once it went, False when there is nowhere to
send it (no device, no address, a bounce), and ``Retry`` when it should be tried again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from schoolgate_kit import unsubscribe
from schoolgate_kit.contacts import Contact, Contacts
from schoolgate_kit.identity import Identity, Role
from schoolgate_kit.mail import (
    Mailer,
    PermanentFailure,
    TemporaryFailure,
    compose,
    render_notification,
)
from schoolgate_kit.private import PrivateStore

from schoolgate_notifications import push
from schoolgate_notifications.delivery import Outgoing, Retry
from schoolgate_notifications.preferences import LOCKED, Channel, Kind

log = structlog.get_logger()


def _message_id(outgoing: Outgoing) -> str:
    """One email's own id: the same whenever it is sent again (after a crash, a retry)."""
    made = hashlib.sha256(
        "|".join((outgoing.recipient, outgoing.kind, *outgoing.event_ids)).encode()
    ).hexdigest()
    return f"{made[:32]}.notification"


@dataclass
class PushChannel:
    """Every device the person turned notifications on for; a device its push service says
    is gone is forgotten."""

    private: Callable[[], Awaitable[PrivateStore]]
    sender: Callable[[], Awaitable[push.PushSender]]
    clock: Callable[[], datetime]
    channel: Channel = Channel.push

    async def routes(self, recipients: Sequence[str]) -> dict[str, list[push.Subscription]]:
        private = await self.private()
        groups = await private.in_groups(push.SUBSCRIPTIONS, recipients, now=self.clock())
        return {
            who: sorted(
                (push.Subscription.from_doc(doc) for doc in docs.values()),
                key=lambda s: (s.created_at, s.key),
            )
            for who, docs in groups.items()
        }

    async def send(self, outgoing: Outgoing, route: Any = None) -> bool:
        private = await self.private()
        now = self.clock()
        devices = route or await push.subscriptions_of(private, outgoing.recipient, now=now)
        if not devices:
            return False
        message = push.PushMessage(
            title=outgoing.title, body=outgoing.body, url=f"/{outgoing.url}", tag=outgoing.tag
        )
        sender = await self.sender()
        results = await sender.send_all([(d, message) for d in devices], now=now)
        retry = [r for r in results if r.outcome is push.Outcome.retry]
        for result in results:
            if result.outcome is push.Outcome.gone:
                await push.remove_gone(private, result.subscription, now=now)
        if retry and len(retry) == len(results):
            raise Retry(f"push service: {retry[0].status or retry[0].detail}")
        return any(r.outcome is push.Outcome.delivered for r in results)


@dataclass
class EmailChannel:
    """The person's address from the address book, in their language, with a one-click
    unsubscribe for a kind they may turn off."""

    private: Callable[[], Awaitable[PrivateStore]]
    mailer: Mailer
    clock: Callable[[], datetime]
    secret: str
    public_base_url: str
    school_names: Callable[[str], Awaitable[str]]
    channel: Channel = Channel.email

    def _unsubscribe_link(self, outgoing: Outgoing) -> str | None:
        kind = outgoing.unsubscribe_kind
        if kind is None or kind not in Kind.__members__ or Kind(kind) in LOCKED:
            return None
        prefix, _, subject = outgoing.recipient.partition(":")
        role = Role.parent if prefix == "parent" else Role.teacher
        who = Identity(subject=subject, role=role, school_id=outgoing.school_id)
        token = unsubscribe.sign(who, kind, secret=self.secret, now=self.clock())
        return f"{self.public_base_url.rstrip('/')}/api/unsubscribe?t={token}"

    async def routes(self, recipients: Sequence[str]) -> dict[str, Contact]:
        found = await Contacts(await self.private()).get_many(recipients, self.clock())
        return {who: contact for who, contact in found.items() if contact.email}

    async def send(self, outgoing: Outgoing, route: Any = None) -> bool:
        now = self.clock()
        contact = route or await Contacts(await self.private()).get(outgoing.recipient, now)
        if contact is None or not contact.email:
            return False
        link = self._unsubscribe_link(outgoing)
        lines = [outgoing.body] if outgoing.body else []
        for section in outgoing.sections:
            lines += [section.heading, *(f"• {line}" for line in section.lines)]
        base = self.public_base_url.rstrip("/")
        rendered = render_notification(
            title=outgoing.title,
            lines=lines,
            language=contact.language,
            name=contact.name or None,
            school=await self.school_names(outgoing.school_id),
            action=("Open Schoolgate", f"{base}/{outgoing.url}"),
            unsubscribe=link,
        )
        message = compose(
            message_id=_message_id(outgoing),
            sender=self.mailer.sender,
            to=contact.email,
            to_name=contact.name or None,
            subject=rendered.subject,
            text=rendered.text,
            html_body=rendered.html,
            now=now,
            language=contact.language,
            unsubscribe=link,
        )
        try:
            await self.mailer.send(message)
        except TemporaryFailure as exc:
            raise Retry(f"mail server: {exc}") from exc
        except PermanentFailure as exc:
            # a bounce: trying again would bounce again; the support log says "nowhere"
            log.warning("notifications.email_bounced", code=exc.code)
            return False
        return True
