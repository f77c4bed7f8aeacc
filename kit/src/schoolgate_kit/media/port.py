"""The media storage port: uploaded bytes (photos, short videos, PDFs) kept by media id.

Only bytes that already passed the kit's media safety checks (``schoolgate_kit.media.safety``,
used by stories and messaging alike) reach a store: the store keeps what it is given and
says nothing about what is inside.

A media id is chosen by the caller (so a retried upload lands on the same id) and is
``[A-Za-z0-9_-]{1,80}``; anything else is refused with ``ValueError`` before it can touch
a path or a query. Putting the same bytes under the same id again is a no-op that returns
what is stored; different bytes under a taken id raise ``MediaIdTaken``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

MEDIA_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")


class MediaIdTaken(Exception):
    """Different bytes are already stored under this media id."""

    def __init__(self, media_id: str) -> None:
        super().__init__(f"media id {media_id!r} already holds different content")
        self.media_id = media_id


def check_media_id(media_id: str) -> str:
    """The id itself, or ``ValueError`` when it is not ``[A-Za-z0-9_-]{1,80}``."""
    if not isinstance(media_id, str) or MEDIA_ID.fullmatch(media_id) is None:
        raise ValueError(f"not a media id: {media_id!r}")
    return media_id


def content_digest(data: bytes) -> str:
    """What stores compare to tell "the same upload again" from "different content"."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredMedia:
    media_id: str
    school_id: str
    owner: str
    """Who uploaded it."""
    content_type: str
    """e.g. image/jpeg, application/pdf, video/mp4."""
    size: int
    created_at: datetime


class MediaStore(Protocol):
    async def put(
        self, media_id: str, data: bytes, *, school_id: str, owner: str, content_type: str
    ) -> StoredMedia:
        """Store ``data`` under ``media_id``.

        The same id with the same bytes again writes nothing and returns the stored media;
        the same id with different bytes raises ``MediaIdTaken``.
        """
        ...

    async def get(self, media_id: str) -> tuple[StoredMedia, bytes] | None: ...

    async def info(self, media_id: str) -> StoredMedia | None: ...

    async def delete(self, media_id: str) -> bool:
        """Remove the media; False when there was none."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
