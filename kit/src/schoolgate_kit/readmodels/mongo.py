"""The cluster read-model store: documents in MongoDB through PyMongo's asyncio client.

Two collections serve every projection: ``generations`` (one row per projection and
generation: whether it is active, and its checkpoint) and ``documents`` (one per
projection, generation and key, the projection's document under ``doc``, so its fields can
never collide with ours).

A ``commit`` is not one transaction: that would need a replica set. Documents are written
first, then the checkpoint. A crash in between leaves documents ahead of the checkpoint;
the runner tolerates that, because each document carries the position it reflects
(``_position``) and events it already holds are skipped on the way round again.

``ensure_index`` adds a compound index (projection, generation, the fields, key) to
``documents``. It is not partial: projections asking for the same fields share it, and
MongoDB refuses a second index on the same keys that differs only in its filter.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, DeleteOne, ReplaceOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from schoolgate_kit.readmodels.port import Doc, OneOf

Record = dict[str, Any]

LOAD_CHUNK = 1000
"""Keys per ``$in`` query: far below MongoDB's 16 MB command limit for any sane key."""


def field(name: str) -> str:
    """The stored path of a projection document's top-level field."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"not a field name: {name!r}")
    return f"doc.{name}"


def where_filter(where: Mapping[str, Any]) -> Record:
    """The query for documents whose top-level fields equal ``where`` (or, for a ``OneOf``,
    any of its values: MongoDB merges the index ranges of an ``$in`` in sort order)."""
    # ``$eq`` keeps a value that happens to be a mapping a value, never an operator.
    query: Record = {}
    for name, value in where.items():
        if isinstance(value, OneOf):
            query[field(name)] = {"$in": list(value.values)}
        else:
            query[field(name)] = {"$eq": value}
    return query


def writes(
    projection: str, generation: int, changes: Mapping[str, Doc | None]
) -> list[ReplaceOne[Record] | DeleteOne]:
    """The bulk write for ``changes``: a replace (or insert) per document, a delete per None."""
    ops: list[ReplaceOne[Record] | DeleteOne] = []
    for key, doc in changes.items():
        where = {"projection": projection, "generation": generation, "key": key}
        if doc is None:
            ops.append(DeleteOne(where))
        else:
            ops.append(ReplaceOne(where, {**where, "doc": doc}, upsert=True))
    return ops


class MongoReadModelStore:
    def __init__(self, client: AsyncMongoClient[Record], database: str) -> None:
        self._client = client
        db = client[database]
        self._generations: AsyncCollection[Record] = db["generations"]
        self._documents: AsyncCollection[Record] = db["documents"]

    @classmethod
    async def open(cls, uri: str, database: str) -> MongoReadModelStore:
        client: AsyncMongoClient[Record] = AsyncMongoClient(uri, tz_aware=True)
        store = cls(client, database)
        try:
            await store._ensure_indexes()
        except BaseException:
            await client.close()
            raise
        return store

    async def _ensure_indexes(self) -> None:
        await self._generations.create_index(
            [("projection", ASCENDING), ("generation", ASCENDING)], unique=True
        )
        await self._documents.create_index(
            [("projection", ASCENDING), ("generation", ASCENDING), ("key", ASCENDING)],
            unique=True,
        )

    @staticmethod
    def _one(projection: str, generation: int) -> Record:
        return {"projection": projection, "generation": generation}

    async def active_generation(self, projection: str) -> int | None:
        # ``activate`` marks the new generation before it drops the old one: for that
        # moment, the newer of the two is the one to read.
        row = await self._generations.find_one(
            {"projection": projection, "active": True},
            projection={"generation": 1},
            sort=[("generation", DESCENDING)],
        )
        return None if row is None else int(row["generation"])

    async def start_generation(self, projection: str) -> int:
        while True:
            newest = await self._generations.find_one(
                {"projection": projection},
                projection={"generation": 1},
                sort=[("generation", DESCENDING)],
            )
            generation = 1 if newest is None else int(newest["generation"]) + 1
            try:
                await self._generations.insert_one(
                    {**self._one(projection, generation), "active": False, "checkpoint": 0}
                )
            except DuplicateKeyError:
                continue  # another caller took this number first
            # Ours now. A writer that lost a race with ``activate`` may have left
            # documents under this number before it learnt its generation was gone.
            await self._documents.delete_many(self._one(projection, generation))
            return generation

    async def activate(self, projection: str, generation: int) -> None:
        marked = await self._generations.update_one(
            self._one(projection, generation), {"$set": {"active": True}}
        )
        if marked.matched_count == 0:
            raise LookupError(f"{projection} has no generation {generation}")
        others = {"projection": projection, "generation": {"$ne": generation}}
        await self._generations.delete_many(others)
        await self._documents.delete_many(others)

    async def checkpoint(self, projection: str, generation: int) -> int:
        row = await self._generations.find_one(
            self._one(projection, generation), projection={"checkpoint": 1}
        )
        return 0 if row is None else int(row["checkpoint"])

    async def load(self, projection: str, generation: int, keys: Collection[str]) -> dict[str, Doc]:
        wanted = list(keys)
        found: dict[str, Doc] = {}
        for start in range(0, len(wanted), LOAD_CHUNK):
            chunk = wanted[start : start + LOAD_CHUNK]
            cursor = self._documents.find(
                {**self._one(projection, generation), "key": {"$in": chunk}},
                projection={"_id": 0, "key": 1, "doc": 1},
            )
            async for record in cursor:
                found[record["key"]] = record["doc"]
        return found

    async def _exists(self, projection: str, generation: int) -> bool:
        if generation == 0:
            # Generation 0 holds single-document state (checkpoints, ledgers): it is
            # created active by its first write instead of by a rebuild.
            await self._generations.update_one(
                self._one(projection, 0),
                {"$setOnInsert": {"active": True, "checkpoint": 0}},
                upsert=True,
            )
            return True
        row = await self._generations.find_one(self._one(projection, generation))
        return row is not None

    async def commit(
        self,
        projection: str,
        generation: int,
        changes: Mapping[str, Doc | None],
        checkpoint: int | None,
    ) -> bool:
        if not await self._exists(projection, generation):
            return False
        ops = writes(projection, generation, changes)
        if ops:
            await self._documents.bulk_write(ops, ordered=True)
        if checkpoint is not None:
            moved = await self._generations.update_one(
                self._one(projection, generation), {"$set": {"checkpoint": checkpoint}}
            )
            still_there = moved.matched_count == 1
        elif ops:
            still_there = (
                await self._generations.find_one(self._one(projection, generation)) is not None
            )
        else:
            still_there = True
        if not still_there:
            # ``activate`` dropped this generation while we wrote to it: take back what
            # we wrote, so "False" keeps meaning "wrote nothing".
            await self._documents.delete_many(self._one(projection, generation))
            return False
        return True

    async def get(self, projection: str, key: str) -> Doc | None:
        generation = await self.active_generation(projection)
        if generation is None:
            return None
        record = await self._documents.find_one(
            {**self._one(projection, generation), "key": key}, projection={"_id": 0, "doc": 1}
        )
        return None if record is None else dict(record["doc"])

    async def get_many(self, projection: str, keys: Collection[str]) -> dict[str, Doc]:
        generation = await self.active_generation(projection)
        if generation is None:
            return {}
        return {k: dict(d) for k, d in (await self.load(projection, generation, keys)).items()}

    async def find(
        self,
        projection: str,
        where: Mapping[str, Any],
        *,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
        before: tuple[str, Any] | None = None,
    ) -> list[Doc]:
        query = where_filter(where)
        if before is not None:
            bounded, value = before
            query.setdefault(field(bounded), {})["$lt"] = value
        sort = None if order_by is None else field(order_by)
        generation = await self.active_generation(projection)
        if generation is None or limit == 0:
            return []
        cursor = self._documents.find(
            {**query, **self._one(projection, generation)}, projection={"_id": 0, "doc": 1}
        )
        if sort is not None:
            direction = DESCENDING if descending else ASCENDING
            cursor = cursor.sort([(sort, direction), ("key", direction)])
        if limit is not None:
            cursor = cursor.limit(limit)
        return [dict(record["doc"]) async for record in cursor]

    async def purge(
        self, projection: str, where: Mapping[str, Any], *, before: tuple[str, Any]
    ) -> int:
        if any(isinstance(value, OneOf) for value in where.values()):
            raise ValueError("purge names each field's one value")
        query = where_filter(where)
        bounded, value = before
        query.setdefault(field(bounded), {})["$lt"] = value
        result = await self._documents.delete_many({**query, "projection": projection})
        return int(result.deleted_count)

    async def ensure_index(self, projection: str, fields: tuple[str, ...]) -> None:
        if not fields:
            raise ValueError("an index needs at least one field")
        await self._documents.create_index(
            [
                ("projection", ASCENDING),
                ("generation", ASCENDING),
                *((field(name), ASCENDING) for name in fields),
                ("key", ASCENDING),
            ]
        )

    async def ping(self) -> None:
        await self._client.admin.command("ping")

    async def close(self) -> None:
        await self._client.close()
