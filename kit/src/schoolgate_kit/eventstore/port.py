"""The event store port: the only source of truth."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from schoolgate_contracts import NewEvent, RecordedEvent

NO_STREAM = -1
"""Expected version of a stream that must not exist yet."""


class WrongExpectedVersion(Exception):
    def __init__(self, stream: str, expected: int | None, actual: int) -> None:
        super().__init__(f"stream {stream!r} is at version {actual}, expected {expected}")
        self.stream = stream
        self.expected = expected
        self.actual = actual


class EventIdReused(Exception):
    """Some, but not all, of an append's event ids are already stored: not a retry."""


@dataclass(frozen=True, slots=True)
class AppendResult:
    version: int
    """Stream version of the last event appended (or found, for an idempotent retry)."""
    position: int
    """Global position of the last event appended."""


@dataclass(frozen=True, slots=True)
class Batch:
    events: list[RecordedEvent]
    up_to: int
    """Everything at or before this global position has been seen (filtered or not)."""
    caught_up: bool
    """The batch reached the head of the log as it was when it was read."""


class EventStore(Protocol):
    async def append(
        self, stream: str, events: Sequence[NewEvent], *, expected_version: int | None
    ) -> AppendResult:
        """Append atomically; ``expected_version`` None means any, NO_STREAM means new."""
        ...

    async def read_stream(self, stream: str, *, from_version: int = 0) -> list[RecordedEvent]: ...

    async def read_all(
        self, *, after: int = 0, limit: int = 1000, types: Collection[str] | None = None
    ) -> Batch:
        """One page of the global log after a position, optionally only some event types."""
        ...

    def subscribe(
        self, *, after: int = 0, types: Collection[str] | None = None, batch_size: int = 1000
    ) -> AsyncIterator[Batch]:
        """Catch up from ``after``, then continue live. Never ends by itself."""
        ...

    async def head(self) -> int:
        """Global position of the newest event, 0 for an empty store."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


class LogReader(Protocol):
    """A store's log read from another process: picklable; it opens what it needs there."""

    def pages(
        self, *, after: int, up_to: int, types: Collection[str], batch_size: int
    ) -> Iterator[list[RecordedEvent]]:
        """Events of these types with ``after < position <= up_to``, in order, page by page."""
        ...


@runtime_checkable
class SharedLog(Protocol):
    """A store whose log other processes can read as well: a rebuild may then fold parts
    of the log side by side, one process each."""

    def log_reader(self) -> LogReader | None:
        """None where this store cannot be read elsewhere as it is read here."""
        ...
