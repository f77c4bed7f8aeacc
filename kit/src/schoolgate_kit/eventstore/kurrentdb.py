"""The cluster event store: KurrentDB through kurrentdbclient's asyncio client.

The global position is KurrentDB's commit position: it only increases, with gaps, and the
server reads only from positions it handed out. So every ``up_to`` this adapter returns is
a position the server reported (an event's, a checkpoint's or the head's), never one
computed here.

KurrentDB keeps one log for every tenant of the database, including its own system events
(types and streams starting with ``$``); those are filtered out on the server and again
here, so the port only ever sees Schoolgate's events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from uuid import UUID

import kurrentdbclient as kdb
import structlog
from kurrentdbclient.common import AbstractAsyncCatchupSubscription
from kurrentdbclient.exceptions import (
    AbortedByServerError,
    DiscoveryFailedError,
    GrpcError,
    NotFoundError,
    WrongCurrentVersionError,
)
from schoolgate_contracts import (
    BrokenEvent,
    EventRegistry,
    NewEvent,
    RecordedEvent,
    registry,
)

from schoolgate_kit import metrics
from schoolgate_kit.crypto import Keyring
from schoolgate_kit.eventstore.port import (
    NO_STREAM,
    AppendResult,
    Batch,
    EventIdReused,
    WrongExpectedVersion,
)
from schoolgate_kit.wire import metadata_json, recorded

SCHEMA_VERSION = "schema_version"
"""Key of the payload's schema version in the KurrentDB event metadata."""

ID_CHECK_WINDOW = 100
"""How many of a stream's newest events an append checks for reused event ids."""

PING_TIMEOUT = 5.0
RESUBSCRIBE_MIN_DELAY = 0.1
RESUBSCRIBE_MAX_DELAY = 5.0

log = structlog.get_logger()


# -- mapping between the port and kurrentdbclient ----------------------------------------


def stream_state(expected_version: int | None) -> int | kdb.StreamState:
    """The client's ``current_version`` for the port's ``expected_version``."""
    if expected_version is None:
        return kdb.StreamState.ANY
    if expected_version == NO_STREAM:
        return kdb.StreamState.NO_STREAM
    if expected_version < 0:
        raise ValueError(f"not a stream version: {expected_version}")
    return expected_version


def reported_version(actual: int | kdb.StreamState | None) -> int | None:
    """The stream version a conflict reported, or None when it did not say."""
    if actual is kdb.StreamState.NO_STREAM:
        return NO_STREAM
    if isinstance(actual, int):
        return actual
    return None


def event_metadata(new: NewEvent) -> bytes:
    """KurrentDB metadata: the envelope's fields plus the payload's schema version."""
    fields = json.loads(metadata_json(new.metadata))
    return json.dumps({SCHEMA_VERSION: new.event.schema_version, **fields}).encode()


def to_new_event(new: NewEvent, keyring: Keyring | None = None) -> kdb.NewEvent:
    data = new.event.model_dump_json() if keyring is None else keyring.seal(new)
    return kdb.NewEvent(
        type=new.event.event_type,
        data=data.encode(),
        metadata=event_metadata(new),
        content_type="application/json",
        id=new.event_id,
    )


def to_recorded(
    event: kdb.RecordedEvent, events: EventRegistry = registry, keyring: Keyring | None = None
) -> RecordedEvent:
    """Decode an event read from KurrentDB; anything broken raises, naming where it is."""
    where = (
        f"stream {event.stream_name!r} version {event.stream_position}, "
        f"global position {event.commit_position}"
    )
    try:
        fields = json.loads(event.metadata)
        schema_version = int(fields.pop(SCHEMA_VERSION))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise BrokenEvent(f"broken metadata of {event.type} at {where}: {exc!r}") from exc
    if event.recorded_at is None:
        # Servers since 20.6 always send it; without it the event's time would be a guess.
        raise BrokenEvent(f"no recorded time for {event.type} at {where}")
    return recorded(
        event_id=event.id,
        stream=event.stream_name,
        version=event.stream_position,
        position=event.commit_position,
        event_type=event.type,
        schema_version=schema_version,
        data=event.data,
        metadata=json.dumps(fields),
        recorded_at=event.recorded_at,
        events=events,
        keyring=keyring,
    )


