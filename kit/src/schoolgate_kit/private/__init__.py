"""Private stores: one port, an SQLite adapter (embedded) and a MongoDB adapter (cluster)."""

from __future__ import annotations

from pathlib import Path

from schoolgate_kit.private.port import Doc, PrivateStore

__all__ = ["Doc", "PrivateStore", "open_private_store"]


async def open_private_store(url: str, *, database: str = "schoolgate_private") -> PrivateStore:
    """``sqlite:///path`` or ``mongodb://...`` (the URL's database, else ``database``)."""
    if url.startswith("sqlite:///"):
        from schoolgate_kit.private.sqlite import SqlitePrivateStore

        return await SqlitePrivateStore.open(Path(url.removeprefix("sqlite:///")))
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from schoolgate_kit.private.mongo import MongoPrivateStore

        return await MongoPrivateStore.open(url, database)
    raise ValueError(f"private store: no adapter for {url!r}")
