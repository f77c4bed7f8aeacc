"""The read-model store port: documents keyed by projection, generation and key.

A projection writes its document changes and its checkpoint in one ``commit``. Where the
backing store cannot make that atomic (MongoDB without transactions), each document also
carries the global position it reflects (``_position``) and the runner skips events a
document already holds, so every event takes effect exactly once either way.

``find`` pages through documents: equal fields, an order, and an exclusive bound on the
ordering field (``before``), e.g. "this family's class, newest first, older than the last
item shown, 20". A field may also be one of several values (``OneOf``): "any of this
family's classes, merged newest first, 20". ``ensure_index`` makes such a query index range
scans instead of a read of every document of the projection. ``get_many`` is ``get`` for a
page's worth of keys in one round trip.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

Doc = dict[str, Any]


@dataclass(frozen=True)
class OneOf:
    """A ``find`` condition: the field equals any of ``values`` (none: nothing matches)."""

    values: tuple[Any, ...]


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

    async def get_many(self, projection: str, keys: Collection[str]) -> dict[str, Doc]:
        """Documents of the active generation by key; missing keys are left out."""
        ...

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
        """Documents of the active generation whose top-level fields equal ``where``
        (or, for a ``OneOf``, any of its values).

        ``before=(field, value)`` keeps only documents whose ``field`` is below ``value``
        (those without it are left out; compare like with like). Documents equal in
        ``order_by`` come in key order (reversed when ``descending``), so pages never
        shuffle. ``limit`` applies to the whole answer, however many values a ``OneOf`` has.
        """
        ...

    async def purge(
        self, projection: str, where: Mapping[str, Any], *, before: tuple[str, Any]
    ) -> int:
        """Delete the documents, of every generation, that ``find(where, before=before)``
        would answer (no ``OneOf``); how many. For data past its retention, whose events no
        longer say whose they are: the runner never sees those events again, and a rebuild
        skips them, so nothing brings the documents back."""
        ...

    async def ensure_index(self, projection: str, fields: tuple[str, ...]) -> None:
        """Make ``find`` on these top-level fields fast for this projection: equality fields
        first, the ordering or bounded field last. Idempotent."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
