"""Where subjects' data keys are kept: beside the private store's documents.

Embedded: a table of the private store's SQLite file. Cluster: a collection of the private
store's MongoDB database. Both keep only wrapped keys (``schoolgate_kit.crypto``), and an
erased subject's keys become tombstones: the wrapped bytes are deleted, not kept aside.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from schoolgate_kit.crypto import ERASED, Keyring, KeyStore

CHUNK = 500

SCHEMA = """
CREATE TABLE IF NOT EXISTS data_keys (
    key_id TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    wrapped BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS data_keys_by_subject ON data_keys (subject);
"""


class SqliteKeyStore:
    """One connection, used from any thread in turn. ``secure_delete`` overwrites an erased
    key's bytes in the file, and each erasure checkpoints the write-ahead log, so no copy of
    the key stays in either file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA busy_timeout = 10000")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA secure_delete = ON")
            self._conn.executescript(SCHEMA)

    def __reduce__(self) -> tuple[Any, ...]:
        return (SqliteKeyStore, (self.path,))

    def find(self, key_ids: Collection[str]) -> dict[str, bytes]:
        ids = list(key_ids)
        found: dict[str, bytes] = {}
        with self._lock:
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                marks = ",".join("?" * len(chunk))
                for key_id, wrapped in self._conn.execute(
                    f"SELECT key_id, wrapped FROM data_keys WHERE key_id IN ({marks})", chunk
                ):
                    found[key_id] = bytes(wrapped)
        return found

    def create(self, keys: Mapping[str, tuple[str, bytes]]) -> dict[str, bytes]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany(
                    "INSERT OR IGNORE INTO data_keys (key_id, subject, wrapped) VALUES (?, ?, ?)",
                    [(k, subject, wrapped) for k, (subject, wrapped) in keys.items()],
                )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return self.find(list(keys))

    def erase(self, subject: str, *, school_id: str | None) -> list[str]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                rows = self._conn.execute(
                    "SELECT key_id FROM data_keys WHERE subject = ?", (subject,)
                ).fetchall()
                erased = [k for (k,) in rows if school_id is None or k.startswith(f"{school_id}/")]
                if school_id is not None and not erased:
                    erased = [f"{school_id}/{subject}"]  # never written: still never to be made
                for key_id in erased:
                    # deleted, not updated: secure_delete zeroes a deleted cell's bytes
                    self._conn.execute("DELETE FROM data_keys WHERE key_id = ?", (key_id,))
                    self._conn.execute(
                        "INSERT INTO data_keys (key_id, subject, wrapped) VALUES (?, ?, ?)",
                        (key_id, subject, ERASED),
                    )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return erased

    def held_before(self, school_id: str, kind: str, before: str) -> list[str]:
        prefix = f"{school_id}/{kind}/"
        with self._lock:
            rows = self._conn.execute(
                "SELECT key_id FROM data_keys WHERE key_id >= ? AND key_id < ?"
                " AND length(wrapped) > 0 ORDER BY key_id",
                (prefix, prefix + before),
            ).fetchall()
        return [key_id.removeprefix(prefix) for (key_id,) in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class MongoKeyStore:
    """Collection ``data_keys`` of the private store's database, read with PyMongo's
    synchronous client (a read happens only on a cache miss)."""

    def __init__(self, url: str, database: str) -> None:
        from pymongo import ASCENDING, MongoClient

        self.url, self.database = url, database
        self._client: MongoClient[dict[str, Any]] = MongoClient(url, tz_aware=True)
        self._keys = self._client[database]["data_keys"]
        self._keys.create_index([("subject", ASCENDING)])

    def __reduce__(self) -> tuple[Any, ...]:
        return (MongoKeyStore, (self.url, self.database))

    def find(self, key_ids: Collection[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        ids = list(key_ids)
        for start in range(0, len(ids), CHUNK):
            for doc in self._keys.find({"_id": {"$in": ids[start : start + CHUNK]}}):
                found[doc["_id"]] = bytes(doc["wrapped"])
        return found

    def create(self, keys: Mapping[str, tuple[str, bytes]]) -> dict[str, bytes]:
        from pymongo import UpdateOne

        self._keys.bulk_write(
            [
                UpdateOne(
                    {"_id": k},
                    {"$setOnInsert": {"subject": subject, "wrapped": wrapped}},
                    upsert=True,
                )
                for k, (subject, wrapped) in keys.items()
            ],
            ordered=False,
        )
        return self.find(list(keys))

    def erase(self, subject: str, *, school_id: str | None) -> list[str]:
        query: dict[str, Any] = {"subject": subject}
        if school_id is not None:
            query["_id"] = {"$regex": f"^{re.escape(school_id)}/"}
        erased = [doc["_id"] for doc in self._keys.find(query, {"_id": 1})]
        if school_id is not None and not erased:
            erased = [f"{school_id}/{subject}"]
        for key_id in erased:
            self._keys.replace_one(
                {"_id": key_id}, {"subject": subject, "wrapped": ERASED}, upsert=True
            )
        return erased

    def held_before(self, school_id: str, kind: str, before: str) -> list[str]:
        prefix = f"{school_id}/{kind}/"
        query = {"_id": {"$gte": prefix, "$lt": prefix + before}, "wrapped": {"$ne": ERASED}}
        found = self._keys.find(query, {"_id": 1}).sort("_id", 1)
        return [doc["_id"].removeprefix(prefix) for doc in found]

    def close(self) -> None:
        self._client.close()


def open_key_store(private_store_url: str, *, database: str = "schoolgate_private") -> KeyStore:
    if private_store_url.startswith("sqlite:///"):
        return SqliteKeyStore(Path(private_store_url.removeprefix("sqlite:///")))
    if private_store_url.startswith(("mongodb://", "mongodb+srv://")):
        return MongoKeyStore(private_store_url, database)
    raise ValueError(f"SCHOOLGATE_PRIVATE_STORE_URL: no key store for {private_store_url!r}")


def open_keyring(master_secret: str, private_store_url: str) -> Keyring:
    return Keyring(master_secret, open_key_store(private_store_url))
