"""The private-store port: secrets and counters that never enter the event log.

Accounts, sessions, one-time tokens, invite codes and rate-limit counters live here, shared
by every replica of every service that uses them. A store holds JSON-able documents in named
collections, each keyed by a string. A document may carry a ``group`` (a second key, e.g.
the account a session belongs to) to find or drop its fellows by, and an ``expires_at``: an
expired document is absent to every read at once, and the store removes it from storage
itself soon after (the SQLite adapter within a minute of its callers' time, overwriting the
freed bytes; MongoDB by a TTL index), or at once on ``purge``.

Time is an argument: the store never asks a clock, so tests and replicas agree on "now".
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

Doc = dict[str, Any]


class PrivateStore(Protocol):
    async def get(self, collection: str, key: str, *, now: datetime) -> Doc | None:
        """The live document at ``key``, or None (never stored, deleted or expired)."""
        ...

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
        """Store ``doc`` at ``key``, replacing whatever was there."""
        ...

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
        """Store ``doc`` only if ``key`` holds no live document; False (writing nothing)
        if it does. Across replicas exactly one of several racing adds wins."""
        ...

    async def get_many(
        self, collection: str, keys: Collection[str], *, now: datetime
    ) -> dict[str, Doc]:
        """The live documents at these keys, by key (the others left out), in one round trip:
        a fan-out to two thousand families reads them all at once, not one by one."""
        ...

    async def put_many(
        self,
        collection: str,
        docs: Mapping[str, Mapping[str, Any]],
        *,
        now: datetime,
        expires_at: datetime | None = None,
    ) -> None:
        """Store each document at its key (with no group), replacing what was there, in one
        round trip."""
        ...

    async def take(self, collection: str, key: str, *, now: datetime) -> Doc | None:
        """Delete the live document at ``key`` and return it: of several replicas taking
        the same key at once, exactly one gets it."""
        ...

    async def delete(self, collection: str, key: str) -> bool:
        """Whether there was a document (live or expired) to delete."""
        ...

    async def in_group(self, collection: str, group: str, *, now: datetime) -> dict[str, Doc]:
        """The live documents of ``group``, by key."""
        ...

    async def in_groups(
        self, collection: str, groups: Collection[str], *, now: datetime
    ) -> dict[str, dict[str, Doc]]:
        """The live documents of each of these groups, by group and key (groups with none left
        out), in one round trip."""
        ...

    async def delete_group(self, collection: str, group: str, *, keep: str | None = None) -> int:
        """Delete every document of ``group`` except the one at ``keep``; how many went."""
        ...

    async def count(self, collection: str, *, now: datetime) -> int:
        """How many live documents ``collection`` holds."""
        ...

    async def hit(
        self, collection: str, key: str, *, limit: int, window: timedelta, now: datetime
    ) -> float | None:
        """Count one attempt against ``key`` and answer None, or, if ``limit`` attempts
        were counted already in its window, count nothing and answer the seconds until
        the window ends. A window opens at a key's first attempt and lasts ``window``.
        Racing replicas never count more than ``limit`` between them."""
        ...

    async def retry_after(
        self, collection: str, key: str, *, limit: int, now: datetime
    ) -> float | None:
        """The seconds until ``key`` may be counted again, if it is at ``limit``; else None."""
        ...

    async def purge(self, *, now: datetime) -> int:
        """Remove every document expired at ``now`` from storage; how many went."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


def seconds_until(then: datetime, now: datetime) -> float:
    return max((then - now).total_seconds(), 0.0)
