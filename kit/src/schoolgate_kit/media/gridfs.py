"""The cluster media store: MongoDB GridFS through PyMongo's asyncio API.

Each media is one GridFS file in the bucket (default ``media``) whose ``filename`` is the
media id; who, what and the content's SHA-256 sit in the file's ``metadata``. GridFS writes
the chunks first and the files document last, so the files document appearing is the
commit; a unique index on ``filename`` makes that commit exclusive. The loser of a race
(or a put of an id already taken) gets ``FileExists`` there, removes its own chunks (they
carry its own fresh ObjectId, never the winner's) and compares digests.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from gridfs import AsyncGridFSBucket
from gridfs.errors import CorruptGridFile, FileExists, NoFile
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from schoolgate_kit.clock import Clock, utc_now
from schoolgate_kit.media.port import MediaIdTaken, StoredMedia, check_media_id, content_digest

Record = dict[str, Any]

DEFAULT_DATABASE = "schoolgate"
DEFAULT_BUCKET = "media"


def _to_milliseconds(moment: datetime) -> datetime:
    """BSON dates hold milliseconds: round so what put returns equals what get reads."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


class GridFsMediaStore:
    def __init__(
        self,
        client: AsyncMongoClient[Record],
        database: AsyncDatabase[Record],
        bucket: str = DEFAULT_BUCKET,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._client = client
        self._bucket = AsyncGridFSBucket(database, bucket_name=bucket)
        self._bucket_name = bucket
        self._files: AsyncCollection[Record] = database[f"{bucket}.files"]
        self._clock = clock

    @classmethod
    def connect(
        cls,
        uri: str,
        database: str | None = None,
        bucket: str = DEFAULT_BUCKET,
        *,
        clock: Clock = utc_now,
    ) -> GridFsMediaStore:
        """A store that has not talked to the server yet; ``database`` defaults to the one
        the URI names, else ``schoolgate``."""
        client: AsyncMongoClient[Record] = AsyncMongoClient(uri, tz_aware=True)
        db = client[database] if database else client.get_default_database(DEFAULT_DATABASE)
        return cls(client, db, bucket, clock=clock)

    @classmethod
    async def open(
        cls,
        uri: str,
        database: str | None = None,
        bucket: str = DEFAULT_BUCKET,
        *,
        clock: Clock = utc_now,
    ) -> GridFsMediaStore:
        """Connect and make sure the unique index on media ids exists."""
        store = cls.connect(uri, database, bucket, clock=clock)
        try:
            await store._files.create_index(
                [("filename", ASCENDING)], unique=True, name="media_id_unique"
            )
        except BaseException:
            await store.close()
            raise
        return store

    @property
    def location(self) -> tuple[str, str]:
        """The database and bucket names."""
        return self._files.database.name, self._bucket_name

    async def put(
        self, media_id: str, data: bytes, *, school_id: str, owner: str, content_type: str
    ) -> StoredMedia:
        check_media_id(media_id)
        digest = content_digest(data)
        existing = await self._file(media_id)
        if existing is not None:
            return _same_or_taken(media_id, existing, digest)
        created_at = _to_milliseconds(self._clock())
        upload = self._bucket.open_upload_stream(
            media_id,
            metadata={
                "school_id": school_id,
                "owner": owner,
                "content_type": content_type,
                "sha256": digest,
                "created_at": created_at,
            },
        )
        try:
            await upload.write(data)
            await upload.close()
        except FileExists:
            # another put committed this id first; our chunks carry our own ObjectId
            await upload.abort()
            winner = await self._file(media_id)
            if winner is None:  # ...and it was deleted again straight away
                raise MediaIdTaken(media_id) from None
            return _same_or_taken(media_id, winner, digest)
        except BaseException:
            with contextlib.suppress(Exception):
                await upload.abort()
            raise
        return StoredMedia(
            media_id=media_id,
            school_id=school_id,
            owner=owner,
            content_type=content_type,
            size=len(data),
            created_at=created_at,
        )

    async def _file(self, media_id: str) -> Record | None:
        return await self._files.find_one({"filename": {"$eq": media_id}})

    async def get(self, media_id: str) -> tuple[StoredMedia, bytes] | None:
        check_media_id(media_id)
        record = await self._file(media_id)
        if record is None:
            return None
        try:
            stream = await self._bucket.open_download_stream(record["_id"])
            data = await stream.read()
        except (NoFile, CorruptGridFile):
            if await self._file(media_id) is None:  # deleted while we read it
                return None
            raise
        return _media(record), data

    async def info(self, media_id: str) -> StoredMedia | None:
        check_media_id(media_id)
        record = await self._file(media_id)
        return None if record is None else _media(record)

    async def delete(self, media_id: str) -> bool:
        check_media_id(media_id)
        record = await self._file(media_id)
        if record is None:
            return False
        try:
            # removes the files document (the commit) first, then the chunks
            await self._bucket.delete(record["_id"])
        except NoFile:  # a concurrent delete got there first
            return False
        return True

    async def ping(self) -> None:
        await self._client.admin.command("ping")

    async def close(self) -> None:
        await self._client.close()


def _same_or_taken(media_id: str, record: Record, digest: str) -> StoredMedia:
    if record.get("metadata", {}).get("sha256") != digest:
        raise MediaIdTaken(media_id)
    return _media(record)


def _media(record: Record) -> StoredMedia:
    meta = record["metadata"]
    return StoredMedia(
        media_id=record["filename"],
        school_id=meta["school_id"],
        owner=meta["owner"],
        content_type=meta["content_type"],
        size=int(record["length"]),
        created_at=meta["created_at"],
    )
