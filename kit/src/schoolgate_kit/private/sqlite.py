"""The embedded private store: one table in an SQLite file that every process opens.

Expiry is a number (seconds since the epoch) so a read compares it in the index; expired
rows are ignored by every read and deleted by the first call (read or write) at least a
minute of the callers' time (``PURGE_EVERY``) after the last purge, so the file keeps
neither dead sessions and counters nor expired codes and client addresses for long. A store
used only for reading purges too: a gateway that only checks sessions must still forget
last week's sign-in counters.

The writer runs with ``secure_delete``: SQLite then overwrites a deleted row's bytes (and
freed pages) with zeros instead of leaving them in the file's free space, so a purged code
or address cannot be read back off the disk (nor off the write-ahead log once it is
checkpointed).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from schoolgate_kit.private.port import Doc
from schoolgate_kit.sqlite import SqliteDatabase, transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS private_documents (
    collection TEXT NOT NULL,
    key TEXT NOT NULL,
    grp TEXT,
    doc TEXT NOT NULL,
    expires_at REAL,
    PRIMARY KEY (collection, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS private_documents_by_group
    ON private_documents (collection, grp) WHERE grp IS NOT NULL;
CREATE INDEX IF NOT EXISTS private_documents_by_expiry
    ON private_documents (expires_at) WHERE expires_at IS NOT NULL;
"""

PURGE_EVERY = timedelta(minutes=1)
LIVE = "(expires_at IS NULL OR expires_at > ?)"
CHUNK = 500
"""Keys per query of a many-key read: well under SQLite's limit on bound values."""


def _stamp(at: datetime | None) -> float | None:
    return None if at is None else at.timestamp()


