"""Delivery on a channel that leaves the building (push, email): now, in a digest, or held.

For each notification of an event, the channel's outbox asks the person's choices and the
school's calendar when it goes (``timing.plan``). What goes now is sent at once (a push
through the per-person limiter); what waits is filed, and the scheduler (``Scheduler``)
sends each person's filed items as one digest or one "while you were away" summary when
they fall due, and collapsed pushes once the limiter lets them go.

Once only: every send is recorded in ``SENT`` under its channel, event and person, after it
went. A redelivered event finds the record and sends nothing (a crash between the send and
the record may send one twice, never none). A send that fails raises: the bus delivers the
event again (the ones already sent are skipped), and after its last try dead-letters it,
to be replayed with ``python -m schoolgate_kit dead-letters replay <queue>``. Filed batches
and collapsed pushes are claimed in the private store before they go, so two replicas of
the scheduler never both send one.

``SENT`` is also the support log: who was sent what kind of notification on which channel,
and when, never its words.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any, Protocol

import structlog
from schoolgate_contracts import RecordedEvent
from schoolgate_kit.private import PrivateStore
from schoolgate_kit.readmodels import Doc, ReadModelStore
from schoolgate_kit.schooltime import Calendar

from schoolgate_notifications import timing
from schoolgate_notifications.compose import Note
from schoolgate_notifications.preferences import Audience, Channel, Kind, Matrix, effective
from schoolgate_notifications.projections import (
    CALENDARS,
    DEFAULT_DIGEST_AT,
    POSTS_GONE,
    PREFERENCES,
    post_key,
    preferences_key,
)

log = structlog.get_logger()
PENDING = "notifications.pending"
"""Filed items (a digest's, a held summary's) and collapsed pushes, by when they are due."""
SENT = "notifications.sent"
"""One record per send: channel, person, kind, when, how it went; no words."""
LIMITER = "notifications.limiter"
FLUSHING = "notifications.flushing"
CLAIM_FOR = timedelta(minutes=10)
RECORD_EVERY = 50
"""Sends recorded in one write: a crash can make at most these (and those in flight) go
again, each under the same email id and push tag, so a person still sees one."""


@dataclass(frozen=True)
class Outgoing:
    """What a channel sends: one notification, a collapsed push, a digest or a summary."""

    recipient: str
    school_id: str
    kind: str
    """The notification's kind, or ``digest`` / ``away`` / ``several``."""
    title: str
    body: str
    url: str
    tag: str
    event_ids: tuple[str, ...]
    replaces: bool = False
    sections: tuple[timing.Section, ...] = ()
    """A digest's sections (kind, heading, lines), for an email to lay out."""
    unsubscribe_kind: str | None = None
    """The one kind an email's one-click unsubscribe turns off, if it is about one kind."""


class Sender(Protocol):
    """A channel's way out. ``send`` raises ``Retry`` for a failure worth another try;
    anything it cannot deliver for good (no address, no device) it answers ``False``."""

    channel: Channel

    async def routes(self, recipients: Sequence[str]) -> dict[str, Any]:
        """Where each person can be reached (their devices, their address), all looked up at
        once; a person with nowhere is left out. Given back to ``send``."""
        ...

    async def send(self, outgoing: Outgoing, route: Any = None) -> bool: ...


class Retry(RuntimeError):
    """The channel failed for now (a mail server down, a push service busy): try again."""


def item_of(note: Note, event_id: str, at: datetime) -> timing.Item:
    return timing.Item(
        event_id=event_id,
        kind=Kind(note.kind),
        at=at,
        pupil_id=note.pupil_id,
        pupil=note.pupil_name,
        sender=note.extra.get("sender"),
        subject=note.extra.get("subject"),
    )


def _sent_key(channel: Channel, event_id: str, recipient: str) -> str:
    return f"{channel}:{event_id}:{recipient}"


