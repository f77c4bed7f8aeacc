"""The KurrentDB event store against the event store contract, on a real server.

Runs when ``SCHOOLGATE_TEST_KURRENTDB_URL`` names one, e.g.
``kurrentdb://localhost:2113?Tls=false``. Streams carry random suffixes, so a shared
server works; it should hold no other application's events.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator

import kurrentdbclient as kdb
import pytest
from schoolgate_kit.eventstore import NO_STREAM
from schoolgate_kit.eventstore.kurrentdb import KurrentDbEventStore
from schoolgate_kit.testing.events import award
from schoolgate_kit.testing.eventstore_contract import EventStoreContract

URL = os.environ.get("SCHOOLGATE_TEST_KURRENTDB_URL", "")

pytestmark = pytest.mark.skipif(not URL, reason="SCHOOLGATE_TEST_KURRENTDB_URL is not set")


@pytest.fixture
async def store() -> AsyncIterator[KurrentDbEventStore]:
    store = await KurrentDbEventStore.open(URL)
    yield store
    await store.close()


class TestKurrentDbEventStore(EventStoreContract):
    gap_free_positions = False

    async def test_retry_with_any_version_returns_the_first_result(
        self, store: KurrentDbEventStore
    ) -> None:
        stream = self.stream()
        events = [award(), award()]
        first = await store.append(stream, events, expected_version=None)
        again = await store.append(stream, events, expected_version=None)
        assert again == first
        assert first.version == 1
        assert len(await store.read_stream(stream)) == 2

    async def test_events_are_plain_json_other_tools_can_read(
        self, store: KurrentDbEventStore
    ) -> None:
        stream = self.stream()
        new = award("p1", way="teamwork")
        await store.append(stream, [new], expected_version=NO_STREAM)
        client = kdb.AsyncKurrentDBClient(URL)
        await client.connect()
        try:
            (raw,) = await client.get_stream(stream)
        finally:
            await client.close()
        assert raw.id == new.event_id
        assert raw.type == "PointAwarded"
        assert json.loads(raw.data)["school_way_id"] == "teamwork"
        metadata = json.loads(raw.metadata)
        assert metadata["schema_version"] == 2
        assert metadata["school_id"] == "school-1"

    async def test_read_all_skips_positions_it_already_returned(
        self, store: KurrentDbEventStore
    ) -> None:
        before = await store.head()
        stream = self.stream()
        await store.append(stream, [award() for _ in range(3)], expected_version=NO_STREAM)
        first = await store.read_all(after=before, limit=1)
        second = await store.read_all(after=first.up_to, limit=1)
        assert first.events[0].position < second.events[0].position
        assert [e.version for e in first.events + second.events] == [0, 1]
