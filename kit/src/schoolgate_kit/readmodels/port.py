"""The read-model store port: documents keyed by projection, generation and key.

A projection writes its document changes and its checkpoint in one ``commit``. Where the
backing store cannot make that atomic (MongoDB without transactions), each document also
carries the global position it reflects (``_position``) and the runner skips events a
document already holds, so every event takes effect exactly once either way.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol

Doc = dict[str, Any]


class ReadModelStore(Protocol):
    async def active_generation(self, projection: str) -> int | None: ...

    async def start_generation(self, projection: str) -> int:
        """Create a fresh, empty generation (checkpoint 0) that is not yet active."""
        ...

    async def activate(self, projection: str, generation: int) -> None:
        """Make ``generation`` the one queries read, and drop every other generation."""
        ...

    async def checkpoint(self, projection: str, generation: int) -> int: ...

    async def load(
        self, projection: str, generation: int, keys: Collection[str]
    ) -> dict[str, Doc]: ...

    async def commit(
        self,
        projection: str,
        generation: int,
        changes: Mapping[str, Doc | None],
        checkpoint: int | None,
    ) -> bool:
        """Write changes (None deletes) and the checkpoint together.

        Returns False, writing nothing, when the generation no longer exists (it was
        replaced by a rebuild); the caller then starts again from the active generation.
        """
        ...

    async def get(self, projection: str, key: str) -> Doc | None:
        """A document of the active generation."""
        ...

    async def find(
        self,
        projection: str,
        where: Mapping[str, Any],
        *,
        order_by: str | None = None,
        descending: bool = False,
        limit: int | None = None,
    ) -> list[Doc]:
        """Documents of the active generation whose top-level fields equal ``where``."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
