"""The consent service's own store: invite codes and redemption attempts. Never the event log.

Codes are kept readable (not hashed) because a school reprints an invite letter while it is
open; the file is private to this service. The event log decides whether an invite is still
open, so a code row left behind by a failed append opens nothing.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from schoolgate_kit.problems import Problem
from schoolgate_kit.sqlite import SqliteDatabase, transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS invite_codes (
    code TEXT PRIMARY KEY,
    invite_id TEXT NOT NULL UNIQUE,
    pupil_id TEXT NOT NULL,
    school_id TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS redeem_attempts (
    key TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS redeem_attempts_by_key ON redeem_attempts (key, at);
"""


@dataclass(frozen=True)
class InviteCode:
    code: str
    invite_id: str
    pupil_id: str
    school_id: str
    expires_at: datetime


class TooManyAttempts(Problem):
    status, slug, title = 429, "too-many-attempts", "Too many attempts"


@dataclass(frozen=True)
class Limit:
    key: str
    attempts: int


class PrivateStore:
    def __init__(self, path: Path) -> None:
        self._db = SqliteDatabase(path)
        self._ready = False
        self._lock = asyncio.Lock()

    async def _ensure(self) -> None:
        if self._ready:
            return
        async with self._lock:
            if not self._ready:
                await self._db.write(lambda conn: conn.executescript(SCHEMA))
                self._ready = True

    async def add_code(
        self,
        new_code: Callable[[], str],
        invite_id: str,
        pupil_id: str,
        school_id: str,
        expires_at: datetime,
    ) -> str:
        """Store a fresh code for an invite and return it; a clash draws again."""
        await self._ensure()

        def add(conn: sqlite3.Connection) -> str:
            for _ in range(20):
                code = new_code()
                try:
                    conn.execute(
                        "INSERT INTO invite_codes VALUES (?, ?, ?, ?, ?)",
                        (code, invite_id, pupil_id, school_id, expires_at.isoformat()),
                    )
                except sqlite3.IntegrityError:
                    continue
                return code
            raise RuntimeError("could not draw an unused invite code")

        return await self._db.write(add)

    async def by_code(self, code: str) -> InviteCode | None:
        await self._ensure()
        return await self._db.read(
            lambda c: _row(c.execute(f"{_SELECT} WHERE code = ?", (code,)).fetchone())
        )

    async def by_invite(self, invite_id: str) -> InviteCode | None:
        await self._ensure()
        return await self._db.read(
            lambda c: _row(c.execute(f"{_SELECT} WHERE invite_id = ?", (invite_id,)).fetchone())
        )

    async def attempt(self, limits: list[Limit], window: float, now: datetime) -> None:
        """Count one redemption attempt against every limit, or refuse it (counting nothing)."""
        await self._ensure()
        since = (now - timedelta(seconds=window)).isoformat()

        def attempt(conn: sqlite3.Connection) -> int | None:
            with transaction(conn):
                for limit in limits:
                    conn.execute(
                        "DELETE FROM redeem_attempts WHERE key = ? AND at <= ?", (limit.key, since)
                    )
                    count, oldest = conn.execute(
                        "SELECT count(*), min(at) FROM redeem_attempts WHERE key = ?",
                        (limit.key,),
                    ).fetchone()
                    if count >= limit.attempts:
                        opens = datetime.fromisoformat(oldest) + timedelta(seconds=window)
                        return max(int((opens - now).total_seconds()) + 1, 1)
                conn.executemany(
                    "INSERT INTO redeem_attempts (key, at) VALUES (?, ?)",
                    [(limit.key, now.isoformat()) for limit in limits],
                )
            return None

        retry = await self._db.write(attempt)
        if retry is not None:
            raise TooManyAttempts(
                f"Too many tries. Please wait {retry} seconds and try again.", retry_after=retry
            )

    async def ping(self) -> None:
        await self._ensure()
        await self._db.read(lambda c: c.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        await self._db.close()


_SELECT = "SELECT code, invite_id, pupil_id, school_id, expires_at FROM invite_codes"


def _row(row: tuple[str, str, str, str, str] | None) -> InviteCode | None:
    if row is None:
        return None
    code, invite_id, pupil_id, school_id, expires_at = row
    return InviteCode(code, invite_id, pupil_id, school_id, datetime.fromisoformat(expires_at))
