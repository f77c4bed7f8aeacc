"""The embedded read-model store: JSON documents in SQLite, one transaction per commit."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from schoolgate_kit.readmodels.port import Doc
from schoolgate_kit.sqlite import SqliteDatabase, transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS generations (
    projection TEXT NOT NULL,
    generation INTEGER NOT NULL,
    active INTEGER NOT NULL DEFAULT 0,
    checkpoint INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (projection, generation)
);
CREATE TABLE IF NOT EXISTS documents (
    projection TEXT NOT NULL,
    generation INTEGER NOT NULL,
    key TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (projection, generation, key)
);
"""

_FIELD = "json_extract(doc, ?)"


def _path(field: str) -> str:
    if not field.replace("_", "").isalnum():
        raise ValueError(f"not a field name: {field!r}")
    return f"$.{field}"


class SqliteReadModelStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    @classmethod
    async def open(cls, path: Path, *, synchronous: str = "NORMAL") -> SqliteReadModelStore:
        """``NORMAL``, not the event store's ``FULL``: read models can be rebuilt from the
        log, and in WAL mode a power cut can only lose the newest commits whole, checkpoints
        with them, so projections and the relay simply redo them. Not waiting for the disk on
        every commit is what keeps an award visible to the family within milliseconds."""
        db = SqliteDatabase(path, readers=4, synchronous=synchronous)
        await db.write(lambda conn: conn.executescript(SCHEMA))
        return cls(db)

    @staticmethod
    def _active(conn: sqlite3.Connection, projection: str) -> int | None:
        row = conn.execute(
            "SELECT generation FROM generations WHERE projection = ? AND active = 1",
            (projection,),
        ).fetchone()
        return None if row is None else int(row[0])

    async def active_generation(self, projection: str) -> int | None:
        return await self._db.read(lambda c: self._active(c, projection))

    async def start_generation(self, projection: str) -> int:
        def start(conn: sqlite3.Connection) -> int:
            with transaction(conn):
                row = conn.execute(
                    "SELECT coalesce(max(generation), 0) FROM generations WHERE projection = ?",
                    (projection,),
                ).fetchone()
                generation = int(row[0]) + 1
                conn.execute(
                    "INSERT INTO generations (projection, generation) VALUES (?, ?)",
                    (projection, generation),
                )
            return generation

        return await self._db.write(start)

    async def activate(self, projection: str, generation: int) -> None:
        def swap(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                found = conn.execute(
                    "SELECT 1 FROM generations WHERE projection = ? AND generation = ?",
                    (projection, generation),
                ).fetchone()
                if found is None:
                    raise LookupError(f"{projection} has no generation {generation}")
                conn.execute(
                    "DELETE FROM documents WHERE projection = ? AND generation != ?",
                    (projection, generation),
                )
                conn.execute(
                    "DELETE FROM generations WHERE projection = ? AND generation != ?",
                    (projection, generation),
                )
                conn.execute(
                    "UPDATE generations SET active = 1 WHERE projection = ? AND generation = ?",
                    (projection, generation),
                )

        await self._db.write(swap)

    async def checkpoint(self, projection: str, generation: int) -> int:
        row = await self._db.read(
            lambda c: c.execute(
                "SELECT checkpoint FROM generations WHERE projection = ? AND generation = ?",
                (projection, generation),
            ).fetchone()
        )
        return 0 if row is None else int(row[0])

    async def load(self, projection: str, generation: int, keys: Collection[str]) -> dict[str, Doc]:
        wanted = list(keys)
        if not wanted:
            return {}

        def load(conn: sqlite3.Connection) -> dict[str, Doc]:
            found: dict[str, Doc] = {}
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for key, doc in conn.execute(
                    f"SELECT key, doc FROM documents WHERE projection = ? AND generation = ?"
                    f" AND key IN ({marks})",
                    (projection, generation, *chunk),
                ):
                    found[key] = json.loads(doc)
            return found

        return await self._db.read(load)

    async def commit(
        self,
        projection: str,
        generation: int,
        changes: Mapping[str, Doc | None],
        checkpoint: int | None,
    ) -> bool:
        upserts = [
            (projection, generation, key, json.dumps(doc, separators=(",", ":")))
            for key, doc in changes.items()
            if doc is not None
        ]
        deletes = [(projection, generation, key) for key, doc in changes.items() if doc is None]

        def commit(conn: sqlite3.Connection) -> bool:
            with transaction(conn):
                exists = conn.execute(
                    "SELECT 1 FROM generations WHERE projection = ? AND generation = ?",
                    (projection, generation),
                ).fetchone()
                if exists is None:
                    if generation != 0:
                        return False
                    # generation 0 is for single-document state (checkpoints, ledgers)
                    conn.execute(
                        "INSERT INTO generations (projection, generation, active) VALUES (?, 0, 1)",
                        (projection,),
                    )
                conn.executemany(
                    "INSERT INTO documents (projection, generation, key, doc) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (projection, generation, key) DO UPDATE SET doc = excluded.doc",
                    upserts,
                )
                conn.executemany(
                    "DELETE FROM documents WHERE projection = ? AND generation = ? AND key = ?",
                    deletes,
                )
                if checkpoint is not None:
                    conn.execute(
                        "UPDATE generations SET checkpoint = ? WHERE projection = ?"
                        " AND generation = ?",
                        (checkpoint, projection, generation),
                    )
            return True

        return await self._db.write(commit)

    async def get(self, projection: str, key: str) -> Doc | None:
        def get(conn: sqlite3.Connection) -> Doc | None:
            row = conn.execute(
                "SELECT d.doc FROM documents d JOIN generations g"
                " ON g.projection = d.projection AND g.generation = d.generation AND g.active = 1"
                " WHERE d.projection = ? AND d.key = ?",
                (projection, key),
            ).fetchone()
            return None if row is None else dict(json.loads(row[0]))

        return await self._db.read(get)

    async def find(
        self,
        projection: str,
        where: Mapping[str, Any],
        *,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
    ) -> list[Doc]:
        sql = (
            "SELECT d.doc FROM documents d JOIN generations g"
            " ON g.projection = d.projection AND g.generation = d.generation AND g.active = 1"
            " WHERE d.projection = ?"
        )
        params: list[Any] = [projection]
        for field, value in where.items():
            sql += f" AND {_FIELD} = ?"
            params += [_path(field), value]
        if order_by is not None:
            sql += f" ORDER BY {_FIELD} {'DESC' if descending else 'ASC'}"
            params.append(_path(order_by))
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        rows = await self._db.read(lambda c: c.execute(sql, params).fetchall())
        return [dict(json.loads(row[0])) for row in rows]

    async def ping(self) -> None:
        await self._db.read(lambda c: c.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        await self._db.close()
