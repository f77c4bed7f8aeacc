"""Live news for open pages, as server-sent events: points, and messages.

One ``LiveHub`` per gateway process follows the event store from its head (awards and undos,
and what happens in conversations) and hands each event to the pages listening for that
class or that pupil, or for that inbox or conversation. Message news says only which
conversation changed and how, never what was written: the page fetches the conversation
from the messaging service, which decides what its reader may see. Nothing is
replayed: a page that connects (or reconnects) fetches its totals once, then listens, and
fetches again with ``?after=POSITION`` when news comes. Every listener has a bounded queue:
a page too slow to keep up loses the oldest news and is told to fetch everything again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import threading
import weakref
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

import structlog
from fastapi.responses import StreamingResponse
from prometheus_client import Counter, Gauge
from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.messaging import (
    ConversationPassedToClass,
    ConversationPassedToOffice,
    MessageHidden,
    MessageRead,
    MessageSent,
    MessageWithdrawn,
)
from schoolgate_contracts.points import PointAwarded, PointAwardUndone
from schoolgate_contracts.privacy import REMOVED
from schoolgate_kit.eventstore import EventStore
from schoolgate_kit.problems import Problem

log = structlog.get_logger()

MESSAGE_EVENTS = (
    MessageSent,
    MessageRead,
    MessageWithdrawn,
    MessageHidden,
    ConversationPassedToOffice,
    ConversationPassedToClass,
)
TYPES = (
    PointAwarded.event_type,
    PointAwardUndone.event_type,
    *(cls.event_type for cls in MESSAGE_EVENTS),
)
RETRY_MS = 3000
"""How long a browser's EventSource waits before it reconnects."""

LISTENERS = Gauge(
    "schoolgate_gateway_live_listeners",
    "Pages listening for live points news.",
    ["scope"],
    multiprocess_mode="livesum",
)
DROPPED = Counter(
    "schoolgate_gateway_live_dropped_total",
    "News dropped because a listener fell behind (it was told to fetch again).",
)
DELIVERED = Counter("schoolgate_gateway_live_delivered_total", "News handed to listeners' queues.")


class LiveUnavailable(Problem):
    status, slug, title = 503, "live-unavailable", "Live updates are not available right now"


@dataclass(frozen=True, slots=True)
class PointsNews:
    """One pupil's award or undo, with the global position a page can wait for."""

    school_id: str
    pupil_id: str
    class_id: str | None
    award_id: str
    kind: str
    undone: bool
    position: int

    @classmethod
    def of(cls, recorded: RecordedEvent) -> PointsNews | None:
        event = recorded.event
        if not isinstance(event, PointAwarded | PointAwardUndone) or event.pupil_id == REMOVED:
            return None
        return cls(
            school_id=recorded.metadata.school_id,
            pupil_id=event.pupil_id,
            class_id=event.class_id,
            award_id=event.award_id,
            kind=event.kind,
            undone=isinstance(event, PointAwardUndone),
            position=recorded.position,
        )

    event = "points"

    def data(self) -> dict[str, Any]:
        return {
            "pupil_id": self.pupil_id,
            "class_id": self.class_id,
            "award_id": self.award_id,
            "kind": self.kind,
            "undone": self.undone,
            "position": self.position,
        }


def parent_party(parent_id: str) -> str:
    return f"parent:{parent_id}"


def class_party(class_id: str) -> str:
    return f"class:{class_id}"


def families_party(class_id: str) -> str:
    return f"families:{class_id}"


OFFICE_PARTY = "office"


def conversation_party(conversation_id: str) -> str:
    return f"conversation:{conversation_id}"


def _parties_of(event: MessageSent) -> tuple[str, ...]:
    """The inboxes a new message shows in, as the messaging service indexes them."""
    if event.announcement:
        if event.class_id is None:
            return ()
        return (families_party(event.class_id), class_party(event.class_id))
    parties = [parent_party(p) for p in event.parent_ids]
    if event.inbox == "office":
        parties.append(OFFICE_PARTY)
    elif event.class_id is not None:
        parties.append(class_party(event.class_id))
    return tuple(parties)


_WHAT = {
    MessageSent: "sent",
    MessageRead: "read",
    MessageWithdrawn: "withdrawn",
    MessageHidden: "hidden",
    ConversationPassedToOffice: "passed",
    ConversationPassedToClass: "passed",
}


@dataclass(frozen=True, slots=True)
class MessageNews:
    """Something happened in a conversation: which one, what, and the position to wait
    for. ``parties`` are the inboxes it shows in (a new message only); every conversation
    event also reaches the pages open on that conversation."""

    school_id: str
    conversation_id: str
    what: str
    parties: tuple[str, ...]
    position: int

    event = "messages"

    @classmethod
    def of(cls, recorded: RecordedEvent) -> MessageNews | None:
        event = recorded.event
        if not isinstance(event, MESSAGE_EVENTS):
            return None
        parties = _parties_of(event) if isinstance(event, MessageSent) else ()
        return cls(
            school_id=recorded.metadata.school_id,
            conversation_id=event.conversation_id,
            what=_WHAT[type(event)],
            parties=(*parties, conversation_party(event.conversation_id)),
            position=recorded.position,
        )

    def data(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "what": self.what,
            "position": self.position,
        }


