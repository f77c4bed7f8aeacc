"""The live hub over a real (embedded) event store: who hears which award, slow pages,
keep-alives and stopping. No HTTP."""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import pytest
from schoolgate_contracts import Event, Metadata, NewEvent
from schoolgate_contracts.messaging import MessageRead, MessageSent
from schoolgate_contracts.points import PointAwarded, PointAwardUndone
from schoolgate_contracts.roster import SchoolWayAdded
from schoolgate_gateway.live import LiveHub, LiveUnavailable
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.testing.waiting import until

NOW = datetime(2026, 11, 16, 10, tzinfo=UTC)
WAIT = 5.0
"""Generous: only a failure ever waits this long."""


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteEventStore]:
    opened = await SqliteEventStore.open(tmp_path / "events.db", clock=lambda: NOW)
    yield opened
    await opened.close()


@pytest.fixture
async def hub(store: SqliteEventStore) -> AsyncIterator[LiveHub]:
    live = LiveHub(store, keepalive_seconds=30, queue_limit=4)
    await live.start()
    yield live
    await live.close()


def dated(**fields: Any) -> dict[str, Any]:
    """The school day (and week, where the contract carries it) of every event here."""
    return {**fields, "school_date": date(2026, 11, 16), "week_start": date(2026, 11, 16)}


def awarded(pupil: str, klass: str = "oak", award_id: str = "a1") -> PointAwarded:
    fields = dated(
        award_id=award_id,
        pupil_id=pupil,
        class_id=klass,
        school_way_id="kindness",
        awarded_by="t1",
        awarded_at=NOW,
    )
    return PointAwarded.model_validate(
        {k: v for k, v in fields.items() if k in PointAwarded.model_fields}
    )


async def append(store: SqliteEventStore, *events: Event, school: str = "s1") -> int:
    result = await store.append(
        f"award-{uuid.uuid4().hex}",
        [
            NewEvent(
                event_id=uuid.uuid4(),
                event=event,
                metadata=Metadata(
                    occurred_at=NOW, school_id=school, actor="t1", correlation_id="c"
                ),
            )
            for event in events
        ],
        expected_version=None,
    )
    return result.position


async def next_message(stream: AsyncIterator[str]) -> tuple[str, dict[str, Any]]:
    """The next event (its name and data); a keep-alive comment comes back as ("", {})."""
    async with asyncio.timeout(WAIT):
        chunk = await anext(stream)
    fields = dict(
        line.split(": ", 1) for line in chunk.strip().splitlines() if not line.startswith(":")
    )
    return fields.get("event", ""), json.loads(fields.get("data", "{}"))


async def opened(stream: AsyncIterator[str]) -> int:
    name, data = await next_message(stream)
    assert name == "ready"
    return int(data["position"])


async def test_an_award_reaches_its_class_and_its_pupil_and_nobody_else(
    store: SqliteEventStore, hub: LiveHub
) -> None:
    oak = hub.follow_class("s1", "oak")
    ada = hub.follow_pupil("s1", "ada")
    ben = hub.follow_pupil("s1", "ben")
    oak_elsewhere = hub.follow_class("s2", "oak")  # ids are unique within a school only
    for stream in (oak, ada, ben, oak_elsewhere):
        await opened(stream)
    position = await append(store, awarded("ada"))

    for stream in (oak, ada):
        assert await next_message(stream) == (
            "points",
            {
                "pupil_id": "ada",
                "class_id": "oak",
                "award_id": "a1",
                "kind": "positive",
                "undone": False,
                "position": position,
            },
        )
    for stream in (ben, oak_elsewhere):
        pending = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.3)
        assert not pending.done(), "news went to a page that was not listening for it"
        pending.cancel()


async def test_an_undo_is_news_too(store: SqliteEventStore, hub: LiveHub) -> None:
    ada = hub.follow_pupil("s1", "ada")
    await opened(ada)
    fields = dated(
        award_id="a1",
        pupil_id="ada",
        class_id="oak",
        school_way_id="kindness",
        kind="positive",
        points=1,
        undone_by="t1",
    )
    undone = PointAwardUndone.model_validate(
        {k: v for k, v in fields.items() if k in PointAwardUndone.model_fields}
    )
    await append(store, SchoolWayAdded(school_way_id="x", name="X"), undone)
    name, data = await next_message(ada)
    assert (name, data["undone"], data["award_id"]) == ("points", True, "a1")


async def test_a_whole_class_award_is_one_message_per_pupil(
    store: SqliteEventStore, hub: LiveHub
) -> None:
    oak = hub.follow_class("s1", "oak")
    await opened(oak)
    await append(store, awarded("ada"), awarded("ben"), awarded("cara"))
    pupils = [(await next_message(oak))[1]["pupil_id"] for _ in range(3)]
    assert pupils == ["ada", "ben", "cara"]


async def test_a_page_that_falls_behind_loses_the_oldest_news_and_is_told_to_refetch(
    store: SqliteEventStore, hub: LiveHub
) -> None:
    oak = hub.follow_class("s1", "oak")
    await opened(oak)
    for n in range(7):  # the page reads nothing meanwhile; its queue holds four
        await append(store, awarded(f"p{n}", award_id=f"a{n}"))
    last = await append(store, awarded("p7", award_id="a7"))

    await until(lambda: hub.position >= last, within=WAIT, every=0.01, why="all handed out")
    name, data = await next_message(oak)
    assert (name, data["position"]) == ("refetch", last)
    kept = [(await next_message(oak))[1]["award_id"] for _ in range(4)]
    assert kept == ["a4", "a5", "a6", "a7"]