class SqlitePrivateStore:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        self._purged: float | None = None

    @classmethod
    async def open(cls, path: Path) -> SqlitePrivateStore:
        db = SqliteDatabase(path)
        # per connection (every write goes through this one); Debian builds SQLite with it on
        # by default, other builds do not
        await db.write(lambda conn: conn.executescript("PRAGMA secure_delete=ON;" + SCHEMA))
        return cls(db)

    def _due(self, now: float) -> bool:
        return self._purged is None or now - self._purged >= PURGE_EVERY.total_seconds()

    def _purge(self, conn: sqlite3.Connection, now: float, *, force: bool = False) -> int:
        """In the writer thread, inside a write's transaction."""
        if not force and not self._due(now):
            return 0
        gone = conn.execute("DELETE FROM private_documents WHERE expires_at <= ?", (now,))
        self._purged = now
        return int(gone.rowcount)

    async def purge(self, *, now: datetime) -> int:
        def purge(conn: sqlite3.Connection) -> int:
            with transaction(conn):
                return self._purge(conn, now.timestamp(), force=True)

        return await self._db.write(purge)

    async def _purge_if_due(self, now: datetime) -> None:
        """Before a read: a purge a minute costs that read one indexed delete. Reads racing
        past the check queue behind the first; the writer thread finds them no longer due."""
        at = now.timestamp()
        if self._due(at):

            def purge(conn: sqlite3.Connection) -> None:
                with transaction(conn):
                    self._purge(conn, at)

            await self._db.write(purge)

    async def get(self, collection: str, key: str, *, now: datetime) -> Doc | None:
        await self._purge_if_due(now)
        row = await self._db.read(
            lambda c: c.execute(
                f"SELECT doc FROM private_documents WHERE collection = ? AND key = ? AND {LIVE}",
                (collection, key, now.timestamp()),
            ).fetchone()
        )
        return None if row is None else dict(json.loads(row[0]))

    async def get_many(
        self, collection: str, keys: Collection[str], *, now: datetime
    ) -> dict[str, Doc]:
        await self._purge_if_due(now)
        wanted = list(dict.fromkeys(keys))

        def read(c: sqlite3.Connection) -> list[tuple[str, str]]:
            rows: list[tuple[str, str]] = []
            for start in range(0, len(wanted), CHUNK):
                part = wanted[start : start + CHUNK]
                marks = ",".join("?" * len(part))
                rows += c.execute(
                    "SELECT key, doc FROM private_documents"
                    f" WHERE collection = ? AND key IN ({marks}) AND {LIVE}",
                    (collection, *part, now.timestamp()),
                ).fetchall()
            return rows

        return {str(k): dict(json.loads(d)) for k, d in await self._db.read(read)}

    async def put_many(
        self,
        collection: str,
        docs: Mapping[str, Mapping[str, Any]],
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> None:
        rows = [
            (collection, key, None, json.dumps(dict(doc)), _stamp(expires_at))
            for key, doc in docs.items()
        ]

        def put(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                self._purge(conn, now.timestamp())
                conn.executemany(
                    "INSERT OR REPLACE INTO private_documents VALUES (?, ?, ?, ?, ?)", rows
                )

        if rows:
            await self._db.write(put)

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
        row = (collection, key, group, json.dumps(dict(doc)), _stamp(expires_at))

        def put(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                self._purge(conn, now.timestamp())
                conn.execute("INSERT OR REPLACE INTO private_documents VALUES (?, ?, ?, ?, ?)", row)

        await self._db.write(put)

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
        row = (collection, key, group, json.dumps(dict(doc)), _stamp(expires_at))

        def add(conn: sqlite3.Connection) -> bool:
            with transaction(conn):
                self._purge(conn, now.timestamp())
                # an expired row is as good as none: take its place
                added = conn.execute(
                    "INSERT INTO private_documents VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (collection, key) DO UPDATE SET grp = excluded.grp,"
                    " doc = excluded.doc, expires_at = excluded.expires_at"
                    " WHERE private_documents.expires_at <= ?",
                    (*row, now.timestamp()),
                ).rowcount
                return bool(added == 1)

        return await self._db.write(add)

    async def take(self, collection: str, key: str, *, now: datetime) -> Doc | None:
        def take(conn: sqlite3.Connection) -> Doc | None:
            with transaction(conn):
                self._purge(conn, now.timestamp())
                row = conn.execute(
                    "DELETE FROM private_documents WHERE collection = ? AND key = ?"
                    " RETURNING doc, expires_at",
                    (collection, key),
                ).fetchone()
            if row is None or (row[1] is not None and row[1] <= now.timestamp()):
                return None
            return dict(json.loads(row[0]))

        return await self._db.write(take)

    async def delete(self, collection: str, key: str) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            with transaction(conn):
                return bool(
                    conn.execute(
                        "DELETE FROM private_documents WHERE collection = ? AND key = ?",
                        (collection, key),
                    ).rowcount
                )

        return await self._db.write(delete)

    async def in_group(self, collection: str, group: str, *, now: datetime) -> dict[str, Doc]:
        await self._purge_if_due(now)
        rows = await self._db.read(
            lambda c: c.execute(
                "SELECT key, doc FROM private_documents"
                f" WHERE collection = ? AND grp = ? AND {LIVE} ORDER BY key",
                (collection, group, now.timestamp()),
            ).fetchall()
        )
        return {str(key): dict(json.loads(doc)) for key, doc in rows}

    async def in_groups(
        self, collection: str, groups: Collection[str], *, now: datetime
    ) -> dict[str, dict[str, Doc]]:
        await self._purge_if_due(now)
        wanted = list(dict.fromkeys(groups))

        def read(c: sqlite3.Connection) -> list[tuple[str, str, str]]:
            rows: list[tuple[str, str, str]] = []
            for start in range(0, len(wanted), CHUNK):
                part = wanted[start : start + CHUNK]
                marks = ",".join("?" * len(part))
                rows += c.execute(
                    "SELECT grp, key, doc FROM private_documents"
                    f" WHERE collection = ? AND grp IN ({marks}) AND {LIVE} ORDER BY key",
                    (collection, *part, now.timestamp()),
                ).fetchall()
            return rows

        found: dict[str, dict[str, Doc]] = {}
        for group, key, doc in await self._db.read(read):
            found.setdefault(str(group), {})[str(key)] = dict(json.loads(doc))
        return found

    async def delete_group(self, collection: str, group: str, *, keep: str | None = None) -> int:
        def delete(conn: sqlite3.Connection) -> int:
            with transaction(conn):
                return int(
                    conn.execute(
                        "DELETE FROM private_documents"
                        " WHERE collection = ? AND grp = ? AND key IS NOT ?",
                        (collection, group, keep),
                    ).rowcount
                )

        return await self._db.write(delete)

    async def count(self, collection: str, *, now: datetime) -> int:
        await self._purge_if_due(now)
        row = await self._db.read(
            lambda c: c.execute(
                f"SELECT count(*) FROM private_documents WHERE collection = ? AND {LIVE}",
                (collection, now.timestamp()),
            ).fetchone()
        )
        return int(row[0])

    async def hit(
        self, collection: str, key: str, *, limit: int, window: timedelta, now: datetime
    ) -> float | None:
        at = now.timestamp()

        def hit(conn: sqlite3.Connection) -> float | None:
            with transaction(conn):
                self._purge(conn, at)
                row = conn.execute(
                    "SELECT doc, expires_at FROM private_documents"
                    f" WHERE collection = ? AND key = ? AND {LIVE}",
                    (collection, key, at),
                ).fetchone()
                if row is None:
                    doc, ends = {"count": 1}, at + window.total_seconds()
                else:
                    doc, ends = json.loads(row[0]), float(row[1])
                    if doc["count"] >= limit:
                        return ends - at
                    doc["count"] += 1
                conn.execute(
                    "INSERT OR REPLACE INTO private_documents VALUES (?, ?, NULL, ?, ?)",
                    (collection, key, json.dumps(doc), ends),
                )
                return None

        return await self._db.write(hit)

    async def retry_after(
        self, collection: str, key: str, *, limit: int, now: datetime
    ) -> float | None:
        await self._purge_if_due(now)
        row = await self._db.read(
            lambda c: c.execute(
                "SELECT doc, expires_at FROM private_documents"
                f" WHERE collection = ? AND key = ? AND {LIVE}",
                (collection, key, now.timestamp()),
            ).fetchone()
        )
        if row is None or json.loads(row[0])["count"] < limit:
            return None
        return float(row[1]) - now.timestamp()

    async def ping(self) -> None:
        await self._db.read(lambda c: c.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        await self._db.close()
