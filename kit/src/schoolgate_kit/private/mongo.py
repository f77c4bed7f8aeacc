"""The cluster private store: one MongoDB collection, ``private``, shared by every replica.

Each document is ``{c: collection, k: key, g: group, doc: ..., expires_at: date | null}``
with a unique index on (c, k). A TTL index on ``expires_at`` (``expireAfterSeconds=0``: a
document goes once the date in that field has passed) lets MongoDB delete expired documents
itself; its monitor runs about once a minute, so every read also treats a document whose
``expires_at`` has passed as absent. Documents without a date there (null) never expire,
which is what accounts want. ``purge`` deletes the expired ones at once. Single-document
updates are atomic, which is all ``add``, ``take`` and ``hit`` need: no transaction, so no
replica set is required.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, AsyncMongoClient, ReplaceOne, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from schoolgate_kit.private.port import Doc, seconds_until

Record = dict[str, Any]


def _live(now: datetime) -> Record:
    # matches a null or missing expiry too
    return {"expires_at": {"$not": {"$lte": now}}}


class MongoPrivateStore:
    def __init__(self, client: AsyncMongoClient[Record], database: str) -> None:
        self._client = client
        self._docs: AsyncCollection[Record] = client[database]["private"]

    @classmethod
    async def open(cls, uri: str, database: str) -> MongoPrivateStore:
        client: AsyncMongoClient[Record] = AsyncMongoClient(uri, tz_aware=True)
        named = client.get_default_database(default=database).name
        store = cls(client, named)
        try:
            await store._docs.create_index([("c", ASCENDING), ("k", ASCENDING)], unique=True)
            await store._docs.create_index(
                [("c", ASCENDING), ("g", ASCENDING)],
                partialFilterExpression={"g": {"$type": "string"}},
            )
            await store._docs.create_index("expires_at", expireAfterSeconds=0)
        except BaseException:
            await client.close()
            raise
        return store

    @staticmethod
    def _record(
        collection: str,
        key: str,
        doc: Mapping[str, Any],
        group: str | None,
        expires_at: datetime | None,
    ) -> Record:
        return {"c": collection, "k": key, "g": group, "doc": dict(doc), "expires_at": expires_at}

    async def get(self, collection: str, key: str, *, now: datetime) -> Doc | None:
        found = await self._docs.find_one({"c": collection, "k": key, **_live(now)})
        return None if found is None else dict(found["doc"])

    async def get_many(
        self, collection: str, keys: Collection[str], *, now: datetime
    ) -> dict[str, Doc]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        cursor = self._docs.find({"c": collection, "k": {"$in": wanted}, **_live(now)})
        return {str(r["k"]): dict(r["doc"]) async for r in cursor}

    async def put_many(
        self,
        collection: str,
        docs: Mapping[str, Mapping[str, Any]],
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> None:
        writes = [
            ReplaceOne(
                {"c": collection, "k": key},
                self._record(collection, key, doc, None, expires_at),
                upsert=True,
            )
            for key, doc in docs.items()
        ]
        if writes:
            await self._docs.bulk_write(writes, ordered=False)

    async def put(
        self,
        collection: str,
        key: str,
        doc: Mapping[str, Any],
        *,
        now: datetime,
        group: str | None = None,
        expires_at: datetime | None = None,
    ) -> None:
        await self._docs.replace_one(
            {"c": collection, "k": key},
            self._record(collection, key, doc, group, expires_at),
            upsert=True,
        )

    async def add(
        self,
        collection: str,
        key: str,
        doc: Mapping[str, Any],
        *,
        now: datetime,
        group: str | None = None,
        expires_at: datetime | None = None,
    ) -> bool:
        record = self._record(collection, key, doc, group, expires_at)
        try:
            await self._docs.insert_one(dict(record))
            return True
        except DuplicateKeyError:
            pass
        # an expired document not yet removed is as good as none: take its place
        replaced = await self._docs.replace_one(
            {"c": collection, "k": key, "expires_at": {"$lte": now}}, record
        )
        return replaced.modified_count == 1

    async def take(self, collection: str, key: str, *, now: datetime) -> Doc | None:
        found = await self._docs.find_one_and_delete({"c": collection, "k": key, **_live(now)})
        return None if found is None else dict(found["doc"])

    async def delete(self, collection: str, key: str) -> bool:
        deleted = await self._docs.delete_one({"c": collection, "k": key})
        return deleted.deleted_count == 1

    async def in_group(self, collection: str, group: str, *, now: datetime) -> dict[str, Doc]:
        cursor = self._docs.find({"c": collection, "g": group, **_live(now)}).sort("k", ASCENDING)
        return {str(r["k"]): dict(r["doc"]) async for r in cursor}

    async def in_groups(
        self, collection: str, groups: Collection[str], *, now: datetime
    ) -> dict[str, dict[str, Doc]]:
        wanted = list(dict.fromkeys(groups))
        if not wanted:
            return {}
        cursor = self._docs.find({"c": collection, "g": {"$in": wanted}, **_live(now)}).sort(
            "k", ASCENDING
        )
        found: dict[str, dict[str, Doc]] = {}
        async for r in cursor:
            found.setdefault(str(r["g"]), {})[str(r["k"])] = dict(r["doc"])
        return found

    async def delete_group(self, collection: str, group: str, *, keep: str | None = None) -> int:
        where: Record = {"c": collection, "g": group}
        if keep is not None:
            where["k"] = {"$ne": keep}
        deleted = await self._docs.delete_many(where)
        return int(deleted.deleted_count)

    async def count(self, collection: str, *, now: datetime) -> int:
        return int(await self._docs.count_documents({"c": collection, **_live(now)}))

    async def hit(
        self, collection: str, key: str, *, limit: int, window: timedelta, now: datetime
    ) -> float | None:
        where = {"c": collection, "k": key}
        while True:
            counted = await self._docs.find_one_and_update(
                {**where, "expires_at": {"$gt": now}, "doc.count": {"$lt": limit}},
                {"$inc": {"doc.count": 1}},
                return_document=ReturnDocument.AFTER,
            )
            if counted is not None:
                return None
            full = await self._docs.find_one({**where, "expires_at": {"$gt": now}})
            if full is not None:
                return seconds_until(full["expires_at"], now)
            try:
                # no live window: open one. If another replica opened it first, the filter
                # misses its document and the upsert's insert clashes on the key: go round.
                await self._docs.update_one(
                    {**where, "expires_at": {"$not": {"$gt": now}}},
                    {
                        "$set": {
                            "g": None,
                            "doc": {"count": 1},
                            "expires_at": now + window,
                        }
                    },
                    upsert=True,
                )
                return None
            except DuplicateKeyError:
                continue

    async def retry_after(
        self, collection: str, key: str, *, limit: int, now: datetime
    ) -> float | None:
        found = await self._docs.find_one({"c": collection, "k": key, "expires_at": {"$gt": now}})
        if found is None or found["doc"]["count"] < limit:
            return None
        return seconds_until(found["expires_at"], now)

    async def purge(self, *, now: datetime) -> int:
        # {"$lte": now} matches dates only, never a null expiry
        deleted = await self._docs.delete_many({"expires_at": {"$lte": now}})
        return int(deleted.deleted_count)

    async def ping(self) -> None:
        await self._client.admin.command("ping")

    async def close(self) -> None:
        await self._client.close()
