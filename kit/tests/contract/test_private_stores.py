"""The private stores against their contract: SQLite on a real file, MongoDB on a real server.

The MongoDB run happens when ``SCHOOLGATE_TEST_MONGODB_URL`` names one, e.g.
``mongodb://localhost:27017``; each test gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient
from schoolgate_kit.private import PrivateStore, open_private_store
from schoolgate_kit.private.mongo import MongoPrivateStore
from schoolgate_kit.private.sqlite import SqlitePrivateStore
from schoolgate_kit.testing.private_contract import LATER, NOW, PrivateStoreContract

MONGODB_URL = os.environ.get("SCHOOLGATE_TEST_MONGODB_URL", "")


CODE = "QX7RW-PLM4T"
ADDRESS = "203.0.113.77"


class PurgeContract:
    """Beside the shared contract: ``purge`` removes what expired, at once, and nothing else.

    Times are near the real clock, and expiries in its future: MongoDB's own TTL monitor
    deletes by the server's clock, and must not get there first."""

    async def test_purge_removes_every_expired_document_and_nothing_live(
        self, private: PrivateStore
    ) -> None:
        c = "purge"
        now = datetime.now(UTC)
        await private.put(c, "gone", {}, now=now, expires_at=now + timedelta(minutes=30))
        await private.put(c, "live", {}, now=now, expires_at=now + timedelta(days=2))
        await private.put(c, "forever", {}, now=now)
        await private.hit(c, ADDRESS, limit=3, window=timedelta(minutes=30), now=now)

        later = now + timedelta(hours=1)
        assert await private.purge(now=later) == 2
        assert await private.purge(now=later) == 0
        assert await private.get(c, "live", now=later) == {}
        assert await private.get(c, "forever", now=later) == {}
        assert await private.delete(c, "gone") is False
        assert await private.delete(c, ADDRESS) is False


class TestSqlitePrivateStore(PurgeContract, PrivateStoreContract):
    @pytest.fixture
    async def private(self, tmp_path: Path) -> AsyncIterator[PrivateStore]:
        store = await open_private_store(f"sqlite:///{tmp_path / 'private.db'}")
        assert isinstance(store, SqlitePrivateStore)
        yield store
        await store.close()

    @pytest.fixture
    async def second(self, tmp_path: Path) -> AsyncIterator[PrivateStore]:
        store = await SqlitePrivateStore.open(tmp_path / "private.db")
        yield store
        await store.close()

    async def wait_until_purged(
        self, private: PrivateStore, collection: str, key: str, now: datetime
    ) -> None:
        # any write at a later time purges; the row is then gone from the file itself
        await private.put(collection, "new", {}, now=now)
        assert isinstance(private, SqlitePrivateStore)
        path = private._db.path
        with sqlite3.connect(path) as conn:
            rows = conn.execute(
                "SELECT key FROM private_documents WHERE collection = ?", (collection,)
            ).fetchall()
        assert rows == [("new",)]

    async def test_expired_codes_and_addresses_leave_no_bytes_in_the_file(
        self, private: PrivateStore
    ) -> None:
        assert isinstance(private, SqlitePrivateStore)
        path = private._db.path
        window = timedelta(minutes=10)
        await private.put("invite_codes", CODE, {"pupil_id": "p1"}, now=NOW, expires_at=LATER)
        await private.hit("limit:redeem", f"address:{ADDRESS}", limit=5, window=window, now=NOW)
        await private.put("sessions", "keep", {"who": "someone"}, now=NOW)
        assert CODE.encode() in _on_disk(path) and ADDRESS.encode() in _on_disk(path)

        # only reads from here on, at a time both have expired by
        after = LATER + timedelta(minutes=1)
        assert await private.get("sessions", "keep", now=after) == {"who": "someone"}

        on_disk = _on_disk(path)
        assert b"someone" in on_disk  # the right file, and readable
        assert CODE.encode() not in on_disk
        assert ADDRESS.encode() not in on_disk

    async def test_documents_survive_reopening(self, tmp_path: Path) -> None:
        first = await SqlitePrivateStore.open(tmp_path / "again.db")
        await first.put("c", "k", {"v": 1}, now=NOW, expires_at=NOW + timedelta(hours=1))
        await first.hit("n", "ip", limit=1, window=timedelta(hours=1), now=NOW)
        await first.close()
        again = await SqlitePrivateStore.open(tmp_path / "again.db")
        try:
            assert await again.get("c", "k", now=NOW) == {"v": 1}
            assert await again.retry_after("n", "ip", limit=1, now=NOW) == 3600
        finally:
            await again.close()


def _on_disk(path: Path) -> bytes:
    """The database file and its write-ahead log, after copying the log into the file."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    files = [path, path.with_name(path.name + "-wal")]
    return b"".join(p.read_bytes() for p in files if p.exists())


@pytest.mark.skipif(not MONGODB_URL, reason="SCHOOLGATE_TEST_MONGODB_URL is not set")
class TestMongoPrivateStore(PurgeContract, PrivateStoreContract):
    @pytest.fixture
    async def database(self) -> AsyncIterator[str]:
        name = f"schoolgate_test_{uuid.uuid4().hex[:12]}"
        yield name
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(MONGODB_URL)
        try:
            await client.drop_database(name)
        finally:
            await client.close()

    @pytest.fixture
    async def private(self, database: str) -> AsyncIterator[PrivateStore]:
        store = await MongoPrivateStore.open(MONGODB_URL, database)
        yield store
        await store.close()

    @pytest.fixture
    async def second(self, database: str) -> AsyncIterator[PrivateStore]:
        store = await MongoPrivateStore.open(MONGODB_URL, database)
        yield store
        await store.close()

    async def wait_until_purged(
        self, private: PrivateStore, collection: str, key: str, now: datetime
    ) -> None:
        # MongoDB's TTL monitor deletes on its own schedule (about a minute): check that it
        # is asked to, on a real date field, rather than waiting for it.
        assert isinstance(private, MongoPrivateStore)
        indexes = await private._docs.index_information()
        assert any(
            spec["key"] == [("expires_at", 1)] and spec.get("expireAfterSeconds") == 0
            for spec in indexes.values()
        ), indexes
        stored = await private._docs.find_one({"c": collection, "k": key})
        assert stored is not None and isinstance(stored["expires_at"], datetime)
