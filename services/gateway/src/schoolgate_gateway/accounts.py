"""Accounts and sessions: the gateway's own store. Nothing here ever enters the event log.

Passwords are Argon2 hashes; a session is a random token the browser holds in an HttpOnly
cookie, stored here only as its SHA-256, so a copy of this file opens no session.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pwdlib import PasswordHash
from schoolgate_kit.identity import Identity, Role
from schoolgate_kit.sqlite import SqliteDatabase, transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    school_id TEXT NOT NULL,
    class_ids TEXT NOT NULL DEFAULT '[]',
    pupil_ids TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL
);
"""

hasher = PasswordHash.recommended()
# Verified against when an email is unknown, so both answers take as long.
_DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Account:
    account_id: str
    email: str
    display_name: str
    identity: Identity


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _account(row: sqlite3.Row | tuple[str, ...]) -> Account:
    account_id, email, name, role, school, classes, pupils = row
    return Account(
        account_id=account_id,
        email=email,
        display_name=name,
        identity=Identity(
            subject=account_id,
            role=Role(role),
            school_id=school,
            class_ids=frozenset(json.loads(classes)),
            pupil_ids=frozenset(json.loads(pupils)),
        ),
    )


ACCOUNT_COLUMNS = (
    "a.account_id, a.email, a.display_name, a.role, a.school_id, a.class_ids, a.pupil_ids"
)


class Accounts:
    def __init__(self, db: SqliteDatabase, session_ttl: timedelta = timedelta(days=14)) -> None:
        self._db = db
        self._ttl = session_ttl

    @classmethod
    async def open(cls, path: Path) -> Accounts:
        db = SqliteDatabase(path)
        await db.write(lambda c: c.executescript(SCHEMA))
        return cls(db)

    async def count(self) -> int:
        row = await self._db.read(lambda c: c.execute("SELECT count(*) FROM accounts").fetchone())
        return int(row[0])

    async def create(
        self, *, account_id: str, email: str, password: str, display_name: str, identity: Identity
    ) -> None:
        hashed = await asyncio.to_thread(hasher.hash, password)

        def insert(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                conn.execute(
                    "INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        account_id,
                        email,
                        hashed,
                        display_name,
                        identity.role.value,
                        identity.school_id,
                        json.dumps(sorted(identity.class_ids)),
                        json.dumps(sorted(identity.pupil_ids)),
                    ),
                )

        await self._db.write(insert)

    async def sign_in(self, email: str, password: str, now: datetime) -> tuple[str, Account] | None:
        """A new session token for a right email and password; None otherwise, in equal time."""
        row = await self._db.read(
            lambda c: c.execute(
                f"SELECT a.password_hash, {ACCOUNT_COLUMNS} FROM accounts a WHERE a.email = ?",
                (email,),
            ).fetchone()
        )
        # Argon2 is slow on purpose: keep it off the event loop.
        if row is None:
            await asyncio.to_thread(hasher.verify, password, _DUMMY_HASH)
            return None
        if not await asyncio.to_thread(hasher.verify, password, row[0]):
            return None
        account = _account(row[1:])
        token = secrets.token_urlsafe(32)
        expires = (now + self._ttl).isoformat()

        def store(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                conn.execute("DELETE FROM sessions WHERE expires_at < ?", (now.isoformat(),))
                conn.execute(
                    "INSERT INTO sessions VALUES (?, ?, ?)",
                    (_token_hash(token), account.account_id, expires),
                )

        await self._db.write(store)
        return token, account

    async def session(self, token: str, now: datetime) -> Account | None:
        row = await self._db.read(
            lambda c: c.execute(
                f"SELECT {ACCOUNT_COLUMNS} FROM sessions s JOIN accounts a USING (account_id)"
                " WHERE s.token_hash = ? AND s.expires_at > ?",
                (_token_hash(token), now.isoformat()),
            ).fetchone()
        )
        return None if row is None else _account(row)

    async def sign_out(self, token: str) -> None:
        def delete(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                conn.execute("DELETE FROM sessions WHERE token_hash = ?", (_token_hash(token),))

        await self._db.write(delete)

    async def ping(self) -> None:
        await self._db.read(lambda c: c.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        await self._db.close()
