"""The consent service's secrets: invite codes and redemption attempts. Never the event log.

They live in the private store every replica shares (``sqlite:///`` in embedded mode, the
same file as the gateway's; ``mongodb://`` in the cluster), so a code issued on one replica
redeems on another and a limit counts once. Codes are kept readable (not hashed) because a
school reprints an invite letter while it is open. The event log decides whether an invite
is still open, so a code left behind by a failed append opens nothing.

A code is kept only while it can open something: it expires with its invite, is deleted
when the invite is revoked, and once used lives on only ``USED_CODE_KEPT`` (so the parent
who used it, retrying, gets the same answer). Beside it, a record without the code
(``INVITES``: the invite's pupil and school) stays ``KEPT_AFTER_EXPIRY`` longer, so the
school can still find and revoke a lapsed invite; the log holds the rest of its history.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from schoolgate_kit.clock import Clock, utc_now
from schoolgate_kit.private import PrivateStore as Store
from schoolgate_kit.private import open_private_store
from schoolgate_kit.problems import Problem

CODES = "invite_codes"
INVITES = "invites"
ATTEMPTS = "limit:redeem"
KEPT_AFTER_EXPIRY = timedelta(days=30)
USED_CODE_KEPT = timedelta(minutes=15)


@dataclass(frozen=True)
class InviteCode:
    code: str | None
    """None once the code is gone (revoked, used or expired) but the invite is still known."""
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
    """Opened on first use, so ``bootstrap`` stays free of I/O."""

    def __init__(self, location: str, *, clock: Clock = utc_now) -> None:
        self.location = location
        self._clock = clock
        self._store: Store | None = None
        self._lock = asyncio.Lock()

    async def _open(self) -> Store:
        if self._store is None:
            async with self._lock:
                if self._store is None:
                    self._store = await open_private_store(self.location)
        return self._store

    async def add_code(
        self,
        new_code: Callable[[], str],
        invite_id: str,
        pupil_id: str,
        school_id: str,
        expires_at: datetime,
    ) -> str:
        """Store a fresh code for an invite and return it; a clash draws again."""
        store = await self._open()
        doc = {"invite_id": invite_id, "pupil_id": pupil_id, "school_id": school_id}
        doc["expires_at"] = expires_at.isoformat()
        now = self._clock()
        await store.put(INVITES, invite_id, doc, now=now, expires_at=expires_at + KEPT_AFTER_EXPIRY)
        for _ in range(20):
            code = new_code()
            if await store.add(CODES, code, doc, now=now, group=invite_id, expires_at=expires_at):
                return code
        raise RuntimeError("could not draw an unused invite code")

    async def by_code(self, code: str) -> InviteCode | None:
        found = await (await self._open()).get(CODES, code, now=self._clock())
        return None if found is None else _invite(code, found)

    async def by_invite(self, invite_id: str) -> InviteCode | None:
        """The invite with its code while it has one; without, until it is forgotten."""
        store = await self._open()
        now = self._clock()
        found = await store.in_group(CODES, invite_id, now=now)
        with_code = next((_invite(code, doc) for code, doc in found.items()), None)
        if with_code is not None:
            return with_code
        known = await store.get(INVITES, invite_id, now=now)
        return None if known is None else _invite(None, known)

    async def forget_code(self, invite_id: str) -> None:
        """The invite was revoked: its code opens nothing any more, so it goes now."""
        await (await self._open()).delete_group(CODES, invite_id)

    async def code_used(self, invite: InviteCode) -> None:
        """The invite was used: keep its code only long enough for the same parent's retry."""
        if invite.code is None:
            return
        store = await self._open()
        now = self._clock()
        doc = {"invite_id": invite.invite_id, "pupil_id": invite.pupil_id}
        doc |= {"school_id": invite.school_id, "expires_at": invite.expires_at.isoformat()}
        until = min(now + USED_CODE_KEPT, invite.expires_at)
        if await store.get(CODES, invite.code, now=now) is not None:
            await store.put(
                CODES, invite.code, doc, now=now, group=invite.invite_id, expires_at=until
            )

    async def refuse_if_spent(self, limits: list[Limit], now: datetime) -> None:
        """Refuse as ``attempt`` would if any limit is spent already, counting nothing."""
        store = await self._open()
        waits = [
            await store.retry_after(ATTEMPTS, limit.key, limit=limit.attempts, now=now)
            for limit in limits
        ]
        refused = [w for w in waits if w is not None]
        if refused:
            retry = max(int(max(refused)) + 1, 1)
            raise TooManyAttempts(
                f"Too many tries. Please wait {retry} seconds and try again.", retry_after=retry
            )

    async def attempt(self, limits: list[Limit], window: float, now: datetime) -> None:
        """Count one redemption attempt against every limit, or refuse it.

        A refusal found before counting counts nothing; one that only a racing replica's
        attempt brought about leaves the limits counted before it counted.
        """
        await self.refuse_if_spent(limits, now)
        store = await self._open()
        for limit in limits:
            wait = await store.hit(
                ATTEMPTS,
                limit.key,
                limit=limit.attempts,
                window=timedelta(seconds=window),
                now=now,
            )
            if wait is not None:
                retry = max(int(wait) + 1, 1)
                raise TooManyAttempts(
                    f"Too many tries. Please wait {retry} seconds and try again.",
                    retry_after=retry,
                )

    async def ping(self) -> None:
        await (await self._open()).ping()

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()
            self._store = None


def _invite(code: str | None, doc: dict[str, str]) -> InviteCode:
    return InviteCode(
        code,
        doc["invite_id"],
        doc["pupil_id"],
        doc["school_id"],
        datetime.fromisoformat(doc["expires_at"]),
    )
