"""The embedded media store: one directory of files, safe against crashes and races.

Layout under the root: ``<hh>/<h>.json`` (the sidecar: who, what, when, the content's
SHA-256 and the name of its data file) and ``<hh>/<h>.<token>.data`` (the bytes), where
``h`` is the SHA-256 of the media id. Hashing the id keeps ``Ab`` and ``ab`` apart on
case-insensitive file systems and keeps the id itself out of every path.

A put writes the data to a temporary file, fsyncs it and renames it (``os.replace``) to a
name no other put uses; then it writes the sidecar the same way, except that the last step
is ``os.link``, which refuses to overwrite. The sidecar appearing is the commit: a reader
never sees half a file, and of two racing puts (threads or processes) exactly one wins;
the loser compares digests and either returns the winner's media or raises
``MediaIdTaken``, then removes its own data file. A delete removes the sidecar first.
A crash can leave an unreferenced ``.data`` or ``.tmp`` file behind, never a broken media.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from schoolgate_kit.clock import Clock, utc_now
from schoolgate_kit.media.port import MediaIdTaken, StoredMedia, check_media_id, content_digest


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes) -> None:
    with path.open("xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


class FilesystemMediaStore:
    def __init__(self, root: Path, *, clock: Clock = utc_now) -> None:
        self._root = Path(root)
        self._clock = clock

    @classmethod
    async def open(cls, root: Path, *, clock: Clock = utc_now) -> FilesystemMediaStore:
        store = cls(root, clock=clock)
        await asyncio.to_thread(store._root.mkdir, parents=True, exist_ok=True)
        return store

    @property
    def root(self) -> Path:
        return self._root

    def _place(self, media_id: str) -> tuple[Path, str]:
        """The directory and file stem of a media id (which must already be checked)."""
        h = hashlib.sha256(check_media_id(media_id).encode()).hexdigest()
        return self._root / h[:2], h

    async def put(
        self, media_id: str, data: bytes, *, school_id: str, owner: str, content_type: str
    ) -> StoredMedia:
        check_media_id(media_id)
        return await asyncio.to_thread(
            self._put, media_id, bytes(data), school_id, owner, content_type
        )

    def _put(
        self, media_id: str, data: bytes, school_id: str, owner: str, content_type: str
    ) -> StoredMedia:
        directory, stem = self._place(media_id)
        sidecar = directory / f"{stem}.json"
        digest = content_digest(data)
        existing = self._read_sidecar(sidecar)
        if existing is not None:
            return self._same_or_taken(media_id, existing, digest)

        directory.mkdir(parents=True, exist_ok=True)
        token = uuid.uuid4().hex
        data_name = f"{stem}.{token}.data"
        data_path = directory / data_name
        temp = directory / f"{stem}.{token}.data.tmp"
        sidecar_temp = directory / f"{stem}.{token}.json.tmp"
        media = StoredMedia(
            media_id=media_id,
            school_id=school_id,
            owner=owner,
            content_type=content_type,
            size=len(data),
            created_at=self._clock(),
        )
        record = {
            "media_id": media.media_id,
            "school_id": media.school_id,
            "owner": media.owner,
            "content_type": media.content_type,
            "size": media.size,
            "created_at": media.created_at.isoformat(),
            "sha256": digest,
            "data": data_name,
        }
        committed = False
        try:
            _write_durably(temp, data)
            temp.replace(data_path)
            _write_durably(sidecar_temp, json.dumps(record).encode())
            try:
                os.link(sidecar_temp, sidecar)
                committed = True
            except FileExistsError:
                pass
            _fsync_dir(directory)
        finally:
            for leftover in (temp, sidecar_temp) if committed else (temp, sidecar_temp, data_path):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()
        if committed:
            return media
        # another put won the race for this id
        winner = self._read_sidecar(sidecar)
        if winner is None:  # ...and it was deleted again straight away
            raise MediaIdTaken(media_id)
        return self._same_or_taken(media_id, winner, digest)

    @staticmethod
    def _same_or_taken(media_id: str, record: dict[str, Any], digest: str) -> StoredMedia:
        if record["sha256"] != digest:
            raise MediaIdTaken(media_id)
        return _media(record)

    @staticmethod
    def _read_sidecar(sidecar: Path) -> dict[str, Any] | None:
        try:
            record: dict[str, Any] = json.loads(sidecar.read_bytes())
        except FileNotFoundError:
            return None
        return record

    async def get(self, media_id: str) -> tuple[StoredMedia, bytes] | None:
        check_media_id(media_id)
        return await asyncio.to_thread(self._get, media_id)

    def _get(self, media_id: str) -> tuple[StoredMedia, bytes] | None:
        directory, stem = self._place(media_id)
        record = self._read_sidecar(directory / f"{stem}.json")
        if record is None:
            return None
        try:
            data = (directory / _data_name(record, stem)).read_bytes()
        except FileNotFoundError:  # deleted between reading the sidecar and the data
            return None
        return _media(record), data

    async def info(self, media_id: str) -> StoredMedia | None:
        check_media_id(media_id)
        directory, stem = self._place(media_id)
        record = await asyncio.to_thread(self._read_sidecar, directory / f"{stem}.json")
        return None if record is None else _media(record)

    async def delete(self, media_id: str) -> bool:
        check_media_id(media_id)
        return await asyncio.to_thread(self._delete, media_id)

    def _delete(self, media_id: str) -> bool:
        directory, stem = self._place(media_id)
        sidecar = directory / f"{stem}.json"
        record = self._read_sidecar(sidecar)
        if record is None:
            return False
        try:
            sidecar.unlink()
        except FileNotFoundError:  # a concurrent delete got there first
            return False
        with contextlib.suppress(FileNotFoundError):
            (directory / _data_name(record, stem)).unlink()
        _fsync_dir(directory)
        return True

    async def ping(self) -> None:
        def check() -> None:
            if not self._root.is_dir():
                raise OSError(f"media directory {self._root} is missing")
            if not os.access(self._root, os.W_OK | os.X_OK):
                raise OSError(f"media directory {self._root} is not writable")

        await asyncio.to_thread(check)

    async def close(self) -> None:
        return None


def _data_name(record: dict[str, Any], stem: str) -> str:
    name = str(record["data"])
    # the sidecar names a file beside it, never a path elsewhere
    if not (name.startswith(f"{stem}.") and name.endswith(".data") and "/" not in name):
        raise ValueError(f"media sidecar {stem}.json names an unexpected data file {name!r}")
    return name


def _media(record: dict[str, Any]) -> StoredMedia:
    return StoredMedia(
        media_id=record["media_id"],
        school_id=record["school_id"],
        owner=record["owner"],
        content_type=record["content_type"],
        size=int(record["size"]),
        created_at=datetime.fromisoformat(record["created_at"]),
    )
