"""Accounts, sessions and sign-in secrets: the gateway's own store, never the event log.

Passwords are Argon2 hashes. Session tokens, staff set-up links and pupils' sign-in cards
are random tokens stored only as their SHA-256, so a copy of this file opens nothing. Class
codes are short and shown on the classroom screen, so they expire within the day.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path

from pwdlib import PasswordHash
from schoolgate_kit.sqlite import SqliteDatabase, transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    account_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    person_id TEXT NOT NULL,
    email TEXT UNIQUE COLLATE NOCASE,
    password_hash TEXT,
    display_name TEXT NOT NULL,
    UNIQUE (kind, person_id)
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS setup_links (
    token_hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS class_codes (
    code TEXT PRIMARY KEY,
    school_id TEXT NOT NULL,
    class_id TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS pupil_cards (
    token_hash TEXT PRIMARY KEY,
    pupil_id TEXT NOT NULL UNIQUE
);
"""

hasher = PasswordHash.recommended()
# Verified against when an email is unknown, so both answers take as long.
_DUMMY_HASH = hasher.hash(secrets.token_urlsafe(16))
CLASS_CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY3479"  # no look-alikes: pupils type these


class Kind(StrEnum):
    staff = "staff"
    parent = "parent"
    pupil = "pupil"


@dataclass(frozen=True)
class Account:
    account_id: str
    kind: Kind
    person_id: str
    email: str | None
    display_name: str


class EmailTaken(Exception):
    pass


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_COLUMNS = "a.account_id, a.kind, a.person_id, a.email, a.display_name"


