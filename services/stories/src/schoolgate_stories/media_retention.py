"""Media nothing shows any more leaves the media store: deleted posts' photos, attachments
an edit or a resubmission dropped, and uploads never attached within ``unattached_ttl``.

Can media be shared? Yes: an uploader may attach one upload to several posts and portfolio
items, and a leader's edit keeps the author's attachments. So a media goes only when no
live post or item holds it, which this module tracks itself, in log order, in a read model
of its own (``HOLDS``, generation 0, never rebuilt):

- ``h:<holder>`` (``post:<id>`` or ``item:<id>``): the media the holder holds now;
- ``m:<media_id>``: the holders of a media, while it has any;
- ``u:<media_id>``: an upload not seen attached yet, written by the upload before its bytes;
- ``p:<pupil_id>``: the media showing a pupil (tagged in a post, or in their portfolio). When
  the pupil is erased (``PupilErased``) these go whoever else holds them: a story keeps its
  words and its other photos, and shows that one as missing.

``follow`` reads the log from its checkpoint. For each batch it works out which media lost
their last holder, deletes them (and their thumbnails) from the media store, then commits
the documents and the checkpoint together: a crash in between folds the same batch into
the same documents again and deletes the same media again, which is harmless (deleting
what is gone is a no-op). So deletion is at least once, and idempotent. It must run in one
process at a time (see ``entrypoints.http``).

``sweep`` deletes a bounded number of uploads older than ``unattached_ttl`` that nothing
holds; it runs only when ``follow`` has caught up with the log's head, so an upload that
was attached is never taken for an unattached one. One race is left: a post checking an
upload exists while that upload is being deleted (it lost its last holder, or just turned
``unattached_ttl`` old) can still be appended, with a photo that is gone (shown as missing).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.roster import PupilErased
from schoolgate_contracts.stories import (
    PortfolioItemSubmitted,
    PostDeleted,
    PostEdited,
    PostPublished,
)
from schoolgate_kit.eventstore import Batch, EventStore
from schoolgate_kit.media import MediaStore
from schoolgate_kit.readmodels import Doc, ReadModelStore

from schoolgate_stories.projections import when

log = structlog.get_logger()

HOLDS = "stories.media_holds"
GENERATION = 0
"""Generation 0 is the read-model store's one for state that is never rebuilt."""
THUMB_SUFFIX = "-thumb"
TYPES = [
    e.event_type
    for e in (PostPublished, PostEdited, PostDeleted, PortfolioItemSubmitted, PupilErased)
]
POSITION = "_position"


def _holding(event: RecordedEvent) -> tuple[str, list[str]] | None:
    """The holder an event is about, and the media it holds afterwards."""
    match event.event:
        case (
            PostPublished(post_id=post_id, attachments=attached)
            | PostEdited(post_id=post_id, attachments=attached)
        ):
            return f"post:{post_id}", sorted({a.media_id for a in attached})
        case PostDeleted(post_id=post_id):
            return f"post:{post_id}", []
        case PortfolioItemSubmitted(item_id=item_id, attachments=attached):
            return f"item:{item_id}", sorted({a.media_id for a in attached})
    return None


def _showing(event: RecordedEvent) -> dict[str, set[str]]:
    """The media an event shows each pupil in, by pupil id."""
    shown: dict[str, set[str]] = {}
    match event.event:
        case PostPublished(attachments=attached) | PostEdited(attachments=attached):
            for attachment in attached:
                for pupil_id in attachment.tagged_pupil_ids:
                    shown.setdefault(pupil_id, set()).add(attachment.media_id)
        case PortfolioItemSubmitted(pupil_id=pupil_id, attachments=attached):
            for attachment in attached:
                for shows in {pupil_id, *attachment.tagged_pupil_ids}:
                    shown.setdefault(shows, set()).add(attachment.media_id)
    return shown


def erase(docs: dict[str, Doc | None], event: RecordedEvent) -> set[str]:
    """The media showing an erased pupil: to be deleted whoever else holds them."""
    if not isinstance(event.event, PupilErased):
        return set()
    key = f"p:{event.event.pupil_id}"
    doc = docs.get(key)
    if doc is None or doc[POSITION] >= event.position:
        return set()
    docs[key] = {"media_ids": [], "erased": True, POSITION: event.position}
    return set(doc["media_ids"])


