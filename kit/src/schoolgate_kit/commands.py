"""Run a command against the stream it concerns: load, decide, append at the expected version.

A version conflict means someone else wrote first: decide again on the new state once, and
if that conflicts too, answer 409. Nothing but the appended events is written.

A stream belongs to the school whose command created it. Streams are named by ids that are
unique across a deployment, but some of those ids are chosen by the caller to make retries
safe (an award's or a post's id): another school sending the same id must not read, retry
or change what is not theirs, so a command for one school on another school's stream is
refused before it is decided, saying nothing of what the stream holds.

Every append is noted in the current request's ``Written`` (see ``recording_writes``), so
the answer can tell its caller the global position to wait for before reading a projection.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Generic, TypeVar

from schoolgate_contracts import Event, Metadata, NewEvent, RecordedEvent

from schoolgate_kit import ids
from schoolgate_kit.eventstore import NO_STREAM, EventStore, WrongExpectedVersion
from schoolgate_kit.problems import Conflict


class IdTaken(Conflict):
    slug = "id-taken"
    title = "That id is already used for something else"


def _owned(stream: str, history: Sequence[RecordedEvent], school_id: str) -> None:
    if history and history[0].metadata.school_id != school_id:
        raise IdTaken(f"{stream.partition('-')[0]}: that id is already used; choose another")


class Written:
    """The newest global position a request (or whatever it started) appended at."""

    __slots__ = ("position",)

    def __init__(self) -> None:
        self.position = 0

    def note(self, position: int) -> None:
        self.position = max(self.position, position)


# A mutable holder, not the position itself: the route may run in a copy of the request's
# context (a task group, a thread), whose own ``set`` the middleware would never see.
_WRITTEN: ContextVar[Written | None] = ContextVar("schoolgate_written", default=None)


@contextlib.contextmanager
def recording_writes() -> Iterator[Written]:
    """Note the positions appended while this is open. Nested (a service app called in
    process, as the embedded gateway does), the inner request notes into the outer's
    holder, so the outer answer covers what its calls wrote."""
    outer = _WRITTEN.get()
    if outer is not None:
        yield outer
        return
    written = Written()
    token = _WRITTEN.set(written)
    try:
        yield written
    finally:
        _WRITTEN.reset(token)


def note_written(position: int) -> None:
    """Tell the current request that something it asked for was appended at ``position``
    (a service called over HTTP answers with it)."""
    written = _WRITTEN.get()
    if written is not None:
        written.note(position)


S = TypeVar("S")


@dataclass(frozen=True)
class Decided(Generic[S]):
    state: S
    events: list[RecordedEvent | NewEvent]
    """What this command appended, or nothing when it was already done (a safe retry)."""


async def execute(
    store: EventStore,
    stream: str,
    *,
    initial: Callable[[], S],
    evolve: Callable[[S, Event], S],
    decide: Callable[[S], Sequence[Event]],
    metadata: Metadata,
    new_id: Callable[[], uuid.UUID] = ids.new_id,
    expect_new: bool = False,
) -> Decided[S]:
    """``expect_new``: the stream is most likely new (named by a fresh id), so the first
    attempt decides on the empty state and appends without reading; a stream that exists
    after all (a retry) conflicts, and is read and decided again like any conflict."""
    attempts = (1, 2, 3) if expect_new else (1, 2)
    for attempt in attempts:
        fresh = expect_new and attempt == 1
        history = [] if fresh else await store.read_stream(stream)
        _owned(stream, history, metadata.school_id)
        state = initial()
        for recorded in history:
            state = evolve(state, recorded.event)
        events = [NewEvent(event_id=new_id(), event=e, metadata=metadata) for e in decide(state)]
        if not events:
            return Decided(state, [])
        expected = history[-1].version if history else NO_STREAM
        try:
            appended = await store.append(stream, events, expected_version=expected)
        except WrongExpectedVersion as exc:
            if attempt == attempts[-1]:
                raise Conflict(f"{stream} changed while this request was decided") from exc
            continue
        note_written(appended.position)
        for new in events:
            state = evolve(state, new.event)
        return Decided(state, list(events))
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Aggregate(Generic[S]):
    """One kind of stream, its state and the command runner in one value, so a handler says
    ``CONVERSATIONS.run(store, id, decide, metadata=...)`` instead of passing four parts."""

    category: str
    initial: Callable[[], S]
    evolve: Callable[[S, Event], S]

    def stream(self, stream_id: str) -> str:
        return f"{self.category}-{stream_id}"

    async def run(
        self,
        store: EventStore,
        stream_id: str,
        decide: Callable[[S], Sequence[Event]],
        *,
        metadata: Metadata,
        new_id: Callable[[], uuid.UUID] = ids.new_id,
        expect_new: bool = False,
    ) -> Decided[S]:
        return await execute(
            store,
            self.stream(stream_id),
            initial=self.initial,
            evolve=self.evolve,
            decide=decide,
            metadata=metadata,
            new_id=new_id,
            expect_new=expect_new,
        )

    async def load(self, store: EventStore, stream_id: str, school_id: str) -> S | None:
        """The state as the stream says, for a school's reader; None when the stream does
        not exist or is another school's (never said apart)."""
        history = await store.read_stream(self.stream(stream_id))
        if not history or history[0].metadata.school_id != school_id:
            return None
        state = self.initial()
        for recorded in history:
            state = self.evolve(state, recorded.event)
        return state