@dataclass
class PushesFirst:
    """Phones before inboxes where one process sends both: an email fan-out waits while
    pushes are going, at most ``most`` seconds. A buzz is what a family expects at once and
    an email a few seconds later is no loss; without the wait, rendering and sending 2,000
    emails shares the process's one event loop with the pushes (in the benchmark, pushes
    went at less than half their speed)."""

    most: float = 10.0
    _going: set[asyncio.Event] = field(default_factory=set)
    """One per push fan-out in flight, set when it ends."""

    @contextlib.asynccontextmanager
    async def pushing(self) -> AsyncIterator[None]:
        done = asyncio.Event()
        self._going.add(done)
        try:
            yield
        finally:
            self._going.discard(done)
            done.set()

    async def after_pushes(self) -> None:
        """Wait for the push fan-outs going now, not for any that start meanwhile: on a
        busy day pushes never stop, and email must not wait for ever behind them."""
        going = [done.wait() for done in self._going]
        if going:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*going), self.most)


@dataclass
class Outbox:
    sender: Sender
    readmodels: ReadModelStore
    private_store: Callable[[], Awaitable[PrivateStore]]
    """Opened on first use: the reactors are made before any loop runs."""
    clock: Callable[[], datetime]
    limits: timing.Limits = timing.LIMITS
    retry_after: tuple[float, ...] = (0.5, 2.0)
    """Seconds before each new try of the sends that failed, within one delivery of an event
    (short: the queue's next events wait meanwhile); then the bus delivers it again
    (``SCHOOLGATE_CONSUMER_MAX_DELIVERIES`` times) and at last dead-letters it, to be
    replayed once the mail server or push service is back."""
    first: PushesFirst | None = None
    """Shared by a process's push and email outboxes: email waits while pushes go."""
    _limiting: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held while limiters are read, decided and written: one fan-out or flush at a time."""

    @property
    def channel(self) -> Channel:
        return self.sender.channel

    async def handle(self, recorded: RecordedEvent, notes: Sequence[Note]) -> None:
        if not notes:
            return
        if self.first is not None and self.channel is Channel.push:
            async with self.first.pushing():
                await self._handle(recorded, notes)
        else:
            await self._handle(recorded, notes)

    async def _handle(self, recorded: RecordedEvent, notes: Sequence[Note]) -> None:
        school_id = recorded.metadata.school_id
        event_id = str(recorded.event_id)
        calendar_doc = await self.readmodels.get(CALENDARS, school_id) or {}
        calendar = Calendar.of(calendar_doc.get("details"))
        digest_at = time.fromisoformat(str(calendar_doc.get("digest_at") or DEFAULT_DIGEST_AT))
        keys = [preferences_key(school_id, n.recipient) for n in notes]
        stored = await self.readmodels.get_many(PREFERENCES, keys)
        done = await self.readmodels.get_many(
            SENT, [_sent_key(self.channel, event_id, n.recipient) for n in notes]
        )
        now = self.clock()
        filed: dict[str, Doc] = {}
        sends: list[tuple[Note, timing.Item]] = []
        records: dict[str, Doc | None] = {}
        matrices: dict[tuple[str, Audience], Matrix] = {}
        for note, key in zip(notes, keys, strict=True):
            if _sent_key(self.channel, event_id, note.recipient) in done:
                continue
            audience = Audience.of(note.recipient)
            kept = (stored.get(key) or {}).get("choices")
            # most of a school keeps the defaults or the same few choices: worked out once
            alike = (json.dumps(kept, sort_keys=True) if kept else "", audience)
            if alike not in matrices:
                matrices[alike] = effective(kept, audience)
            choice = matrices[alike][Kind(note.kind)]
            planned = timing.plan(
                Kind(note.kind), self.channel, choice[self.channel], audience, calendar, now,
                digest_at, note.shows_from,
            )  # fmt: skip
            item = item_of(note, event_id, recorded.metadata.occurred_at)
            batch = planned.batch(note.recipient)
            if planned.route is timing.Route.now:
                sends.append((note, item))
            elif batch is not None:
                filed[f"{batch}:{event_id}"] = {
                    "batch": batch,
                    "route": str(planned.route),
                    "channel": str(self.channel),
                    "recipient": note.recipient,
                    "school_id": school_id,
                    "due_at": planned.at.isoformat(),
                    "item": item.model_dump(mode="json"),
                    "url": note.url,
                    "note": {"kind": note.kind, "title": note.title, "body": note.body},
                    "post_id": note.post_id,
                }
        if filed:
            await self.readmodels.commit(PENDING, 0, filed, None)
        if not sends:
            return
        routes = await self.sender.routes([note.recipient for note, _ in sends])
        reached = []
        for note, item in sends:
            if routes.get(note.recipient):
                reached.append((note, item))
            else:  # no device, no address: nothing to send, nor to count in the limiter
                made = self._record(
                    note.recipient, note.school_id, note.kind, (item.event_id,), False
                )
                records.update(made)
        if self.channel is Channel.push:
            going = await self._admit(reached, routes)
        else:
            going = [(self._outgoing(note, item), routes[note.recipient]) for note, item in reached]
            if self.first is not None and going:
                await self.first.after_pushes()
        failures: list[BaseException] = []
        for pause in (0.0, *self.retry_after):
            # a mail server restarting or a push service busy for a moment: the sends that
            # failed are tried again here, later each time, before the bus's own tries
            await asyncio.sleep(pause)
            outcomes = await asyncio.gather(
                *(self.deliver(outgoing, records, route) for outgoing, route in going),
                return_exceptions=True,
            )
            failed = [
                (g, o) for g, o in zip(going, outcomes, strict=True) if isinstance(o, BaseException)
            ]
            going = [g for g, _ in failed]
            failures = [o for _, o in failed]
            if not going:
                break
        # what went is recorded, before a failure asks for the event again
        if records:
            await self.readmodels.commit(SENT, 0, records, None)
        if failures:
            raise Retry(f"{len(failures)} sends failed, tried again: {failures[0]!r}")

    @staticmethod
    def _outgoing(note: Note, item: timing.Item) -> Outgoing:
        return Outgoing(
            recipient=note.recipient,
            school_id=note.school_id,
            kind=note.kind,
            title=note.title,
            body=note.body,
            url=note.url,
            tag=f"{note.kind}:{note.pupil_id or ''}",
            event_ids=(item.event_id,),
            unsubscribe_kind=note.kind,
        )

    async def _admit(
        self, reached: list[tuple[Note, timing.Item]], routes: dict[str, Any]
    ) -> list[tuple[Outgoing, Any]]:
        """Each push through its person's limiter: now, or collapsed with what else comes
        soon (the scheduler sends that). The limiters of a whole fan-out are read and written
        at once, one fan-out at a time."""
        if not reached:
            return []
        going: list[tuple[Outgoing, Any]] = []
        async with self._limiting:
            private = await self.private_store()
            now = self.clock()
            kept = await private.get_many(LIMITER, [n.recipient for n, _ in reached], now=now)
            states: dict[str, timing.LimiterState] = {}
            waiting: dict[str, Doc | None] = {}
            for note, item in reached:
                who = note.recipient
                before = states.get(who) or (
                    timing.LimiterState.model_validate(kept[who])
                    if who in kept
                    else timing.LimiterState()
                )
                decision, state = timing.admit(before, item, now, self.limits)
                states[who] = state
                if state.pending or before.pending:
                    waiting.update(self._waiting(who, note.school_id, state))
                if isinstance(decision, timing.SendNow):
                    going.append((self._notice(note, decision.notice), routes[who]))
            await private.put_many(
                LIMITER,
                {who: state.model_dump(mode="json") for who, state in states.items()},
                now=now,
                expires_at=now + timedelta(days=1),
            )
            if waiting:
                await self.readmodels.commit(PENDING, 0, waiting, None)
        return going

    @staticmethod
    def _notice(note: Note, notice: timing.Notice) -> Outgoing:
        one = len(notice.event_ids) == 1
        return Outgoing(
            recipient=note.recipient,
            school_id=note.school_id,
            kind=note.kind if one else "several",
            title=note.title if one and not notice.replaces else notice.title,
            body=note.body if one and not notice.replaces else notice.body,
            url=note.url if one else "#notifications",
            tag=notice.tag,
            event_ids=notice.event_ids,
            replaces=notice.replaces,
        )

    def _waiting(
        self, recipient: str, school_id: str, state: timing.LimiterState
    ) -> dict[str, Doc | None]:
        """The scheduler's reminder of a person's collapsed pushes (None: nothing waits)."""
        key = f"limiter:{self.channel}:{recipient}"
        if not state.pending or state.flush_at is None:
            return {key: None}
        return {
            key: {
                "batch": key,
                "route": "limiter",
                "channel": str(self.channel),
                "recipient": recipient,
                "school_id": school_id,
                "due_at": state.flush_at.isoformat(),
            }
        }

    async def _limiter(self, recipient: str, now: datetime) -> timing.LimiterState:
        doc = await (await self.private_store()).get(LIMITER, recipient, now=now)
        return timing.LimiterState.model_validate(doc) if doc else timing.LimiterState()

    async def _keep_limiter(
        self,
        recipient: str,
        school_id: str,
        state: timing.LimiterState,
        now: datetime,
        before: timing.LimiterState,
    ) -> None:
        await (await self.private_store()).put(
            LIMITER,
            recipient,
            state.model_dump(mode="json"),
            now=now,
            expires_at=now + timedelta(days=1),
        )
        if state.pending or before.pending:
            await self.readmodels.commit(
                PENDING, 0, self._waiting(recipient, school_id, state), None
            )

    async def deliver(
        self,
        outgoing: Outgoing,
        records: dict[str, Doc | None] | None = None,
        route: Any = None,
    ) -> None:
        """Send, then record it sent under each event it stands for (into ``records``, written
        with others every ``RECORD_EVERY``, or at once)."""
        try:
            delivered = await self.sender.send(outgoing, route)
        except Retry:
            raise
        except Exception as exc:  # a channel's unexpected failure is a retry, not a loss
            raise Retry(repr(exc)) from exc
        made = self._record(
            outgoing.recipient, outgoing.school_id, outgoing.kind, outgoing.event_ids, delivered
        )
        if records is None:
            await self.readmodels.commit(SENT, 0, made, None)
            return
        records.update(made)
        if len(records) >= RECORD_EVERY:
            written = dict(records)
            records.clear()
            await self.readmodels.commit(SENT, 0, written, None)

    def _record(
        self,
        recipient: str,
        school_id: str,
        kind: str,
        event_ids: tuple[str, ...],
        delivered: bool,
    ) -> dict[str, Doc | None]:
        record = {
            "channel": str(self.channel),
            "recipient": recipient,
            "school_id": school_id,
            "kind": kind,
            "at": self.clock().isoformat(),
            "outcome": "sent" if delivered else "nowhere",
            "together": len(event_ids),
        }
        return {_sent_key(self.channel, event_id, recipient): record for event_id in event_ids}

    # -- the scheduler's side: what is due --------------------------------------------------

    async def flush_due(self) -> int:
        """Send every filed batch and collapsed push that is due; how many sends."""
        now = self.clock()
        due = await self.readmodels.find(
            PENDING,
            {"channel": str(self.channel)},
            order_by="due_at",
            before=("due_at", (now + timedelta(microseconds=1)).isoformat()),
            limit=2_000,
        )
        due = await self._without_deleted_stories(due)
        batches: dict[str, list[Doc]] = defaultdict(list)
        for doc in due:
            batches[doc["batch"]].append(doc)
        sent = 0
        private = await self.private_store()
        for batch, docs in batches.items():
            if not await private.add(
                FLUSHING, batch, {"at": now.isoformat()}, now=now, expires_at=now + CLAIM_FOR
            ):
                continue  # another replica is sending it
            try:
                sent += await self._flush(batch, docs, now)
            finally:
                await private.delete(FLUSHING, batch)
        return sent

    async def _without_deleted_stories(self, due: list[Doc]) -> list[Doc]:
        """What is due, less what tells of a story deleted since it was filed (scheduled
        for Friday, deleted on Thursday): that is forgotten, never sent."""
        about = {post_key(d["school_id"], d["post_id"]) for d in due if d.get("post_id")}
        if not about:
            return due
        gone = await self.readmodels.get_many(POSTS_GONE, list(about))
        if not gone:
            return due
        dropped = {
            _key(d): None
            for d in due
            if d.get("post_id") and post_key(d["school_id"], d["post_id"]) in gone
        }
        await self.readmodels.commit(PENDING, 0, dropped, None)
        return [d for d in due if "item" not in d or _key(d) not in dropped]

    async def _flush(self, batch: str, docs: list[Doc], now: datetime) -> int:
        first = docs[0]
        recipient, school_id = first["recipient"], first["school_id"]
        if first["route"] == "limiter":
            async with self._limiting:
                before = await self._limiter(recipient, now)
                notice, state = timing.flush(before, now, self.limits)
                await self._keep_limiter(recipient, school_id, state, now, before)
            if notice is None:
                return 0
            await self.deliver(
                Outgoing(
                    recipient=recipient,
                    school_id=school_id,
                    kind="several" if len(notice.event_ids) > 1 else "collapsed",
                    title=notice.title,
                    body=notice.body,
                    url="#notifications",
                    tag=notice.tag,
                    event_ids=notice.event_ids,
                    replaces=notice.replaces,
                )
            )
            return 1
        if first["route"] == "scheduled":
            # each as itself: two stories scheduled for the same moment are two stories
            for doc in docs:
                note = doc["note"]
                await self.deliver(
                    Outgoing(
                        recipient=recipient, school_id=school_id, kind=note["kind"],
                        title=note["title"], body=note["body"], url=doc["url"],
                        tag=f"{note['kind']}:", event_ids=(doc["item"]["event_id"],),
                        unsubscribe_kind=note["kind"],
                    )
                )  # fmt: skip
                await self.readmodels.commit(PENDING, 0, {_key(doc): None}, None)
            return len(docs)
        items = [timing.Item.model_validate(d["item"]) for d in docs]
        if first["route"] == "held":
            notice = timing.away(items)
            outgoing = Outgoing(
                recipient=recipient, school_id=school_id, kind="away", title=notice.title,
                body=notice.body, url="#notifications", tag=notice.tag,
                event_ids=notice.event_ids,
            )  # fmt: skip
        else:
            made = timing.digest(items)
            outgoing = Outgoing(
                recipient=recipient, school_id=school_id, kind="digest", title=made.title,
                body=made.summary, url="#notifications", tag="digest",
                event_ids=made.event_ids, sections=made.sections,
            )  # fmt: skip
        await self.deliver(outgoing)
        await self.readmodels.commit(PENDING, 0, {_key(d): None for d in docs}, None)
        return 1


def _key(doc: Doc) -> str:
    return f"{doc['batch']}:{doc['item']['event_id']}"


@dataclass
class Scheduler:
    """Sends what falls due, every ``every`` seconds, on each channel's outbox."""

    outboxes: Sequence[Outbox]
    every: float = 15.0

    async def run_once(self) -> int:
        sent = 0
        for outbox in self.outboxes:
            try:
                sent += await outbox.flush_due()
            except Exception as exc:  # try again next round: the filed items stay filed
                log.warning(
                    "notifications.flush_failed", channel=str(outbox.channel), error=repr(exc)
                )
        return sent

    async def run(self) -> None:
        while True:
            await self.run_once()
            await asyncio.sleep(self.every)


async def stop(task: asyncio.Task[Any] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