def _note_showing(docs: dict[str, Doc | None], event: RecordedEvent) -> None:
    for pupil_id, media_ids in _showing(event).items():
        key = f"p:{pupil_id}"
        doc = docs.get(key) or {"media_ids": [], POSITION: 0}
        if doc[POSITION] < event.position:
            merged = sorted({*doc["media_ids"], *media_ids})
            docs[key] = {**doc, "media_ids": merged, POSITION: event.position}


def fold(docs: dict[str, Doc | None], event: RecordedEvent) -> set[str]:
    """Apply one event to the documents (which must hold every key it touches, None for
    missing); the media it took their last holder from. A document that already reflects
    the event's position is left alone."""
    found = _holding(event)
    if found is None:
        return set()
    holder, now_held = found
    position = event.position
    before = docs.get(f"h:{holder}")
    if before is not None and before[POSITION] >= position:
        return set()
    let_go: set[str] = set()
    held_before = set(before["media_ids"]) if before is not None else set()
    docs[f"h:{holder}"] = {"media_ids": now_held, POSITION: position} if now_held else None
    for media_id in set(now_held) - held_before:
        key = f"m:{media_id}"
        doc = docs.get(key) or {"media_id": media_id, "holders": [], POSITION: 0}
        if doc[POSITION] < position:
            holders = sorted({*doc["holders"], holder})
            docs[key] = {**doc, "holders": holders, POSITION: position}
        docs[f"u:{media_id}"] = None  # attached: no longer a candidate for expiry
    for media_id in held_before - set(now_held):
        key = f"m:{media_id}"
        held = docs.get(key)
        if held is None or held[POSITION] >= position:
            continue
        holders = [h for h in held["holders"] if h != holder]
        docs[key] = {**held, "holders": holders, POSITION: position} if holders else None
        if not holders:
            let_go.add(media_id)
    return let_go


def holder_keys(events: Iterable[RecordedEvent]) -> set[str]:
    return {f"h:{found[0]}" for found in map(_holding, events) if found is not None}


def keys_of(events: Iterable[RecordedEvent], holders: dict[str, Doc]) -> set[str]:
    """Every key a batch touches, given the holders' documents as stored."""
    keys: set[str] = set()
    for event in events:
        keys.update(f"p:{pupil_id}" for pupil_id in _showing(event))
        if isinstance(event.event, PupilErased):
            keys.add(f"p:{event.event.pupil_id}")
        found = _holding(event)
        if found is None:
            continue
        holder, now_held = found
        keys.add(f"h:{holder}")
        stored = holders.get(f"h:{holder}")
        for media_id in [*now_held, *(stored["media_ids"] if stored else [])]:
            keys.update((f"m:{media_id}", f"u:{media_id}"))
    return keys


def fold_batch(docs: dict[str, Doc | None], events: Iterable[RecordedEvent]) -> list[str]:
    """Apply a batch; the media that lost their last holder in it and have none at its end
    (one may be let go and taken up again within a batch)."""
    let_go: set[str] = set()
    erased: set[str] = set()
    for event in events:
        _note_showing(docs, event)
        erased |= erase(docs, event)
        let_go |= fold(docs, event)
    return sorted({m for m in let_go if docs.get(f"m:{m}") is None} | erased)


async def record_upload(
    readmodels: ReadModelStore, media_id: str, school_id: str, at: datetime
) -> None:
    """Before the bytes are stored: an upload the store has is always one the sweep knows."""
    doc = {"kind": "upload", "media_id": media_id, "school_id": school_id, "uploaded_at": when(at)}
    await readmodels.commit(HOLDS, GENERATION, {f"u:{media_id}": doc}, None)


async def _delete_media(media: MediaStore, media_id: str) -> None:
    for variant in (media_id, media_id + THUMB_SUFFIX):
        await media.delete(variant)


