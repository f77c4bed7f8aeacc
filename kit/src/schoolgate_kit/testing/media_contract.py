"""The media store contract: subclass ``MediaStoreContract`` and provide a ``media`` fixture.

The fixture yields a store whose ids are unique to the test: use ``self.media_id()``,
which carries a random suffix so a shared server works too.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import datetime

import pytest

from schoolgate_kit.media import MediaIdTaken, MediaStore, StoredMedia


class MediaStoreContract:
    def media_id(self, name: str = "media") -> str:
        return f"{name}-{uuid.uuid4().hex}"

    async def put(self, media: MediaStore, media_id: str, data: bytes) -> StoredMedia:
        return await media.put(
            media_id, data, school_id="school-1", owner="staff-1", content_type="image/jpeg"
        )

    async def test_put_then_get_round_trip(self, media: MediaStore) -> None:
        media_id = self.media_id()
        data = os.urandom(1000) + b"\x00\xff" * 10
        stored = await media.put(
            media_id, data, school_id="school-1", owner="staff-7", content_type="image/png"
        )
        assert stored.media_id == media_id
        assert stored.school_id == "school-1"
        assert stored.owner == "staff-7"
        assert stored.content_type == "image/png"
        assert stored.size == len(data)
        assert isinstance(stored.created_at, datetime)
        assert stored.created_at.tzinfo is not None
        got = await media.get(media_id)
        assert got is not None
        info, body = got
        assert body == data
        assert info == stored

    async def test_large_content_survives_intact(self, media: MediaStore) -> None:
        # bigger than one GridFS chunk (255 KiB) and than typical read buffers
        media_id = self.media_id()
        data = os.urandom(3 * 1024 * 1024 + 17)
        await self.put(media, media_id, data)
        got = await media.get(media_id)
        assert got is not None
        assert got[1] == data
        assert got[0].size == len(data)

    async def test_empty_content_is_stored_as_given(self, media: MediaStore) -> None:
        media_id = self.media_id()
        await self.put(media, media_id, b"")
        got = await media.get(media_id)
        assert got is not None
        assert got[1] == b""
        assert got[0].size == 0

    async def test_same_id_and_bytes_again_is_a_no_op(self, media: MediaStore) -> None:
        media_id = self.media_id()
        first = await self.put(media, media_id, b"one photo")
        again = await media.put(
            media_id, b"one photo", school_id="school-1", owner="staff-1", content_type="image/jpeg"
        )
        assert again == first
        got = await media.get(media_id)
        assert got is not None
        assert got == (first, b"one photo")

    async def test_same_id_with_different_bytes_is_refused(self, media: MediaStore) -> None:
        media_id = self.media_id()
        first = await self.put(media, media_id, b"first")
        with pytest.raises(MediaIdTaken) as caught:
            await self.put(media, media_id, b"second")
        assert caught.value.media_id == media_id
        assert await media.get(media_id) == (first, b"first")

    async def test_info_without_the_bytes(self, media: MediaStore) -> None:
        media_id = self.media_id()
        stored = await media.put(
            media_id, b"%PDF-1.7 ...", school_id="school-2", owner="staff-2",
            content_type="application/pdf",
        )  # fmt: skip
        assert await media.info(media_id) == stored

    async def test_missing_media_is_none(self, media: MediaStore) -> None:
        media_id = self.media_id()
        assert await media.get(media_id) is None
        assert await media.info(media_id) is None
        assert await media.delete(media_id) is False

    async def test_delete_removes_it_and_frees_the_id(self, media: MediaStore) -> None:
        media_id, other = self.media_id(), self.media_id()
        await self.put(media, media_id, b"gone soon")
        await self.put(media, other, b"stays")
        assert await media.delete(media_id) is True
        assert await media.get(media_id) is None
        assert await media.info(media_id) is None
        assert await media.delete(media_id) is False
        got = await media.get(other)
        assert got is not None
        assert got[1] == b"stays"
        again = await self.put(media, media_id, b"new content")
        assert again.size == len(b"new content")
        got = await media.get(media_id)
        assert got is not None
        assert got[1] == b"new content"

    @pytest.mark.parametrize(
        "bad",
        [
            "",
            "../etc/passwd",
            "..",
            ".",
            "a/b",
            "a\\b",
            "/abs",
            "a.jpg",
            "a b",
            "a\x00b",
            "ümlaut",
            "x" * 81,
            "{'$gt': ''}",
        ],
    )
    async def test_bad_ids_are_refused(self, media: MediaStore, bad: str) -> None:
        with pytest.raises(ValueError):
            await self.put(media, bad, b"data")
        with pytest.raises(ValueError):
            await media.get(bad)
        with pytest.raises(ValueError):
            await media.info(bad)
        with pytest.raises(ValueError):
            await media.delete(bad)

    async def test_longest_id_and_every_allowed_character(self, media: MediaStore) -> None:
        longest = "A-z_9" * 16
        assert len(longest) == 80
        await self.put(media, longest, b"long")
        got = await media.get(longest)
        assert got is not None
        assert got[1] == b"long"
        await media.delete(longest)

    async def test_ids_differing_only_in_case_are_different_media(self, media: MediaStore) -> None:
        base = self.media_id("case")
        await self.put(media, base.upper(), b"upper")
        await self.put(media, base.lower(), b"lower")
        upper, lower = await media.get(base.upper()), await media.get(base.lower())
        assert upper is not None
        assert lower is not None
        assert (upper[1], lower[1]) == (b"upper", b"lower")

    async def test_concurrent_puts_of_different_ids(self, media: MediaStore) -> None:
        items = {self.media_id(f"c{i}"): os.urandom(2000 + i) for i in range(24)}
        stored = await asyncio.gather(*(self.put(media, k, v) for k, v in items.items()))
        assert [s.media_id for s in stored] == list(items)
        for media_id, data in items.items():
            got = await media.get(media_id)
            assert got is not None
            assert got[1] == data

    async def test_concurrent_puts_of_one_id_keep_one_content(self, media: MediaStore) -> None:
        media_id = self.media_id()
        contents = [f"version {i}".encode() for i in range(8)] * 2
        results = await asyncio.gather(
            *(self.put(media, media_id, c) for c in contents), return_exceptions=True
        )
        got = await media.get(media_id)
        assert got is not None
        winner = got[1]
        assert winner in contents
        for content, result in zip(contents, results, strict=True):
            if content == winner:
                assert result == got[0]
            else:
                assert isinstance(result, MediaIdTaken)

    async def test_ping(self, media: MediaStore) -> None:
        await media.ping()
