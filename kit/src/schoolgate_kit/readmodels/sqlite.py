"""The embedded read-model store: JSON documents in SQLite, one transaction per commit.

``ensure_index`` makes a partial expression index over one projection's rows only (``WHERE
projection = '...'``), so no other projection pays for it on its writes; ``find`` writes
each field as the same literal ``json_extract`` expression, which is what lets SQLite use
such an index, for the bound and for the order (no sort of every match).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from schoolgate_kit.readmodels.port import Doc, OneOf
from schoolgate_kit.sqlite import GroupCommit, Outcome, SqliteDatabase, insert_many, transaction

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


def _dumps(doc: Doc) -> str:
    """Compact JSON, as text (SQLite's JSON functions read text); orjson, as a rebuild
    writes a document for every few events and json.dumps was a tenth of its time."""
    return orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS).decode()


def _path(field: str) -> str:
    if not field.replace("_", "").isalnum() or not field.isascii():
        raise ValueError(f"not a field name: {field!r}")
    return f"$.{field}"


def _field(field: str, table: str = "d.") -> str:
    """The SQL for a document's top-level field; the path is checked, so it can be inline."""
    return f"json_extract({table}doc, '{_path(field)}')"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def find_sql(
    projection: str,
    where: Mapping[str, Any],
    *,
    order_by: str | None = None,
    descending: bool = False,
    limit: int | None = None,
    before: tuple[str, Any] | None = None,
) -> tuple[str, list[Any]]:
    """The statement ``find`` runs, and its parameters.

    A ``OneOf`` in an ordered, limited find becomes one ordered, limited range per value,
    merged by SQLite (``UNION ALL`` under an outer order and limit): each range is an index
    range scan, where ``IN`` would read every match to sort them.
    """
    choices = [(f, v) for f, v in where.items() if isinstance(v, OneOf)]
    if len(choices) != 1 or order_by is None or limit is None:
        return _select(projection, where, order_by, descending, limit, before)
    field, choice = choices[0]
    if len(set(choice.values)) == 1:
        where = {**where, field: choice.values[0]}
        return _select(projection, where, order_by, descending, limit, before)
    parts: list[str] = []
    params: list[Any] = []
    for value in dict.fromkeys(choice.values):
        part, part_params = _select(
            projection, {**where, field: value}, order_by, descending, limit, before, merged=True
        )
        parts.append(f"SELECT * FROM ({part})")
        params += part_params
    if not parts:
        return "SELECT NULL WHERE 0", []
    direction = "DESC" if descending else "ASC"
    sql = f"SELECT doc FROM ({' UNION ALL '.join(parts)}) ORDER BY o {direction}, k {direction}"
    return f"{sql} LIMIT ?", [*params, limit]


def _select(
    projection: str,
    where: Mapping[str, Any],
    order_by: str | None,
    descending: bool,
    limit: int | None,
    before: tuple[str, Any] | None,
    *,
    merged: bool = False,
) -> tuple[str, list[Any]]:
    # One statement (the generation as a subquery), so a rebuild swapping generations never
    # shows a half; equality on the generation lets an index serve the rest.
    columns = "d.doc"
    if merged and order_by is not None:
        columns = f"d.doc AS doc, {_field(order_by)} AS o, d.key AS k"
    sql = (
        f"SELECT {columns} FROM documents d WHERE d.projection = ? AND d.generation ="
        " (SELECT generation FROM generations WHERE projection = ? AND active = 1)"
    )
    params: list[Any] = [projection, projection]
    for field, value in where.items():
        if isinstance(value, OneOf):
            marks = ", ".join("?" * len(value.values))
            sql += f" AND {_field(field)} IN ({marks})" if marks else " AND 0"
            params += value.values
        else:
            sql += f" AND {_field(field)} = ?"
            params.append(value)
    if before is not None:
        field, value = before
        sql += f" AND {_field(field)} < ?"
        params.append(value)
    if order_by is not None:
        direction = "DESC" if descending else "ASC"
        sql += f" ORDER BY {_field(order_by)} {direction}, d.key {direction}"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return sql, params


@dataclass(frozen=True, slots=True)
class _Change:
    """One commit, its rows already made on the event loop."""

    projection: str
    generation: int
    upserts: list[tuple[str, int, str, str]]
    deletes: list[tuple[str, int, str]]
    checkpoint: int | None


class _Commits(GroupCommit[_Change]):
    """Commits, a group in a handful of statements (``insert_many`` says why), each decided
    in order as if alone: one to a generation that is gone writes nothing and answers
    False; where two change one document, the later wins."""

    def run(self, conn: sqlite3.Connection, group: list[_Change]) -> list[Outcome]:
        names = list({change.projection for change in group})
        existing = set(
            conn.execute(
                "SELECT projection, generation FROM generations"
                f" WHERE projection IN ({','.join('?' * len(names))})",
                names,
            ).fetchall()
        )
        outcomes: list[Outcome] = []
        final: dict[tuple[str, int, str], tuple[str, int, str, str] | None] = {}
        checkpoints: dict[tuple[str, int], int] = {}
        for change in group:
            at = (change.projection, change.generation)
            if at not in existing:
                if change.generation != 0:
                    outcomes.append((True, False))
                    continue
                # generation 0 is for single-document state (checkpoints, ledgers)
                conn.execute(
                    "INSERT INTO generations (projection, generation, active) VALUES (?, 0, 1)",
                    (change.projection,),
                )
                existing.add(at)
            outcomes.append((True, True))
            final.update((row[:3], row) for row in change.upserts)
            final.update(dict.fromkeys(change.deletes))
            if change.checkpoint is not None:
                checkpoints[at] = change.checkpoint
        upserts = [row for row in final.values() if row is not None]
        deletes = [key for key, row in final.items() if row is None]
        insert_many(
            conn,
            "documents (projection, generation, key, doc)",
            4,
            upserts,
            "ON CONFLICT (projection, generation, key) DO UPDATE SET doc = excluded.doc",
        )
        if deletes:
            conn.executemany(
                "DELETE FROM documents WHERE projection = ? AND generation = ? AND key = ?",
                deletes,
            )
        conn.executemany(
            "UPDATE generations SET checkpoint = ? WHERE projection = ? AND generation = ?",
            [(checkpoint, *at) for at, checkpoint in checkpoints.items()],
        )
        return outcomes


class SqliteReadModelStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        self._commits = _Commits(db)

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
                    found[key] = orjson.loads(doc)
            return found

        return await self._db.read(load)

    async def commit(
        self,
        projection: str,
        generation: int,
        changes: Mapping[str, Doc | None],
        checkpoint: int | None,
    ) -> bool:
        # in key order: SQLite then fills its index pages one after another, not at random
        # (writing a 1,000,000-event rebuild's 150,000 documents took 1.3 s instead of 1.47);
        # keys are unique, so the sort never compares documents
        upserts = [
            (projection, generation, key, _dumps(doc))
            for key, doc in sorted(changes.items())
            if doc is not None
        ]
        deletes = [(projection, generation, key) for key, doc in changes.items() if doc is None]
        done: bool = await self._commits.submit(
            _Change(projection, generation, upserts, deletes, checkpoint)
        )
        return done

    async def get(self, projection: str, key: str) -> Doc | None:
        def get(conn: sqlite3.Connection) -> Doc | None:
            row = conn.execute(
                "SELECT d.doc FROM documents d JOIN generations g"
                " ON g.projection = d.projection AND g.generation = d.generation AND g.active = 1"
                " WHERE d.projection = ? AND d.key = ?",
                (projection, key),
            ).fetchone()
            return None if row is None else dict(orjson.loads(row[0]))

        return await self._db.read(get)

    async def get_many(self, projection: str, keys: Collection[str]) -> dict[str, Doc]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}

        def get_many(conn: sqlite3.Connection) -> dict[str, Doc]:
            found: dict[str, Doc] = {}
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for key, doc in conn.execute(
                    "SELECT key, doc FROM documents WHERE projection = ? AND generation ="
                    " (SELECT generation FROM generations WHERE projection = ? AND active = 1)"
                    f" AND key IN ({marks})",
                    (projection, projection, *chunk),
                ):
                    found[key] = orjson.loads(doc)
            return found

        return await self._db.read(get_many)

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
        sql, params = find_sql(
            projection,
            where,
            order_by=order_by,
            descending=descending,
            limit=limit,
            before=before,
        )
        rows = await self._db.read(lambda c: c.execute(sql, params).fetchall())
        return [dict(orjson.loads(row[0])) for row in rows]

    async def purge(
        self, projection: str, where: Mapping[str, Any], *, before: tuple[str, Any]
    ) -> int:
        if any(isinstance(value, OneOf) for value in where.values()):
            raise ValueError("purge names each field's one value")
        bounded, bound = before
        clauses = [f"{_field(name, table='')} = ?" for name in where]
        clauses.append(f"{_field(bounded, table='')} < ?")
        sql = f"DELETE FROM documents WHERE projection = ? AND {' AND '.join(clauses)}"
        params = [projection, *where.values(), bound]

        def purge(conn: sqlite3.Connection) -> int:
            return conn.execute(sql, params).rowcount

        purged: int = await self._db.write(purge)
        return purged

    async def ensure_index(self, projection: str, fields: tuple[str, ...]) -> None:
        if not fields:
            raise ValueError("an index needs at least one field")
        columns = ", ".join(["generation", *(_field(f, table="") for f in fields), "key"])
        digest = hashlib.sha256(f"{projection}\0{fields}".encode()).hexdigest()[:16]
        sql = (
            f"CREATE INDEX IF NOT EXISTS readmodel_{digest} ON documents ({columns})"
            f" WHERE projection = {_literal(projection)}"
        )
        await self._db.write(lambda conn: conn.execute(sql))

    async def ping(self) -> None:
        await self._db.read(lambda c: c.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        await self._commits.close()
        await self._db.close()