def _account(row: tuple[str, str, str, str | None, str]) -> Account:
    return Account(
        account_id=row[0], kind=Kind(row[1]), person_id=row[2], email=row[3], display_name=row[4]
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

    async def _one(self, sql: str, *args: object) -> Account | None:
        row = await self._db.read(lambda c: c.execute(sql, args).fetchone())
        return None if row is None else _account(row)

    async def find(self, kind: Kind, person_id: str) -> Account | None:
        return await self._one(
            f"SELECT {_COLUMNS} FROM accounts a WHERE a.kind = ? AND a.person_id = ?",
            kind.value,
            person_id,
        )

    async def ensure(
        self,
        kind: Kind,
        person_id: str,
        *,
        display_name: str,
        email: str | None = None,
        password: str | None = None,
    ) -> Account:
        """The account of this person, created if there is none yet."""
        hashed = None if password is None else await asyncio.to_thread(hasher.hash, password)
        account_id = uuid.uuid4().hex

        def upsert(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                conn.execute(
                    "INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (kind, person_id) DO NOTHING",
                    (account_id, kind.value, person_id, email, hashed, display_name),
                )

        try:
            await self._db.write(upsert)
        except sqlite3.IntegrityError as exc:
            raise EmailTaken(email) from exc
        found = await self.find(kind, person_id)
        assert found is not None
        return found

    async def create_parent(self, *, email: str, password: str, display_name: str) -> Account:
        parent_id = f"parent-{uuid.uuid4().hex[:16]}"
        return await self.ensure(
            Kind.parent, parent_id, display_name=display_name, email=email, password=password
        )

    async def sign_in(self, email: str, password: str) -> Account | None:
        """The account for a right email and password; None otherwise, in equal time."""
        row = await self._db.read(
            lambda c: c.execute(
                f"SELECT a.password_hash, {_COLUMNS} FROM accounts a WHERE a.email = ?",
                (email,),
            ).fetchone()
        )
        # Argon2 is slow on purpose: keep it off the event loop.
        if row is None or row[0] is None:
            await asyncio.to_thread(hasher.verify, password, _DUMMY_HASH)
            return None
        if not await asyncio.to_thread(hasher.verify, password, row[0]):
            return None
        return _account(row[1:])

    async def start_session(self, account: Account, now: datetime) -> str:
        token = secrets.token_urlsafe(32)

        def store(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                conn.execute("DELETE FROM sessions WHERE expires_at < ?", (now.isoformat(),))
                conn.execute(
                    "INSERT INTO sessions VALUES (?, ?, ?)",
                    (digest(token), account.account_id, (now + self._ttl).isoformat()),
                )

        await self._db.write(store)
        return token

    async def session(self, token: str, now: datetime) -> Account | None:
        return await self._one(
            f"SELECT {_COLUMNS} FROM sessions s JOIN accounts a USING (account_id)"
            " WHERE s.token_hash = ? AND s.expires_at > ?",
            digest(token),
            now.isoformat(),
        )

    async def end_session(self, token: str) -> None:
        await self._write("DELETE FROM sessions WHERE token_hash = ?", digest(token))

    async def _write(self, sql: str, *args: object) -> None:
        def run(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                conn.execute(sql, args)

        await self._db.write(run)

    # -- staff set-up links ------------------------------------------------------------

    async def new_setup_link(self, account: Account, now: datetime, ttl: timedelta) -> str:
        token = secrets.token_urlsafe(24)
        await self._write(
            "INSERT INTO setup_links VALUES (?, ?, ?)",
            digest(token),
            account.account_id,
            (now + ttl).isoformat(),
        )
        return token

    async def use_setup_link(self, token: str, password: str, now: datetime) -> Account | None:
        """Set the password of the link's account; the link then stops working."""
        hashed = await asyncio.to_thread(hasher.hash, password)

        def use(conn: sqlite3.Connection) -> str | None:
            with transaction(conn):
                row = conn.execute(
                    "DELETE FROM setup_links WHERE token_hash = ? AND expires_at > ?"
                    " RETURNING account_id",
                    (digest(token), now.isoformat()),
                ).fetchone()
                if row is None:
                    return None
                conn.execute(
                    "UPDATE accounts SET password_hash = ? WHERE account_id = ?", (hashed, row[0])
                )
                return str(row[0])

        account_id = await self._db.write(use)
        if account_id is None:
            return None
        return await self._one(
            f"SELECT {_COLUMNS} FROM accounts a WHERE a.account_id = ?", account_id
        )

    # -- pupils: class codes and personal cards ------------------------------------------

    async def new_class_code(
        self, school_id: str, class_id: str, now: datetime, ttl: timedelta
    ) -> str:
        code = "".join(secrets.choice(CLASS_CODE_ALPHABET) for _ in range(6))
        await self._write(
            "DELETE FROM class_codes WHERE class_id = ? OR expires_at < ?",
            class_id,
            now.isoformat(),
        )
        await self._write(
            "INSERT INTO class_codes VALUES (?, ?, ?, ?)",
            code,
            school_id,
            class_id,
            (now + ttl).isoformat(),
        )
        return code

    async def class_for_code(self, code: str, now: datetime) -> tuple[str, str] | None:
        row = await self._db.read(
            lambda c: c.execute(
                "SELECT school_id, class_id FROM class_codes WHERE code = ? AND expires_at > ?",
                (code.strip().upper(), now.isoformat()),
            ).fetchone()
        )
        return None if row is None else (str(row[0]), str(row[1]))

    async def new_pupil_card(self, pupil_id: str) -> str:
        """A personal sign-in token for a printed QR card; a new card retires the old one."""
        token = secrets.token_urlsafe(24)

        def replace(conn: sqlite3.Connection) -> None:
            with transaction(conn):
                conn.execute("DELETE FROM pupil_cards WHERE pupil_id = ?", (pupil_id,))
                conn.execute("INSERT INTO pupil_cards VALUES (?, ?)", (digest(token), pupil_id))

        await self._db.write(replace)
        return token

    async def pupil_for_card(self, token: str) -> str | None:
        row = await self._db.read(
            lambda c: c.execute(
                "SELECT pupil_id FROM pupil_cards WHERE token_hash = ?", (digest(token),)
            ).fetchone()
        )
        return None if row is None else str(row[0])

    async def count(self) -> int:
        row = await self._db.read(lambda c: c.execute("SELECT count(*) FROM accounts").fetchone())
        return int(row[0])

    async def ping(self) -> None:
        await self._db.read(lambda c: c.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        await self._db.close()
