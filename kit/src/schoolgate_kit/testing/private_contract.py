"""The private-store contract: subclass and provide a ``private`` fixture (and, for the
replica tests, a ``second`` fixture: another store object over the same data)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from schoolgate_kit.private import PrivateStore

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


class PrivateStoreContract:
    def name(self) -> str:
        return f"c_{uuid.uuid4().hex[:12]}"

    async def test_a_document_is_read_back_and_replaced(self, private: PrivateStore) -> None:
        c = self.name()
        assert await private.get(c, "k", now=NOW) is None
        await private.put(c, "k", {"a": 1, "b": ["x", None]}, now=NOW)
        assert await private.get(c, "k", now=NOW) == {"a": 1, "b": ["x", None]}
        await private.put(c, "k", {"a": 2}, now=NOW)
        assert await private.get(c, "k", now=NOW) == {"a": 2}
        assert await private.get(self.name(), "k", now=NOW) is None  # collections are apart
        assert await private.count(c, now=NOW) == 1
        assert await private.delete(c, "k") is True
        assert await private.delete(c, "k") is False
        assert await private.get(c, "k", now=NOW) is None

    async def test_an_expired_document_is_absent(self, private: PrivateStore) -> None:
        c = self.name()
        await private.put(c, "k", {"a": 1}, now=NOW, group="g", expires_at=NOW + timedelta(1))
        await private.put(c, "forever", {"a": 2}, now=NOW, group="g")
        after = NOW + timedelta(days=1)
        assert await private.get(c, "k", now=after - timedelta(seconds=1)) == {"a": 1}
        assert await private.get(c, "k", now=after) is None
        assert await private.count(c, now=after) == 1
        assert list(await private.in_group(c, "g", now=after)) == ["forever"]
        assert await private.take(c, "k", now=after) is None

    async def test_add_stores_only_where_nothing_lives(self, private: PrivateStore) -> None:
        c = self.name()
        assert await private.add(c, "code", {"n": 1}, now=NOW, expires_at=LATER)
        assert not await private.add(c, "code", {"n": 2}, now=NOW)
        assert await private.get(c, "code", now=NOW) == {"n": 1}
        # once expired, the key is free again
        assert await private.add(c, "code", {"n": 3}, now=LATER)
        assert await private.get(c, "code", now=LATER) == {"n": 3}

    async def test_take_returns_a_document_once(self, private: PrivateStore) -> None:
        c = self.name()
        await private.put(c, "token", {"account": "a"}, now=NOW, expires_at=LATER)
        assert await private.take(c, "token", now=NOW) == {"account": "a"}
        assert await private.take(c, "token", now=NOW) is None
        assert await private.get(c, "token", now=NOW) is None

    async def test_groups_are_found_and_dropped_keeping_one(self, private: PrivateStore) -> None:
        c = self.name()
        for key, group in (("s1", "acct-1"), ("s2", "acct-1"), ("s3", "acct-1"), ("s4", "acct-2")):
            await private.put(c, key, {"k": key}, now=NOW, group=group, expires_at=LATER)
        assert list(await private.in_group(c, "acct-1", now=NOW)) == ["s1", "s2", "s3"]
        assert await private.delete_group(c, "acct-1", keep="s2") == 2
        assert await private.in_group(c, "acct-1", now=NOW) == {"s2": {"k": "s2"}}
        assert await private.delete_group(c, "acct-1") == 1
        assert await private.in_group(c, "acct-1", now=NOW) == {}
        assert list(await private.in_group(c, "acct-2", now=NOW)) == ["s4"]

    async def test_many_are_read_and_written_at_once(self, private: PrivateStore) -> None:
        c = self.name()
        await private.put_many(c, {f"k{n}": {"n": n} for n in range(1_200)}, now=NOW)
        await private.put(c, "gone", {"n": -1}, now=NOW, expires_at=NOW)
        keys = [f"k{n}" for n in range(0, 1_200, 2)] + ["missing", "gone", "k0"]
        found = await private.get_many(c, keys, now=NOW)
        assert found == {f"k{n}": {"n": n} for n in range(0, 1_200, 2)}
        assert await private.get_many(c, [], now=NOW) == {}
        await private.put_many(c, {"k1": {"n": "again"}}, now=NOW, expires_at=LATER)
        assert await private.get(c, "k1", now=NOW) == {"n": "again"}
        assert await private.get(c, "k1", now=LATER) is None

    async def test_many_groups_are_read_at_once(self, private: PrivateStore) -> None:
        c = self.name()
        for key, group in (("s1", "g1"), ("s2", "g1"), ("s3", "g2"), ("s4", "g3")):
            await private.put(c, key, {"k": key}, now=NOW, group=group, expires_at=LATER)
        found = await private.in_groups(c, ["g1", "g2", "nobody"], now=NOW)
        assert found == {"g1": {"s1": {"k": "s1"}, "s2": {"k": "s2"}}, "g2": {"s3": {"k": "s3"}}}
        assert await private.in_groups(c, ["g1"], now=LATER) == {}

    async def test_a_counter_refuses_past_its_limit_until_its_window_ends(
        self, private: PrivateStore
    ) -> None:
        c = self.name()
        window = timedelta(minutes=15)
        for i in range(3):
            at = NOW + timedelta(minutes=i)
            assert await private.retry_after(c, "ip", limit=3, now=at) is None
            assert await private.hit(c, "ip", limit=3, window=window, now=at) is None
        at = NOW + timedelta(minutes=5)
        assert await private.hit(c, "ip", limit=3, window=window, now=at) == 600
        assert await private.retry_after(c, "ip", limit=3, now=at) == 600
        # a higher limit still has room: refused attempts were not counted
        assert await private.hit(c, "ip", limit=4, window=window, now=at) is None
        assert await private.hit(c, "ip", limit=4, window=window, now=at) == 600
        assert await private.hit(c, "other", limit=3, window=window, now=at) is None
        opens = NOW + window
        assert await private.retry_after(c, "ip", limit=3, now=opens) is None
        assert await private.hit(c, "ip", limit=3, window=window, now=opens) is None

    async def test_racing_writers_on_two_store_objects_agree(
        self, private: PrivateStore, second: PrivateStore
    ) -> None:
        """Two replicas: one add wins, one take gets the token, a limit counts once."""
        c = self.name()
        stores = [private, second] * 10
        added = await asyncio.gather(
            *(s.add(c, "code", {"by": i}, now=NOW) for i, s in enumerate(stores))
        )
        assert added.count(True) == 1
        await private.put(c, "token", {"t": 1}, now=NOW, expires_at=LATER)
        taken = await asyncio.gather(*(s.take(c, "token", now=NOW) for s in stores))
        assert [t for t in taken if t is not None] == [{"t": 1}]
        hits = await asyncio.gather(
            *(s.hit(c, "ip", limit=7, window=timedelta(minutes=1), now=NOW) for s in stores)
        )
        assert hits.count(None) == 7
        assert await second.retry_after(c, "ip", limit=7, now=NOW) == 60

    async def test_expired_documents_are_purged_by_the_store(self, private: PrivateStore) -> None:
        c = self.name()
        await private.put(c, "old", {}, now=NOW, expires_at=NOW + timedelta(seconds=1))
        await self.wait_until_purged(private, c, "old", NOW + timedelta(days=1))

    async def wait_until_purged(
        self, private: PrivateStore, collection: str, key: str, now: datetime
    ) -> None:
        """How an adapter's purge is seen: override per adapter."""
        raise NotImplementedError