def is_system(event: kdb.RecordedEvent) -> bool:
    return event.type.startswith("$") or event.stream_name.startswith("$")


def type_filter(types: Collection[str] | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(filter_exclude, filter_include)`` for a read or subscription of ``types``."""
    if not types:
        return kdb.DEFAULT_EXCLUDE_FILTER, ()
    # The client joins include patterns as ``^a|b$``, which anchors only the outer two:
    # one group keeps every alternative anchored at both ends.
    return (), ("(?:" + "|".join(re.escape(name) for name in sorted(types)) + ")",)


class Batcher:
    """Turns what a catch-up subscription delivers into ``Batch``es.

    Checkpoints move ``up_to`` across events the server filtered out. The subscription is
    caught up once it has reached the head as it was when it started (which works on any
    server), or when the server says so (KurrentDB 23.10 and later). After the server says
    it fell behind, only its word counts: the head from the start is long gone by then.
    """

    def __init__(
        self,
        *,
        after: int,
        target: int,
        types: Collection[str] | None,
        decode: Callable[[kdb.RecordedEvent], RecordedEvent],
    ) -> None:
        self._wanted = None if types is None else frozenset(types)
        self._decode = decode
        self._target: int | None = target
        self._last_event = after
        self._up_to = after
        self._yielded_up_to = after
        self._live = after >= target
        self._told_live = False
        self._pending: list[RecordedEvent] = []

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, item: kdb.RecordedEvent) -> None:
        if item.is_caught_up:
            self._live = True
        elif item.is_fell_behind:
            self._live = False
            self._told_live = False
            self._target = None
        elif item.is_checkpoint:
            self._up_to = max(self._up_to, item.commit_position)
        elif item.commit_position > self._last_event:  # older ones repeat a resubscription
            self._last_event = item.commit_position
            self._up_to = max(self._up_to, item.commit_position)
            if not is_system(item) and (self._wanted is None or item.type in self._wanted):
                self._pending.append(self._decode(item))
        if self._target is not None and self._up_to >= self._target:
            self._live = True

    def take(self, *, more_waiting: bool) -> Batch | None:
        """What arrived since the last batch, or None when nothing is worth telling."""
        caught_up = self._live and not more_waiting
        moved = bool(self._pending) or self._up_to > self._yielded_up_to
        if not moved and (not caught_up or self._told_live):
            return None
        batch = Batch(events=self._pending, up_to=self._up_to, caught_up=caught_up)
        self._pending = []
        self._yielded_up_to = self._up_to
        self._told_live = caught_up
        return batch


class _SubscriptionEnded(Exception):
    """The server closed a catch-up subscription, which should never end by itself."""


class StoreClosed(Exception):
    """The store was closed while a subscription was still being read."""


_RESUBSCRIBE = (GrpcError, AbortedByServerError, DiscoveryFailedError, _SubscriptionEnded)
"""Failures of a running subscription that a new subscription from ``up_to`` recovers."""

_Item = kdb.RecordedEvent | Exception | None


async def _pump(
    subscription: AsyncIterator[kdb.RecordedEvent], queue: asyncio.Queue[_Item]
) -> None:
    # The subscription's own iterator stops the subscription when a read of it is
    # cancelled, so it is read here, apart, and the reader waits on the queue instead.
    try:
        async for item in subscription:
            await queue.put(item)
    except asyncio.CancelledError:
        # Only ``close`` cancels a pump that is still wanted: wake its reader. A full
        # queue needs no wake-up; the reader sees the pump is done once it has drained it.
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(StoreClosed("the event store was closed"))
        raise
    except Exception as exc:  # handed to the reader, which decides what it means
        await queue.put(exc)
    else:
        await queue.put(None)


class KurrentDbEventStore:
    def __init__(
        self,
        client: kdb.AsyncKurrentDBClient,
        *,
        events: EventRegistry = registry,
        id_check_window: int = ID_CHECK_WINDOW,
        keyring: Keyring | None = None,
    ) -> None:
        self._client = client
        self._events = events
        self.keyring = keyring
        self._id_check_window = id_check_window
        self._pumps: set[asyncio.Task[None]] = set()
        self._closed = False

    @classmethod
    async def open(
        cls, uri: str, *, events: EventRegistry = registry, keyring: Keyring | None = None
    ) -> KurrentDbEventStore:
        """Connect to ``kurrentdb://host:2113?Tls=false`` (or a ``+discover`` cluster URI)."""
        client = kdb.AsyncKurrentDBClient(uri)
        await client.connect()
        return cls(client, events=events, keyring=keyring)

    # -- writing -------------------------------------------------------------------------

    async def append(
        self, stream: str, events: Sequence[NewEvent], *, expected_version: int | None
    ) -> AppendResult:
        if not events:
            raise ValueError("append needs at least one event")
        started = time.perf_counter()
        keyring = self.keyring
        if keyring is not None:
            wanted = keyring.uncached(keyring.key_ids(events))
            if wanted:
                await asyncio.to_thread(keyring.load, wanted, create=True)
        result = await self._append(stream, events, expected_version)
        metrics.APPEND_SECONDS.observe(time.perf_counter() - started)
        return result

    async def _append(
        self, stream: str, events: Sequence[NewEvent], expected_version: int | None
    ) -> AppendResult:
        state = stream_state(expected_version)
        # KurrentDB writes at the expected version without looking at ids, so a batch
        # that repeats only some of them would be stored twice; an exact retry it would
        # recognise itself. A new stream cannot hold any of them.
        if state is not kdb.StreamState.NO_STREAM:
            stored = await self._stored(stream, [new.event_id for new in events])
            if stored is not None:
                return stored
        try:
            position = await self._client.append_to_stream(
                stream,
                events=[to_new_event(new, self.keyring) for new in events],
                current_version=state,
            )
        except WrongCurrentVersionError as exc:
            actual = reported_version(exc.actual_version)
            if actual is None:
                actual = await self._current_version(stream)
            raise WrongExpectedVersion(stream, expected_version, actual) from exc
        if expected_version is None:
            version = await self._version_of(stream, events[-1].event_id)
        else:
            # The server accepted the batch right after the expected version, or (for a
            # retry) found exactly these ids there.
            version = expected_version + len(events)
        return AppendResult(version=version, position=position)

    async def _stored(self, stream: str, ids: list[UUID]) -> AppendResult | None:
        """An earlier append of exactly these ids, if the stream's newest events hold one."""
        try:
            newest = await self._client.get_stream(
                stream, backwards=True, limit=self._id_check_window
            )
        except NotFoundError:
            return None
        wanted = set(ids)
        found = [event for event in newest if event.id in wanted]
        if not found:
            return None
        if len(found) != len(wanted):
            raise EventIdReused(
                f"{len(found)} of the {len(wanted)} event ids are already in {stream!r}"
            )
        last = max(found, key=lambda event: event.stream_position)
        return AppendResult(version=last.stream_position, position=last.commit_position)

    async def _version_of(self, stream: str, event_id: UUID) -> int:
        async with await self._client.read_stream(stream, backwards=True) as newest_first:
            async for event in newest_first:
                if event.id == event_id:
                    return event.stream_position
        raise LookupError(f"event {event_id} was appended to {stream!r} but is not there")

    async def _current_version(self, stream: str) -> int:
        current = await self._client.get_current_version(stream)
        return NO_STREAM if current is kdb.StreamState.NO_STREAM else current

    # -- reading -------------------------------------------------------------------------

    def _decode(self, event: kdb.RecordedEvent) -> RecordedEvent:
        return to_recorded(event, self._events, self.keyring)

    async def read_stream(self, stream: str, *, from_version: int = 0) -> list[RecordedEvent]:
        try:
            found = await self._client.get_stream(stream, stream_position=from_version)
        except NotFoundError:
            return []
        return [self._decode(event) for event in found]

    async def read_all(
        self, *, after: int = 0, limit: int = 1000, types: Collection[str] | None = None
    ) -> Batch:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        head = await self.head()  # taken first: the page below then reaches at least this
        if after >= head or (types is not None and not types):
            return Batch(events=[], up_to=max(head, after), caught_up=True)
        wanted = None if types is None else frozenset(types)
        exclude, include = type_filter(types)
        requested = limit + 1  # reading from a position includes the event at it
        kept: list[RecordedEvent] = []
        received = 0
        last_seen = after
        async with await self._client.read_all(
            commit_position=after or None,
            filter_exclude=exclude,
            filter_include=include,
            limit=requested,
        ) as page:
            async for event in page:
                received += 1
                if event.commit_position <= after:
                    continue
                last_seen = event.commit_position
                if is_system(event) or (wanted is not None and event.type not in wanted):
                    continue
                kept.append(self._decode(event))
                if len(kept) == limit:
                    break
        if len(kept) == limit:
            return Batch(events=kept, up_to=kept[-1].position, caught_up=False)
        if received == requested:  # the server had more, but none of it was for us
            return Batch(events=kept, up_to=last_seen, caught_up=False)
        return Batch(events=kept, up_to=max(head, last_seen), caught_up=True)

    async def subscribe(
        self, *, after: int = 0, types: Collection[str] | None = None, batch_size: int = 1000
    ) -> AsyncIterator[Batch]:
        if types is not None and not types:
            types = frozenset({"$none"})  # matches nothing of ours; checkpoints still flow
        exclude, include = type_filter(types)
        position = after
        delay = RESUBSCRIBE_MIN_DELAY
        while True:
            subscription: AbstractAsyncCatchupSubscription | None = None
            pump: asyncio.Task[None] | None = None
            try:
                batcher = Batcher(
                    after=position, target=await self.head(), types=types, decode=self._decode
                )
                subscription = await self._client.subscribe_to_all(
                    commit_position=position or None,
                    filter_exclude=exclude,
                    filter_include=include,
                    include_checkpoints=True,
                    include_caught_up=True,
                    include_fell_behind=True,
                )
                queue: asyncio.Queue[_Item] = asyncio.Queue(maxsize=max(batch_size, 1))
                pump = asyncio.create_task(_pump(subscription, queue), name="kurrentdb-pump")
                self._pumps.add(pump)
                pump.add_done_callback(self._pumps.discard)
                while True:
                    if pump.done() and queue.empty():
                        raise StoreClosed("the event store was closed")
                    self._add(batcher, await queue.get())
                    while batcher.pending < batch_size and not queue.empty():
                        self._add(batcher, queue.get_nowait())
                    batch = batcher.take(more_waiting=not queue.empty())
                    if batch is not None:
                        position = batch.up_to
                        delay = RESUBSCRIBE_MIN_DELAY
                        yield batch
            except _RESUBSCRIBE as exc:
                if self._closed:
                    raise
                log.warning(
                    "eventstore.resubscribe", error=repr(exc), after=position, retry_in=delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, RESUBSCRIBE_MAX_DELAY)
            finally:
                if pump is not None:
                    pump.cancel()
                    await asyncio.wait([pump])
                if subscription is not None:
                    with contextlib.suppress(Exception):
                        await subscription.stop()

    @staticmethod
    def _add(batcher: Batcher, item: _Item) -> None:
        if item is None:
            raise _SubscriptionEnded("the server ended a catch-up subscription")
        if isinstance(item, Exception):
            raise item
        batcher.add(item)

    async def head(self) -> int:
        return await self._client.get_commit_position(filter_exclude=kdb.DEFAULT_EXCLUDE_FILTER)

    async def ping(self) -> None:
        await self._client.get_commit_position(timeout=PING_TIMEOUT)

    async def close(self) -> None:
        self._closed = True
        pumps = list(self._pumps)
        for pump in pumps:
            pump.cancel()
        if pumps:
            await asyncio.wait(pumps)
        await self._client.close()