News = PointsNews | MessageNews


def message(event: str, data: dict[str, Any], *, event_id: int | None = None) -> str:
    """One server-sent event."""
    lines = [f"event: {event}", f"data: {json.dumps(data, separators=(',', ':'))}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    return "\n".join(lines) + "\n\n"


class Listener:
    """One open page: a bounded queue of news, oldest dropped first when it is full."""

    def __init__(self, limit: int) -> None:
        self._news: deque[News] = deque()
        self._limit = max(1, limit)
        self._wake = asyncio.Event()
        self.fell_behind = False
        self.closed = False

    def offer(self, news: News) -> None:
        if len(self._news) >= self._limit:
            self._news.popleft()
            self.fell_behind = True
            DROPPED.inc()
        self._news.append(news)
        DELIVERED.inc()
        self._wake.set()

    def close(self) -> None:
        self.closed = True
        self._wake.set()

    async def wait(self) -> None:
        await self._wake.wait()

    def take(self) -> tuple[list[News], bool]:
        """Everything queued, and whether news was dropped since the last take."""
        news, fell_behind = list(self._news), self.fell_behind
        self._news.clear()
        self.fell_behind = False
        self._wake.clear()
        return news, fell_behind


Key = tuple[str, str]
"""(school id, class or pupil id): ids are unique within a school only."""


class LiveHub:
    def __init__(
        self,
        store: EventStore | None,
        *,
        keepalive_seconds: float = 15.0,
        queue_limit: int = 256,
        retry_seconds: float = 1.0,
    ) -> None:
        self._store = store
        self.keepalive_seconds = keepalive_seconds
        self.queue_limit = queue_limit
        self._retry_seconds = retry_seconds
        self._classes: dict[Key, weakref.WeakSet[Listener]] = {}
        self._pupils: dict[Key, weakref.WeakSet[Listener]] = {}
        self._parties: dict[Key, weakref.WeakSet[Listener]] = {}
        self._open: weakref.WeakSet[Listener] = weakref.WeakSet()
        self._task: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()
        self._closed = False
        self._restore_signals: Callable[[], None] = lambda: None
        self.position = 0
        """Every event at or before this global position has been handed out."""

    # -- following the store ---------------------------------------------------------------

    async def start(self) -> None:
        """Follow the store from its head now; idempotent, so the first page starts it."""
        if self._closed or self._store is None:
            raise LiveUnavailable("Live updates are not available. Reload the page to refresh.")
        async with self._starting:
            if self._task is not None:
                return
            self.position = await self._store.head()
            self._task = asyncio.create_task(self._follow(self._store), name="live-hub")
            self._restore_signals = _end_streams_on_exit_signals(self)

    async def _follow(self, store: EventStore) -> None:
        while True:
            try:
                async for batch in store.subscribe(after=self.position, types=TYPES):
                    for recorded in batch.events:
                        news = PointsNews.of(recorded)
                        if news is not None:
                            self.publish(news)
                            continue
                        said = MessageNews.of(recorded)
                        if said is not None:
                            self.publish_message(said)
                    self.position = max(self.position, batch.up_to)
            except asyncio.CancelledError:
                raise
            except Exception:
                # go on from the last position handed out: nothing is skipped
                log.exception("gateway.live_follow_failed", position=self.position)
                await asyncio.sleep(self._retry_seconds)

    def publish(self, news: PointsNews) -> None:
        """Hand news to every page listening for its class or its pupil (once each)."""
        targets: set[Listener] = set(self._pupils.get((news.school_id, news.pupil_id), ()))
        if news.class_id is not None:
            targets.update(self._classes.get((news.school_id, news.class_id), ()))
        for listener in targets:
            listener.offer(news)

    def publish_message(self, news: MessageNews) -> None:
        """Hand message news to every page open on one of its inboxes or its conversation."""
        targets: set[Listener] = set()
        for party in news.parties:
            targets.update(self._parties.get((news.school_id, party), ()))
        for listener in targets:
            listener.offer(news)

    # -- listening --------------------------------------------------------------------------

    def _register(self, index: dict[Key, weakref.WeakSet[Listener]], key: Key) -> Listener:
        listener = Listener(self.queue_limit)
        index.setdefault(key, weakref.WeakSet()).add(listener)
        self._open.add(listener)
        if self._closed:
            listener.close()  # stopping: the page gets "ready", then the stream ends
        return listener

    @staticmethod
    def _unregister(
        index: dict[Key, weakref.WeakSet[Listener]], key: Key, listener: Listener
    ) -> None:
        listener.close()
        found = index.get(key)
        if found is not None:
            found.discard(listener)
            if not found:
                del index[key]

    def follow_class(
        self, school_id: str, class_id: str, *, last_seen: int | None = None
    ) -> AsyncIterator[str]:
        return self._stream(self._classes, (school_id, class_id), "class", last_seen)

    def follow_pupil(
        self, school_id: str, pupil_id: str, *, last_seen: int | None = None
    ) -> AsyncIterator[str]:
        return self._stream(self._pupils, (school_id, pupil_id), "pupil", last_seen)

    async def follow_messages(
        self, school_id: str, parties: list[str], *, last_seen: int | None = None
    ) -> AsyncIterator[str]:
        """An inbox or conversation page: news of the conversations in any of ``parties``
        (the reader's inboxes, and the conversation open, if any)."""
        listener = Listener(self.queue_limit)
        keys = [(school_id, party) for party in dict.fromkeys(parties)]
        for key in keys:
            self._parties.setdefault(key, weakref.WeakSet()).add(listener)
        self._open.add(listener)
        if self._closed:
            listener.close()
        LISTENERS.labels("messages").inc()
        events = self._listen(listener, last_seen, keep=None)
        try:
            async for event in events:
                yield event
        finally:
            await events.aclose()  # it holds the listener: the page's count must drop now
            LISTENERS.labels("messages").dec()
            listener.close()
            for key in keys:
                found = self._parties.get(key)
                if found is not None:
                    found.discard(listener)
                    if not found:
                        del self._parties[key]

    async def follow_board(
        self,
        school_id: str,
        class_id: str,
        *,
        last_seen: int | None = None,
        still_paired: Callable[[], Awaitable[bool]],
    ) -> AsyncIterator[str]:
        """A class's news as its board on the classroom screen hears it: well-done points
        only. A "needs work" note is for the child's teacher and family, never the room.

        Before each event (a keep-alive at least every ``keepalive_seconds``) the board's
        session is asked again: once it has ended (the teacher stopped it, or its day is
        over) the page is told ``ended`` and the stream closes, rather than carry on."""
        events = self._stream(
            self._classes, (school_id, class_id), "board", last_seen, keep=_positive
        )
        try:
            async for event in events:
                if not await still_paired():
                    yield message("ended", {})
                    return
                yield event
        finally:
            await events.aclose()

    async def _stream(
        self,
        index: dict[Key, weakref.WeakSet[Listener]],
        key: Key,
        scope: str,
        last_seen: int | None,
        *,
        keep: Callable[[PointsNews], bool] | None = None,
    ) -> AsyncGenerator[str, None]:
        """The event stream of one page, until the page goes or the gateway stops.

        ``ready`` comes first, with the position from which every event reaches this page;
        ``refetch`` says news was missed (a reconnect, or a page that fell behind).
        """
        listener = self._register(index, key)
        LISTENERS.labels(scope).inc()
        events = self._listen(listener, last_seen, keep=keep)
        try:
            async for event in events:
                yield event
        finally:
            await events.aclose()  # it holds the listener: the page's count must drop now
            LISTENERS.labels(scope).dec()
            self._unregister(index, key, listener)

    async def _listen(
        self,
        listener: Listener,
        last_seen: int | None,
        *,
        keep: Callable[[PointsNews], bool] | None,
    ) -> AsyncGenerator[str, None]:
        yield f"retry: {RETRY_MS}\n" + message("ready", {"position": self.position})
        if last_seen is not None and last_seen < self.position:
            yield message("refetch", {"position": self.position})
        while not listener.closed:
            try:
                async with asyncio.timeout(self.keepalive_seconds):
                    await listener.wait()
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            news, fell_behind = listener.take()
            if fell_behind:
                yield message("refetch", {"position": news[-1].position})
            for item in news:
                if keep is None or not isinstance(item, PointsNews) or keep(item):
                    yield message(item.event, item.data(), event_id=item.position)

    @property
    def listeners(self) -> int:
        return len(self._open)

    # -- stopping ---------------------------------------------------------------------------

    def end_streams(self) -> None:
        """End every open stream and refuse new ones (the process is stopping)."""
        self._closed = True
        for listener in list(self._open):
            listener.close()

    async def close(self) -> None:
        self.end_streams()
        self._restore_signals()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def last_seen(last_event_id: str | None) -> int | None:
    """The position a reconnecting browser saw last (it sends the last ``id:`` back)."""
    return int(last_event_id) if last_event_id and last_event_id.isdigit() else None


def event_stream(events: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


def _positive(news: PointsNews) -> bool:
    return news.kind == "positive"


def _end_streams_on_exit_signals(hub: LiveHub) -> Callable[[], None]:
    """uvicorn waits for open responses to finish before it runs the app's shutdown, and an
    event stream never finishes by itself: end the streams as soon as the process is told to
    stop, then let the server's own handler carry on. Browsers reconnect to another pod.

    Returns what puts the previous handlers back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    installed: dict[int, tuple[Any, Any]] = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(signum)

        def handler(
            number: int,
            frame: FrameType | None,
            previous: Callable[[int, FrameType | None], Any] | int | None = previous,
        ) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(hub.end_streams)
            if callable(previous):
                previous(number, frame)
            elif previous == signal.SIG_DFL:
                signal.signal(number, signal.SIG_DFL)
                signal.raise_signal(number)

        signal.signal(signum, handler)
        installed[signum] = (handler, previous)

    def restore() -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum, (handler, previous) in installed.items():
            if signal.getsignal(signum) is handler and previous is not None:
                signal.signal(signum, previous)

    return restore
