"""The media stores against the media contract: the filesystem one always, GridFS on a server.

GridFS runs when ``SCHOOLGATE_TEST_MONGODB_URL`` names one, e.g. ``mongodb://localhost:27017``;
each test gets a fresh database with a random name, dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient
from schoolgate_kit.adapters import open_media
from schoolgate_kit.clock import utc_now
from schoolgate_kit.media.filesystem import FilesystemMediaStore
from schoolgate_kit.media.gridfs import GridFsMediaStore
from schoolgate_kit.settings import Settings
from schoolgate_kit.testing.media_contract import MediaStoreContract

MONGODB_URL = os.environ.get("SCHOOLGATE_TEST_MONGODB_URL", "")


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture
async def media(tmp_path: Path) -> AsyncIterator[FilesystemMediaStore]:
    store = await FilesystemMediaStore.open(tmp_path / "media")
    yield store
    await store.close()


class TestFilesystemMediaStore(MediaStoreContract):
    async def test_media_survives_reopening(self, media: FilesystemMediaStore) -> None:
        media_id = self.media_id()
        stored = await self.put(media, media_id, b"kept")
        again = await FilesystemMediaStore.open(media.root)
        assert await again.get(media_id) == (stored, b"kept")

    async def test_no_path_leaves_the_root(self, tmp_path: Path) -> None:
        root = tmp_path / "inside" / "media"
        store = await FilesystemMediaStore.open(root)
        for i in range(5):
            await self.put(store, self.media_id(f"p{i}"), b"x" * i)
        files = files_under(tmp_path)
        assert files
        assert all(root in p.parents for p in files)
        # a committed put leaves exactly one sidecar and one data file, no temporaries
        assert sorted(p.suffix for p in files) == [".data"] * 5 + [".json"] * 5

    async def test_a_failed_put_leaves_nothing_behind(
        self, media: FilesystemMediaStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def broken_link(src: object, dst: object) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(os, "link", broken_link)
        media_id = self.media_id()
        with pytest.raises(OSError, match="disk full"):
            await self.put(media, media_id, b"never stored")
        monkeypatch.undo()
        assert await media.get(media_id) is None
        assert files_under(media.root) == []

    async def test_puts_from_two_stores_on_one_directory_agree(
        self, media: FilesystemMediaStore
    ) -> None:
        # two processes sharing the directory behave like two stores on it
        other = FilesystemMediaStore(media.root)
        media_id = self.media_id()
        results = await asyncio.gather(
            self.put(media, media_id, b"same"),
            self.put(other, media_id, b"same"),
            return_exceptions=True,
        )
        assert results[0] == results[1]
        got = await other.get(media_id)
        assert got is not None
        assert got[1] == b"same"

    async def test_created_at_comes_from_the_clock(self, tmp_path: Path) -> None:
        moment = datetime(2026, 3, 4, 9, 30, 15, 123456, tzinfo=UTC)
        store = await FilesystemMediaStore.open(tmp_path / "m", clock=lambda: moment)
        stored = await self.put(store, self.media_id(), b"x")
        assert stored.created_at == moment
        info = await store.info(stored.media_id)
        assert info is not None
        assert info.created_at == moment

    async def test_ping_fails_when_the_directory_is_gone(self, tmp_path: Path) -> None:
        store = await FilesystemMediaStore.open(tmp_path / "gone")
        (tmp_path / "gone").rmdir()
        with pytest.raises(OSError):
            await store.ping()


@pytest.fixture
async def mongo_database() -> AsyncIterator[str]:
    name = f"schoolgate_test_{uuid.uuid4().hex[:12]}"
    yield name
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(MONGODB_URL)
    try:
        await client.drop_database(name)
    finally:
        await client.close()


@pytest.mark.skipif(not MONGODB_URL, reason="SCHOOLGATE_TEST_MONGODB_URL is not set")
class TestGridFsMediaStore(MediaStoreContract):
    @pytest.fixture
    async def media(self, mongo_database: str) -> AsyncIterator[GridFsMediaStore]:
        store = await GridFsMediaStore.open(MONGODB_URL, mongo_database)
        yield store
        await store.close()

    async def test_media_survives_reopening(
        self, media: GridFsMediaStore, mongo_database: str
    ) -> None:
        media_id = self.media_id()
        stored = await self.put(media, media_id, b"kept")
        again = await GridFsMediaStore.open(MONGODB_URL, mongo_database)
        try:
            assert await again.get(media_id) == (stored, b"kept")
        finally:
            await again.close()


async def test_the_media_url_chooses_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCHOOLGATE_MEDIA_URL", raising=False)
    settings = Settings(data_dir=Path("school-data"))
    assert settings.media_location() == "file://school-data/media"
    store = await open_media(settings, utc_now)
    assert isinstance(store, FilesystemMediaStore)
    assert store.root == Path("school-data/media")
    assert store.root.is_dir()

    monkeypatch.setenv("SCHOOLGATE_MEDIA_URL", f"file://{tmp_path / 'elsewhere'}")
    store = await open_media(Settings(), utc_now)
    assert isinstance(store, FilesystemMediaStore)
    assert store.root == tmp_path / "elsewhere"

    with pytest.raises(ValueError, match="SCHOOLGATE_MEDIA_URL"):
        await open_media(Settings(media_url="s3://bucket/media"), utc_now)


async def test_gridfs_uses_the_url_database_and_refuses_bad_ids_before_any_io() -> None:
    # nothing listens on port 9: any attempt to reach a server would fail differently
    named = GridFsMediaStore.connect("mongodb://127.0.0.1:9/district?serverSelectionTimeoutMS=50")
    unnamed = GridFsMediaStore.connect("mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=50")
    try:
        assert named.location == ("district", "media")
        assert unnamed.location == ("schoolgate", "media")
        for bad in ("../x", "a/b", "", "x" * 81):
            with pytest.raises(ValueError):
                await named.put(bad, b"x", school_id="s", owner="o", content_type="image/jpeg")
            with pytest.raises(ValueError):
                await named.get(bad)
    finally:
        await named.close()
        await unnamed.close()