@dataclass
class MediaRetention:
    store: EventStore
    readmodels: ReadModelStore
    media: MediaStore
    clock: Callable[[], datetime]
    unattached_ttl: timedelta = timedelta(hours=12)
    sweep_limit: int = 100
    """Uploads one sweep looks at, at most: the work of a sweep is bounded."""
    batch_size: int = 500
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _caught_up: asyncio.Condition = field(default_factory=asyncio.Condition)
    _position: int = 0

    async def start(self) -> None:
        await self.readmodels.ensure_index(HOLDS, ("kind", "uploaded_at"))
        self._position = await self.readmodels.checkpoint(HOLDS, GENERATION)

    async def apply(self, batch: Batch) -> list[str]:
        """Fold a batch, delete what it released, then commit; the media ids deleted."""
        async with self._lock:
            holders = holder_keys(batch.events)
            stored_holders = await self.readmodels.get_many(HOLDS, holders) if holders else {}
            keys = keys_of(batch.events, stored_holders)
            stored = await self.readmodels.get_many(HOLDS, keys) if keys else {}
            before: dict[str, Doc | None] = {k: stored.get(k) for k in keys}
            docs = dict(before)
            gone = fold_batch(docs, batch.events)
            for media_id in gone:
                await _delete_media(self.media, media_id)
            changes = {k: v for k, v in docs.items() if v != before.get(k)}
            if changes or batch.up_to > self._position:
                await self.readmodels.commit(HOLDS, GENERATION, changes, batch.up_to)
            async with self._caught_up:
                self._position = max(self._position, batch.up_to)
                self._caught_up.notify_all()
        if gone:
            log.info("stories.media_released", count=len(gone))
        return gone

    async def follow(self) -> None:
        """Until cancelled."""
        async for batch in self.store.subscribe(
            after=self._position, types=TYPES, batch_size=self.batch_size
        ):
            await self.apply(batch)

    async def caught_up_with(self, position: int) -> None:
        async with self._caught_up:
            await self._caught_up.wait_for(lambda: self._position >= position)

    async def sweep(self) -> int:
        """Delete up to ``sweep_limit`` expired uploads nothing holds; how many were looked at.

        The caller makes sure ``follow`` has caught up with the head first."""
        cutoff = when(self.clock() - self.unattached_ttl)
        async with self._lock:
            found = await self.readmodels.find(
                HOLDS,
                {"kind": "upload"},
                order_by="uploaded_at",
                limit=self.sweep_limit,
                before=("uploaded_at", cutoff),
            )
            if not found:
                return 0
            ids = [doc["media_id"] for doc in found]
            held = await self.readmodels.get_many(HOLDS, [f"m:{m}" for m in ids])
            expired = [m for m in ids if f"m:{m}" not in held]
            for media_id in expired:
                await _delete_media(self.media, media_id)
            await self.readmodels.commit(HOLDS, GENERATION, {f"u:{m}": None for m in ids}, None)
        if expired:
            log.info("stories.uploads_expired", count=len(expired))
        return len(found)

    async def sweep_when_caught_up(self) -> int:
        await self.caught_up_with(await self.store.head())
        return await self.sweep()

    async def run(self, every: timedelta) -> None:
        """Follow the log, and sweep every ``every``; until cancelled. A failure (the
        database away for a moment) is logged and the whole starts again from the
        checkpoint after ``every``: deleting twice is harmless, stopping for good is not."""
        while True:
            try:
                await self._run(every)
            except Exception:
                log.exception("stories.media_retention_failed")
                await asyncio.sleep(every.total_seconds())

    async def _run(self, every: timedelta) -> None:
        await self.start()
        following = asyncio.create_task(self.follow(), name="stories:media-retention")
        try:
            while True:
                await asyncio.wait([following], timeout=every.total_seconds())
                sweeping = asyncio.create_task(self.sweep_when_caught_up())
                await asyncio.wait([following, sweeping], return_when=asyncio.FIRST_COMPLETED)
                if following.done():
                    sweeping.cancel()
                    following.result()  # follow ends only by failing: raise it here
                await sweeping
        finally:
            following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await following