async def test_a_reconnecting_page_that_missed_news_is_told_to_refetch(
    store: SqliteEventStore, hub: LiveHub
) -> None:
    first = hub.follow_pupil("s1", "ada")
    await opened(first)
    position = await append(store, awarded("ada"))
    assert (await next_message(first))[0] == "points"
    await append(store, awarded("ada", award_id="a2"))
    again = hub.follow_pupil("s1", "ada", last_seen=position)
    await until(lambda: hub.position > position, within=WAIT, every=0.01, why="handed out")
    assert await opened(again) > position
    assert (await next_message(again))[0] == "refetch"


async def test_a_quiet_stream_sends_keep_alives(store: SqliteEventStore) -> None:
    live = LiveHub(store, keepalive_seconds=0.05)
    await live.start()
    try:
        stream = live.follow_class("s1", "oak")
        await opened(stream)
        async with asyncio.timeout(WAIT):
            assert (await anext(stream)).startswith(":")
    finally:
        await live.close()


async def test_a_closed_page_stops_listening(store: SqliteEventStore, hub: LiveHub) -> None:
    stream = hub.follow_pupil("s1", "ada")
    await opened(stream)
    assert hub.listeners == 1
    await stream.aclose()  # what the server does when the browser goes away
    assert hub.listeners == 0
    await append(store, awarded("ada"))  # nobody to hand it to: nothing breaks


async def test_stopping_ends_every_stream_and_refuses_new_ones(
    store: SqliteEventStore, hub: LiveHub
) -> None:
    streams = [hub.follow_class("s1", "oak"), hub.follow_pupil("s1", "ada")]
    for stream in streams:
        await opened(stream)
    hub.end_streams()
    for stream in streams:
        with pytest.raises(StopAsyncIteration):
            async with asyncio.timeout(WAIT):
                await anext(stream)
    with pytest.raises(LiveUnavailable):
        await hub.start()


async def test_without_a_store_live_updates_are_unavailable() -> None:
    with pytest.raises(LiveUnavailable):
        await LiveHub(None).start()


async def test_being_told_to_stop_ends_the_streams_then_the_servers_handler_runs(
    store: SqliteEventStore,
) -> None:
    told: list[int] = []
    before = signal.signal(signal.SIGTERM, lambda number, frame: told.append(number))
    try:
        live = LiveHub(store)
        await live.start()  # the server's own handler is in place by then, as under uvicorn
        stream = live.follow_class("s1", "oak")
        await opened(stream)
        signal.raise_signal(signal.SIGTERM)
        with pytest.raises(StopAsyncIteration):
            async with asyncio.timeout(WAIT):
                await anext(stream)
        assert told == [signal.SIGTERM]
        await live.close()
        assert signal.getsignal(signal.SIGTERM) is not None
        signal.raise_signal(signal.SIGTERM)  # the server's handler is back in place alone
        assert told == [signal.SIGTERM, signal.SIGTERM]
    finally:
        signal.signal(signal.SIGTERM, before)


def _sent(
    conversation: str, parents: tuple[str, ...], *, inbox: Literal["class", "office"] = "class"
) -> MessageSent:
    return MessageSent(
        conversation_id=conversation,
        message_id=uuid.uuid4().hex,
        sender_id=parents[0] if parents else "t1",
        side="family",
        text="Ada had a rough night",
        visible_from=NOW,
        pupil_id="ada",
        class_id="oak",
        inbox=inbox,
        parent_ids=parents,
    )


async def test_message_news_reaches_the_inboxes_it_is_in_and_says_no_words(
    store: SqliteEventStore, hub: LiveHub
) -> None:
    family = hub.follow_messages("s1", ["parent:p-ada"])
    oak = hub.follow_messages("s1", ["class:oak"])
    office = hub.follow_messages("s1", ["office"])
    other_family = hub.follow_messages("s1", ["parent:p-ben"])
    oak_elsewhere = hub.follow_messages("s2", ["class:oak"])
    streams = (family, oak, office, other_family, oak_elsewhere)
    for stream in streams:
        await opened(stream)
    first = await append(store, _sent("c1", ("p-ada",)))
    for stream in (family, oak):
        name, data = await next_message(stream)
        assert (name, data) == (
            "messages",
            {"conversation_id": "c1", "what": "sent", "position": first},
        )
    # news every page hears comes next: those that heard nothing before hear it first
    later = await append(store, _sent("c2", ("p-ben",), inbox="office"))
    await append(store, _sent("c3", ("p-ada",)), school="s2")
    assert (await next_message(office))[1]["position"] == later
    assert (await next_message(other_family))[1]["position"] == later
    assert (await next_message(oak_elsewhere))[1]["conversation_id"] == "c3"


async def test_an_open_conversation_hears_its_receipts(
    store: SqliteEventStore, hub: LiveHub
) -> None:
    page = hub.follow_messages("s1", ["parent:p-ada", "conversation:c1"])
    await opened(page)
    position = await append(
        store,
        MessageRead(
            conversation_id="c1",
            reader_id="t1",
            side="school",
            through_message_id="m1",
            read_at=NOW,
            shown_from=NOW,
        ),
    )
    assert await next_message(page) == (
        "messages",
        {"conversation_id": "c1", "what": "read", "position": position},
    )
