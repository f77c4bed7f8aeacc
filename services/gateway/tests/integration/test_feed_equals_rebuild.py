"""The parent feed over a real (embedded) event store and read-model store: built live from a
sequence of facts, it shows each parent what they may see, and a rebuild from position 0
gives every parent exactly the same pages."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from schoolgate_contracts import Event, Metadata, NewEvent
from schoolgate_contracts.consent import (
    GuardianLinked,
    MediaConsentGranted,
    MediaConsentWithdrawn,
    ParentSuspended,
)
from schoolgate_contracts.points import PointAwarded, PointAwardUndone
from schoolgate_contracts.roster import (
    ClassAdded,
    PupilEnrolled,
    PupilLeft,
    PupilMovedClass,
    SchoolDetails,
    SchoolRegistered,
    SchoolWayAdded,
    StaffMemberAdded,
    StaffRole,
    YearGroupAdded,
)
from schoolgate_contracts.stories import (
    Attachment,
    Audience,
    PortfolioItemApproved,
    PortfolioItemSentBack,
    PortfolioItemSubmitted,
    PostDeleted,
    PostEdited,
    PostLiked,
    PostPublished,
    PostUnliked,
)
from schoolgate_gateway.feed import FEED, FeedPage, parent_feed
from schoolgate_gateway.projections import PROJECTIONS
from schoolgate_gateway.scope import Suspended
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.projections import rebuild, run_projection
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.testing.waiting import until

START = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
TODAY = date(2026, 11, 16)
NOW = datetime(2026, 11, 16, 15, 0, tzinfo=UTC)
"""When the pages are read: after every fact, before the scheduled post is due."""
LATER = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
"""After the scheduled post is due."""
PARENTS = ("mum-ada-dev", "dad-ben", "carer-fay-gus", "nobody", "mum-eve", "dad-ivy")


class Facts:
    """Facts appended as the services would, each a minute after the one before."""

    def __init__(self, store: SqliteEventStore) -> None:
        self.store = store
        self.at = START

    async def __call__(self, school: str, stream: str, *events: Event) -> None:
        batch = []
        for event in events:
            self.at += timedelta(minutes=1)
            batch.append(
                NewEvent(
                    event_id=uuid.uuid4(),
                    event=event,
                    metadata=Metadata(
                        occurred_at=self.at, school_id=school, actor="t", correlation_id="c"
                    ),
                )
            )
        await self.store.append(stream, batch, expected_version=None)


def pupil(pupil_id: str, class_id: str, year: str, surname: str = "Test") -> PupilEnrolled:
    return PupilEnrolled(
        pupil_id=pupil_id,
        first_name=pupil_id.split("-")[0].title(),
        surname=surname,
        class_id=class_id,
        year_group_id=year,
    )


def post(post_id: str, audience: Audience, text: str, *attachments: Attachment) -> PostPublished:
    return PostPublished(
        post_id=post_id,
        author_id="ms-oak",
        audience=audience,
        text=text,
        attachments=attachments,
        visible_from=START,
    )


def photo(media_id: str, *tagged: str) -> Attachment:
    return Attachment(media_id=media_id, kind="image", alt_text=media_id, tagged_pupil_ids=tagged)


def award(award_id: str, pupil_id: str, way: str, on: date = TODAY) -> PointAwarded:
    return PointAwarded(
        award_id=award_id,
        pupil_id=pupil_id,
        class_id=None,
        school_way_id=way,
        awarded_by="ms-oak",
        school_date=on,
        week_start=on - timedelta(days=on.weekday()),
        awarded_at=START,
    )


def undo(of: PointAwarded) -> PointAwardUndone:
    return PointAwardUndone(
        award_id=of.award_id,
        pupil_id=of.pupil_id,
        class_id=of.class_id,
        school_way_id=of.school_way_id,
        kind=of.kind,
        points=of.points,
        school_date=of.school_date,
        week_start=of.week_start,
        undone_by="ms-oak",
    )


def classes(*class_ids: str) -> Audience:
    return Audience(kind="classes", class_ids=class_ids)


async def roster(facts: Facts) -> None:
    await facts(
        "s1",
        "roster-s1",
        SchoolRegistered(school_id="s1", details=SchoolDetails(name="Hill Primary")),
        YearGroupAdded(year_group_id="y3", name="Year 3"),
        YearGroupAdded(year_group_id="y4", name="Year 4"),
        ClassAdded(class_id="oak", name="Oak", year_group_id="y3"),
        ClassAdded(class_id="elm", name="Elm", year_group_id="y3"),
        ClassAdded(class_id="ash", name="Ash", year_group_id="y4"),
        SchoolWayAdded(school_way_id="kindness", name="Kindness"),
        SchoolWayAdded(school_way_id="effort", name="Effort"),
        StaffMemberAdded(
            staff_id="ms-oak", display_name="Ms Oak", email="oak@s1", role=StaffRole.teacher
        ),
        pupil("ada", "oak", "y3"),
        pupil("ben", "oak", "y3"),
        pupil("sam-k", "oak", "y3", surname="Kay"),
        pupil("sam-l", "oak", "y3", surname="Lee"),
        pupil("dev", "ash", "y4"),
        pupil("fay", "elm", "y3"),
        pupil("eve", "ash", "y4"),
        pupil("ivy", "ash", "y4"),
    )
    await facts(
        "s2",
        "roster-s2",
        SchoolRegistered(school_id="s2", details=SchoolDetails(name="Vale School")),
        YearGroupAdded(year_group_id="y1", name="Year 1"),
        ClassAdded(class_id="oak", name="Oak (Vale)", year_group_id="y1"),
        pupil("gus", "oak", "y1"),
    )
    for parent, children in {
        "mum-ada-dev": ("ada", "dev"),
        "dad-ben": ("ben", "sam-k"),
        "carer-fay-gus": ("fay",),
        "mum-eve": ("eve",),
        "dad-ivy": ("ivy",),
    }.items():
        for child in children:
            await facts("s1", f"links-{child}", _linked(parent, child))
    await facts("s2", "links-gus", _linked("carer-fay-gus", "gus"))
    for child in ("ada", "ben", "fay", "gus", "dev"):
        school = "s2" if child == "gus" else "s1"
        await facts(school, f"consent-{child}", MediaConsentGranted(pupil_id=child, granted_by="x"))


def _linked(parent: str, child: str) -> GuardianLinked:
    return GuardianLinked(pupil_id=child, parent_id=parent, invite_id=f"i-{parent}-{child}")


async def stories_and_points(facts: Facts) -> None:
    await facts("s1", "post-p1", post("p1", classes("oak"), "Oak trip", photo("m1", "ada", "ben")))
    await facts("s1", "post-p2", post("p2", classes("oak", "ash"), "Oak and Ash assembly"))
    await facts("s1", "post-p3", post("p3", Audience(kind="year_group", year_group_id="y3"), "Y3"))
    await facts("s1", "post-p4", post("p4", Audience(kind="school"), "Whole school news"))
    await facts("s2", "post-p5", post("p5", Audience(kind="school"), "Vale news"))
    await facts("s2", "post-p5b", post("p5b", classes("oak"), "Vale's Oak class"))
    await facts("s1", "post-p6", post("p6", classes("ash"), "Ash draft", photo("m6", "dev")))
    await facts(
        "s1",
        "post-p6",
        PostEdited(
            post_id="p6",
            edited_by="ms-oak",
            text="Ash, as it reads now",
            attachments=(photo("m6", "dev"), photo("m6b", "eve")),
            visible_from=START,
        ),
    )
    await facts("s1", "post-p9", post("p9", classes("oak", "elm"), "Oak and Elm"))
    await facts("s1", "post-p7", post("p7", classes("elm"), "Elm, deleted"))
    await facts("s1", "post-p7", PostDeleted(post_id="p7", deleted_by="ms-oak"))
    scheduled = post("p8", Audience(kind="school"), "Scheduled for Wednesday")
    await facts(
        "s1", "post-p8", scheduled.model_copy(update={"visible_from": LATER - timedelta(hours=1)})
    )
    await facts("s1", "post-p2", PostLiked(post_id="p2", parent_id="mum-ada-dev"))
    await facts("s1", "post-p2", PostLiked(post_id="p2", parent_id="dad-ben"))
    await facts("s1", "post-p2", PostUnliked(post_id="p2", parent_id="dad-ben"))
    await facts("s1", "post-p4", PostLiked(post_id="p4", parent_id="dad-ben"))

    work = photo("w1")
    await facts(
        "s1",
        "portfolio-f1",
        PortfolioItemSubmitted(
            item_id="f1", pupil_id="ada", class_id="oak", text="My volcano", attachments=(work,)
        ),
        PortfolioItemApproved(item_id="f1", pupil_id="ada", class_id="oak", approved_by="ms-oak"),
    )
    await facts(
        "s1",
        "portfolio-f2",
        PortfolioItemSubmitted(item_id="f2", pupil_id="dev", class_id="ash", text="Sent back"),
        PortfolioItemSentBack(
            item_id="f2", pupil_id="dev", class_id="ash", note="Try again", sent_back_by="ms-oak"
        ),
    )
    await facts(
        "s1",
        "portfolio-f3",
        PortfolioItemSubmitted(item_id="f3", pupil_id="ben", class_id="oak", text="Waiting"),
    )
    await facts(
        "s1",
        "portfolio-f4",
        PortfolioItemSubmitted(
            item_id="f4", pupil_id="ben", class_id="oak", text="Ben's", attachments=(photo("w4"),)
        ),
        PortfolioItemApproved(item_id="f4", pupil_id="ben", class_id="oak", approved_by="ms-oak"),
    )

    first, second, third = (
        award("a1", "ada", "kindness"),
        award("a2", "ada", "effort"),
        award("a3", "ada", "kindness"),
    )
    for awarded in (first, second, third):
        await facts("s1", f"award-{awarded.award_id}", awarded)
    await facts("s1", "award-a3", undo(third))
    yesterday = award("a4", "dev", "effort", on=TODAY - timedelta(days=1))
    await facts("s1", "award-a4", yesterday)
    gone = award("a5", "fay", "kindness")
    await facts("s1", "award-a5", gone)
    await facts("s1", "award-a5", undo(gone))
    await facts("s2", "award-a6", award("a6", "gus", "kindness"))


async def changes(facts: Facts) -> None:
    """Consent withdrawn, a class move and a leaver, after the items were written."""
    await facts("s1", "consent-ben", MediaConsentWithdrawn(pupil_id="ben", withdrawn_by="x"))
    await facts(
        "s1",
        "roster-s1",
        PupilMovedClass(pupil_id="dev", from_class_id="ash", to_class_id="elm", year_group_id="y3"),
    )
    await facts("s1", "roster-s1", PupilLeft(pupil_id="eve", class_id="ash"))


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[tuple[SqliteEventStore, SqliteReadModelStore]]:
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=lambda: NOW)
    readmodels = await SqliteReadModelStore.open(tmp_path / "readmodels.db")
    yield store, readmodels
    await readmodels.close()
    await store.close()


@contextlib.asynccontextmanager
async def live(store: SqliteEventStore, readmodels: SqliteReadModelStore) -> AsyncIterator[None]:
    """Every gateway projection following the store, in small batches."""
    tasks = [
        asyncio.create_task(run_projection(p, store, readmodels, batch_size=3)) for p in PROJECTIONS
    ]
    try:
        yield
        head = await store.head()

        async def caught_up() -> bool:
            for projection in PROJECTIONS:
                generation = await readmodels.active_generation(projection.name)
                if (
                    generation is None
                    or await readmodels.checkpoint(projection.name, generation) < head
                ):
                    return False
            return True

        await until(caught_up, why="every gateway projection catches up")
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def play(store: SqliteEventStore, readmodels: SqliteReadModelStore) -> None:
    facts = Facts(store)
    async with live(store, readmodels):
        await roster(facts)
        await asyncio.sleep(0.05)  # let the projections take some of it live
        await stories_and_points(facts)
        await asyncio.sleep(0.05)
        await changes(facts)


async def every_page(
    readmodels: SqliteReadModelStore, parent: str, now: datetime = NOW, limit: int = 2
) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    before = None
    while True:
        page = await parent_feed(readmodels, parent, now=now, before=before, limit=limit)
        pages.append(page.model_dump(mode="json"))
        if page.next is None:
            return pages
        before = page.next


async def whole_feed(readmodels: SqliteReadModelStore, parent: str) -> FeedPage:
    return await parent_feed(readmodels, parent, now=NOW, limit=50)


async def test_the_feed_equals_its_rebuild(
    parts: tuple[SqliteEventStore, SqliteReadModelStore],
) -> None:
    store, readmodels = parts
    await play(store, readmodels)
    live_pages = {
        (parent, now, limit): await every_page(readmodels, parent, now, limit)
        for parent in PARENTS
        for now in (NOW, LATER)
        for limit in (1, 2, 5, 50)
    }
    live_docs = await readmodels.find(FEED, {}, order_by="sort")
    assert sum(len(page["items"]) for page in live_pages[("mum-ada-dev", NOW, 2)]) > 5

    for projection in PROJECTIONS:
        await rebuild(projection, store, readmodels, batch_size=4)

    assert await readmodels.find(FEED, {}, order_by="sort") == live_docs
    for (parent, now, limit), pages in live_pages.items():
        assert await every_page(readmodels, parent, now, limit) == pages, (parent, now, limit)


async def test_each_parent_sees_what_they_may_and_nothing_else(
    parts: tuple[SqliteEventStore, SqliteReadModelStore],
) -> None:
    store, readmodels = parts
    await play(store, readmodels)

    mum = await whole_feed(readmodels, "mum-ada-dev")
    seen = {item.id: item for item in mum.items}
    # dev moved from Ash to Elm: Ash's posts went with the move, Elm's and year 3's came
    assert set(seen) == {
        "post:s1:p1",
        "post:s1:p2",
        "post:s1:p3",
        "post:s1:p4",
        "post:s1:p9",
        "portfolio:s1:f1",
        "points:s1:ada:2026-11-16",
        "points:s1:dev:2026-11-15",
    }
    assert [item.at for item in mum.items] == sorted((i.at for i in mum.items), reverse=True)
    # a post to two classes comes once, about the child it reached (Oak); the school's post
    # is about both children, and names only what the parent knows
    assert [c.name for c in seen["post:s1:p2"].about] == ["Ada"]
    assert seen["post:s1:p2"].audience == "Oak"
    assert [c.pupil_id for c in seen["post:s1:p4"].about] == ["ada", "dev"]
    assert seen["post:s1:p4"].audience == "Hill Primary"
    assert {c.pupil_id for c in seen["post:s1:p3"].about} == {"ada", "dev"}
    assert seen["post:s1:p3"].audience == "Year 3"
    assert seen["post:s1:p4"].author == "Ms Oak"
    # reached through two classes (two copies), shown once, about both, one page at a time
    assert [c.pupil_id for c in seen["post:s1:p9"].about] == ["ada", "dev"]
    assert seen["post:s1:p9"].audience == "Elm, Oak"
    for parent in PARENTS:
        one_by_one = [
            i["id"] for page in await every_page(readmodels, parent, limit=1) for i in page["items"]
        ]
        assert one_by_one == [i.id for i in (await whole_feed(readmodels, parent)).items]
    # likes: how many, and whether this parent is one of them
    assert (seen["post:s1:p2"].likes, seen["post:s1:p2"].liked) == (1, True)
    assert (seen["post:s1:p4"].likes, seen["post:s1:p4"].liked) == (1, False)
    # Ben's consent was withdrawn after the post: the photo showing him is gone from it
    assert seen["post:s1:p1"].attachments == []
    # approved portfolio items, with their media (the pupil may appear)
    assert seen["portfolio:s1:f1"].attachments[0].thumb_url == (
        "/api/stories/schools/s1/media/w1?size=thumb"
    )
    # points: one item per child per day, undos taken off, named as the school calls them
    ada = seen["points:s1:ada:2026-11-16"]
    assert ada.text == "Ada got 2 points today: Effort 1, Kindness 1"
    assert ada.points is not None and ada.points.total == 2
    assert seen["points:s1:dev:2026-11-15"].text == "Dev got 1 point yesterday: Effort 1"

    dad = {item.id: item for item in (await whole_feed(readmodels, "dad-ben")).items}
    # consent goes by who is tagged: Ben's portfolio photo of his work tags nobody
    assert [m.media_id for m in dad["portfolio:s1:f4"].attachments] == ["w4"]
    assert dad["portfolio:s1:f4"].text == "Ben's"
    assert "post:s1:p3" in dad and "post:s1:p6" not in dad
    assert {c.name for c in dad["post:s1:p1"].about} == {"Ben", "Sam K."}
    assert (dad["post:s1:p2"].likes, dad["post:s1:p2"].liked) == (1, False)
    assert not any(i.kind == "points" for i in dad.values())

    carer = {item.id: item for item in (await whole_feed(readmodels, "carer-fay-gus")).items}
    # Fay in Elm (Hill), Gus in Oak at Vale: Vale's Oak is not Hill's Oak
    assert set(carer) == {
        "post:s1:p3",
        "post:s1:p4",
        "post:s1:p9",
        "post:s2:p5",
        "post:s2:p5b",
        "points:s2:gus:2026-11-16",
    }
    assert [c.pupil_id for c in carer["post:s2:p5"].about] == ["gus"]

    # a leaver's family sees nothing of the school any more; nobody's sees nothing at all
    assert (await whole_feed(readmodels, "mum-eve")).items == []
    assert (await whole_feed(readmodels, "nobody")).items == []


async def test_scheduled_posts_wait_and_edits_replace(
    parts: tuple[SqliteEventStore, SqliteReadModelStore],
) -> None:
    store, readmodels = parts
    await play(store, readmodels)
    ids = [i.id for i in (await whole_feed(readmodels, "mum-ada-dev")).items]
    assert "post:s1:p8" not in ids
    later = await parent_feed(readmodels, "mum-ada-dev", now=LATER, limit=1)
    assert [i.id for i in later.items] == ["post:s1:p8"]
    assert later.next is not None
    # the next page goes on from there, without repeats
    rest = await parent_feed(readmodels, "mum-ada-dev", now=LATER, before=later.next, limit=50)
    assert [i.id for i in rest.items] == ids and rest.next is None

    # Ivy's family sees Ash's post as it reads now, without the photo of Eve (no consent)
    ivy = {i.id: i for i in (await whole_feed(readmodels, "dad-ivy")).items}
    edited = ivy["post:s1:p6"]
    assert (edited.text, edited.edited) == ("Ash, as it reads now", True)
    assert [m.media_id for m in edited.attachments] == ["m6"]
    assert "post:s1:p7" not in ivy


async def test_a_suspended_parent_is_refused(
    parts: tuple[SqliteEventStore, SqliteReadModelStore],
) -> None:
    store, readmodels = parts
    await play(store, readmodels)
    async with live(store, readmodels):
        await Facts(store)(
            "s1",
            "parents-dad-ben",
            ParentSuspended(parent_id="dad-ben", suspended_by="x", reason="r"),
        )
    with pytest.raises(Suspended):
        await whole_feed(readmodels, "dad-ben")
    assert (await whole_feed(readmodels, "mum-ada-dev")).items
