"""Media retention on real parts: an SQLite event store and read-model file, a media
directory, and an injected clock, in this process (so a day can pass)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from schoolgate_contracts import Event, Metadata, NewEvent
from schoolgate_contracts.roster import PupilErased
from schoolgate_contracts.stories import (
    Attachment,
    Audience,
    PortfolioItemSubmitted,
    PostDeleted,
    PostEdited,
    PostPublished,
)
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.media.filesystem import FilesystemMediaStore
from schoolgate_kit.readmodels import ReadModelStore
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.testing.events import ManualClock
from schoolgate_stories.media_retention import (
    GENERATION,
    HOLDS,
    TYPES,
    MediaRetention,
    record_upload,
)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SCHOOL = "school-1"
CLASSES = Audience(kind="classes", class_ids=("oak",))


@dataclass
class Parts:
    store: SqliteEventStore
    readmodels: SqliteReadModelStore
    media: FilesystemMediaStore
    clock: ManualClock
    retention: MediaRetention
    following: asyncio.Task[None]

    async def upload(self, media_id: str) -> None:
        """As the upload route does: the record first, then the full size and thumbnail."""
        await record_upload(self.readmodels, media_id, SCHOOL, self.clock())
        for variant in (media_id, f"{media_id}-thumb"):
            await self.media.put(
                variant, variant.encode(), school_id=SCHOOL, owner="t1", content_type="image/png"
            )

    async def stored(self, media_id: str) -> bool:
        full = await self.media.get(media_id)
        thumb = await self.media.get(f"{media_id}-thumb")
        assert (full is None) == (thumb is None), "a media and its thumbnail go together"
        return full is not None

    async def append(self, stream: str, *events: Event) -> int:
        metadata = Metadata(
            occurred_at=self.clock(), school_id=SCHOOL, actor="t1", correlation_id="c"
        )
        done = await self.store.append(
            stream,
            [NewEvent(event_id=uuid.uuid4(), event=e, metadata=metadata) for e in events],
            expected_version=None,
        )
        return done.position

    def retention_on(self, readmodels: ReadModelStore) -> MediaRetention:
        return MediaRetention(
            store=self.store, readmodels=readmodels, media=self.media, clock=self.clock
        )

    async def checkpoint(self) -> int:
        return await self.readmodels.checkpoint(HOLDS, GENERATION)

    async def stop_following(self) -> None:
        self.following.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.following

    async def followed(self) -> None:
        """The retention has followed the log to its head."""
        await self.retention.caught_up_with(await self.store.head())


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[Parts]:
    clock = ManualClock(START)
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=clock)
    readmodels = await SqliteReadModelStore.open(tmp_path / "readmodels.db")
    media = await FilesystemMediaStore.open(tmp_path / "media", clock=clock)
    retention = MediaRetention(
        store=store, readmodels=readmodels, media=media, clock=clock, sweep_limit=3
    )
    await retention.start()
    following = asyncio.create_task(retention.follow())
    parts = Parts(store, readmodels, media, clock, retention, following)
    yield parts
    await parts.stop_following()
    await media.close()
    await readmodels.close()
    await store.close()


def photo(media_id: str) -> Attachment:
    return Attachment(media_id=media_id, kind="image", alt_text="a photo")


def published(post_id: str, *media: str) -> PostPublished:
    return PostPublished(
        post_id=post_id,
        author_id="t1",
        audience=CLASSES,
        text="Our week",
        attachments=tuple(photo(m) for m in media),
        visible_from=START,
    )


def edited(post_id: str, *media: str) -> PostEdited:
    return PostEdited(
        post_id=post_id,
        edited_by="t1",
        text="Our week, again",
        attachments=tuple(photo(m) for m in media),
        visible_from=START,
    )


async def test_a_deleted_post_takes_its_media_but_not_what_others_still_hold(
    parts: Parts,
) -> None:
    for media_id in ("only", "shared", "dropped", "kept", "work"):
        await parts.upload(media_id)
    await parts.append("post-a", published("a", "only", "shared", "dropped", "kept"))
    await parts.append("post-b", published("b", "shared"))
    await parts.append(
        "portfolio-i",
        PortfolioItemSubmitted(
            item_id="i", pupil_id="p1", class_id="oak", attachments=(photo("work"),)
        ),
    )
    await parts.append("post-a", edited("a", "only", "shared", "kept"))
    await parts.followed()
    assert not await parts.stored("dropped"), "an edit's dropped photo goes"
    assert await parts.stored("only") and await parts.stored("kept")

    await parts.append("post-a", PostDeleted(post_id="a", deleted_by="t1"))
    await parts.followed()
    assert not await parts.stored("only") and not await parts.stored("kept")
    assert await parts.stored("shared"), "post b still shows it"
    assert await parts.stored("work"), "the portfolio item still shows it"

    # a resubmission without the photo lets it go; deleting the other post lets "shared" go
    await parts.append(
        "portfolio-i", PortfolioItemSubmitted(item_id="i", pupil_id="p1", class_id="oak")
    )
    await parts.append("post-b", PostDeleted(post_id="b", deleted_by="t1"))
    await parts.followed()
    assert not await parts.stored("work") and not await parts.stored("shared")


class DiesAfterCommit:
    """The read models, in a process that dies just after its first commit returns."""

    def __init__(self, inner: SqliteReadModelStore) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def commit(self, *args: Any) -> bool:
        await self._inner.commit(*args)
        raise ProcessDied


class ProcessDied(Exception):
    pass


async def test_a_crash_at_any_point_still_deletes_the_media_once_restarted(
    parts: Parts,
) -> None:
    await parts.stop_following()
    await parts.upload("m")
    await parts.append("post-a", published("a", "m"))
    first = parts.retention_on(parts.readmodels)
    await first.start()
    await first.apply(await parts.store.read_all(after=0, types=TYPES))
    await parts.append("post-a", PostDeleted(post_id="a", deleted_by="t1"))

    dying = parts.retention_on(cast(ReadModelStore, DiesAfterCommit(parts.readmodels)))
    await dying.start()
    batch = await parts.store.read_all(after=await parts.checkpoint(), types=TYPES)
    with pytest.raises(ProcessDied):
        await dying.apply(batch)

    restarted = parts.retention_on(parts.readmodels)
    await restarted.start()
    await restarted.apply(await parts.store.read_all(after=await parts.checkpoint(), types=TYPES))
    assert not await parts.stored("m")
    assert await parts.readmodels.get(HOLDS, "m:m") is None
    assert await parts.checkpoint() == batch.up_to

    # and folding the same batch once more (a second delivery) releases nothing new
    assert await restarted.apply(batch) == []


async def test_a_photo_posted_and_deleted_within_one_batch_goes_too(parts: Parts) -> None:
    await parts.stop_following()
    for media_id in ("brief", "back"):
        await parts.upload(media_id)
    await parts.append("post-a", published("a", "brief"))
    await parts.append("post-a", PostDeleted(post_id="a", deleted_by="t1"))
    # let go and taken up again within the batch: kept
    await parts.append("post-b", published("b", "back"))
    await parts.append("post-b", edited("b"))
    await parts.append("post-b", edited("b", "back"))
    batch = await parts.store.read_all(after=0, types=TYPES)
    assert len(batch.events) == 5

    assert await parts.retention.apply(batch) == ["brief"]
    assert not await parts.stored("brief")
    assert await parts.stored("back")


async def test_uploads_never_attached_expire_within_a_day_a_bounded_few_per_sweep(
    parts: Parts,
) -> None:
    for n in range(5):
        await parts.upload(f"loose-{n}")
    await parts.upload("attached")
    await parts.append("post-a", published("a", "attached"))
    await parts.followed()
    # the same upload sent again after it was attached (a retry racing the post)
    await record_upload(parts.readmodels, "attached", SCHOOL, parts.clock())
    parts.clock.now += timedelta(hours=6)
    await parts.upload("recent")
    await parts.followed()

    parts.clock.now = START + parts.retention.unattached_ttl - timedelta(minutes=1)
    assert await parts.retention.sweep_when_caught_up() == 0, "nothing is old enough yet"

    parts.clock.now = START + parts.retention.unattached_ttl + timedelta(minutes=1)
    # six records (five uploads and the retried one), three a sweep at most
    assert await parts.retention.sweep_when_caught_up() == 3
    assert await parts.retention.sweep_when_caught_up() == 3
    assert await parts.retention.sweep_when_caught_up() == 0
    for n in range(5):
        assert not await parts.stored(f"loose-{n}")
    assert await parts.stored("attached") and await parts.stored("recent")

    parts.clock.now = START + timedelta(days=1)
    assert await parts.retention.sweep_when_caught_up() == 1
    assert not await parts.stored("recent")
    assert await parts.stored("attached"), "a post holds it: it never expires"


async def test_an_erased_pupils_photos_go_even_from_stories_that_stay(parts: Parts) -> None:
    for media_id in ("tagged", "portfolio", "others", "classmate"):
        await parts.upload(media_id)
    tagged = Attachment(media_id="tagged", kind="image", tagged_pupil_ids=("p1", "p2"))
    classmate = Attachment(media_id="classmate", kind="image", tagged_pupil_ids=("p2",))
    await parts.append(
        "post-a",
        PostPublished(
            post_id="a",
            author_id="t1",
            audience=CLASSES,
            text="Sports day",
            attachments=(tagged, classmate, photo("others")),
            visible_from=START,
        ),
    )
    await parts.append(
        "portfolio-i",
        PortfolioItemSubmitted(
            item_id="i", pupil_id="p1", class_id="oak", attachments=(photo("portfolio"),)
        ),
    )
    await parts.followed()
    erased = PupilErased(pupil_id="p1", class_id="oak", erased_by="head")
    await parts.append("roster-school-1", erased)
    await parts.followed()
    assert not await parts.stored("tagged") and not await parts.stored("portfolio")
    assert await parts.stored("others") and await parts.stored("classmate")
    # the same erasure folded again (a crash before the checkpoint) deletes nothing more
    await parts.append("roster-school-1", erased)
    await parts.followed()
    assert await parts.stored("classmate")
