"""The parent feed: one time-ordered, paginated feed per parent of their children's points,
class, year-group and school posts, and approved portfolio items.

How it is kept
--------------
``gateway.feed`` holds one document per item, keyed by what the events name:

    post:{school}:{post_id}             the post as it reads now, and who liked it
    portfolio:{school}:{item_id}        a pupil's portfolio item and whether it is approved
    points:{school}:{pupil}:{date}      a pupil's points on one school day, by value

and each item *derives* a copy of itself for every audience it is shown to, keyed
``{target}|{item}`` and carrying ``target`` and ``sort``, where a target is ``school:{s}``,
``year:{s}:{y}``, ``class:{s}:{c}`` or ``pupil:{s}:{p}``. Edits, deletions and likes name only
the post, never its audience, so an event cannot say which copies it changes; the kit's
``Projection.derive`` rewrites (or deletes) the copies with the item, in the same commit as
the checkpoint, live and in a rebuild alike. The store indexes (target, sort).

Order
-----
``sort`` is ``{microseconds since 1970:016d}.{global position:012d}``: a time, then the
position of the event that placed the item (unique per item, so it is also the cursor), and
as a string it compares as that pair does. The time is

- a post's ``visible_from`` and the position of its publication: a scheduled post takes its
  place when it appears, and an edit that moves ``visible_from`` moves the post;
- a portfolio item's approval;
- a points day's latest award: a new award moves the day to the top, so "Ada got 3 points
  today" climbs as the day goes on; an undo leaves it where it is, and when every award of
  the day is undone the item goes.

Reading a page
--------------
The parent's children as they are now (``gateway.parents``, ``gateway.pupils``) give the
targets: each child's school, year group, class and the child. A child who left gives none;
a class, year group or school where the parent has no child is never a target, and a child in
another school brings only that school's items. One ``find`` reads the page: for each target
an index range scan (sort below the bound, newest first), merged by the store, ``limit + 1``
in all. An item reached through several targets comes once, about every child it reached
(its copies share its sort, so they come side by side; when they crowd out the ``+ 1`` the
page is asked for again, larger). The bound is the cursor or now, whichever is older, which
is what keeps a scheduled post out until its ``visible_from``. With the parent, the children,
their schools and classmates (for names), the tagged pupils' consent and the authors, a page
is seven round trips to the store, in four steps.

Consent is applied when a page is read, not when items are written: an attachment showing a
pupil who may not appear in media (``gateway.media_consent``, folded by the kit's one rule)
is left out of the answer, so a withdrawal holds from the next page on without rewriting any
item. The rule is the one the stories service applies when it serves the media: every pupil
tagged in an attachment must be cleared, by consent in that school.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel
from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.points import PointAwarded, PointAwardUndone
from schoolgate_contracts.privacy import REMOVED
from schoolgate_contracts.roster import OldPointsErased
from schoolgate_contracts.stories import (
    PortfolioItemApproved,
    PortfolioItemSentBack,
    PortfolioItemSubmitted,
    PostDeleted,
    PostEdited,
    PostLiked,
    PostPublished,
    PostUnliked,
)
from schoolgate_kit.directory import media_consent_projection
from schoolgate_kit.names import PupilName, display_names
from schoolgate_kit.projections import Projection
from schoolgate_kit.readmodels import Doc, OneOf, ReadModelStore

from schoolgate_gateway.people import PARENTS, PUPILS, SCHOOLS, STAFF, Suspended

FEED = "gateway.feed"
MEDIA_CONSENT = "gateway.media_consent"
PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
CURSOR_PATTERN = r"^\d{16}\.\d{12}$"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# -- keys, targets and order -----------------------------------------------------------------


def school_target(school_id: str) -> str:
    return f"school:{school_id}"


def year_target(school_id: str, year_group_id: str) -> str:
    return f"year:{school_id}:{year_group_id}"


def class_target(school_id: str, class_id: str) -> str:
    return f"class:{school_id}:{class_id}"


def pupil_target(school_id: str, pupil_id: str) -> str:
    return f"pupil:{school_id}:{pupil_id}"


def _utc(moment: datetime) -> datetime:
    """Aware times as they are; a time without a zone is taken as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def sort_key(moment: datetime, position: int) -> str:
    """An item's place in every feed: its time, then the position that placed it."""
    micros = max((_utc(moment) - EPOCH) // timedelta(microseconds=1), 0)
    return f"{micros:016d}.{position:012d}"


def _item_key(recorded: RecordedEvent) -> str:
    school = recorded.metadata.school_id
    match recorded.event:
        case (
            PostPublished(post_id=post)
            | PostEdited(post_id=post)
            | PostDeleted(post_id=post)
            | PostLiked(post_id=post)
            | PostUnliked(post_id=post)
        ):
            return f"post:{school}:{post}"
        case (
            PortfolioItemSubmitted(item_id=item)
            | PortfolioItemApproved(item_id=item)
            | PortfolioItemSentBack(item_id=item)
        ):
            return f"portfolio:{school}:{item}"
        case (
            PointAwarded(pupil_id=pupil, school_date=day)
            | PointAwardUndone(pupil_id=pupil, school_date=day)
        ):
            return f"points:{school}:{pupil}:{day.isoformat()}"
    raise AssertionError(f"the feed does not handle {recorded.event_type}")


# -- the fold ----------------------------------------------------------------------------------


def _attachments(attachments: Iterable[Any]) -> list[Doc]:
    return [a.model_dump(mode="json") for a in attachments]


def _post(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    match event:
        case PostPublished():
            return {
                "kind": "post",
                "school_id": recorded.metadata.school_id,
                "post_id": event.post_id,
                "author_id": event.author_id,
                "audience": event.audience.model_dump(mode="json"),
                "text": event.text,
                "attachments": _attachments(event.attachments),
                "at": _utc(event.visible_from).isoformat(),
                "published": recorded.position,
                "sort": sort_key(event.visible_from, recorded.position),
                "edited": False,
                "liked_by": [] if doc is None else doc.get("liked_by", []),
            }
        case PostEdited() if doc:
            return {
                **doc,
                "text": event.text,
                "attachments": _attachments(event.attachments),
                "at": _utc(event.visible_from).isoformat(),
                "sort": sort_key(event.visible_from, doc["published"]),
                "edited": True,
            }
        case PostDeleted():
            return None
        case PostLiked(parent_id=parent) if doc:
            return {**doc, "liked_by": sorted({*doc["liked_by"], parent})}
        case PostUnliked(parent_id=parent) if doc:
            return {**doc, "liked_by": [p for p in doc["liked_by"] if p != parent]}
    return doc


def _portfolio(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    match event:
        case PortfolioItemSubmitted():
            return {
                "kind": "portfolio",
                "school_id": recorded.metadata.school_id,
                "item_id": event.item_id,
                "pupil_id": event.pupil_id,
                "class_id": event.class_id,
                "task_id": event.task_id,
                "text": event.text,
                "attachments": _attachments(event.attachments),
                "status": "submitted",
                "at": None,
                "sort": None,
            }
        case PortfolioItemApproved() if doc:
            return {
                **doc,
                "status": "approved",
                "at": recorded.metadata.occurred_at.isoformat(),
                "sort": sort_key(recorded.metadata.occurred_at, recorded.position),
            }
        case PortfolioItemSentBack() if doc:
            return {**doc, "status": "sent_back", "at": None, "sort": None}
    return doc


def _add(counts: Mapping[str, int], way: str, points: int) -> dict[str, int]:
    changed = {**counts, way: counts.get(way, 0) + points}
    return {w: n for w, n in changed.items() if n > 0}


def _points(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    event = recorded.event
    match event:
        case PointAwarded() | PointAwardUndone() if event.pupil_id == REMOVED:
            return doc  # past the school's retention: nobody's points any more
        case PointAwarded():
            day = doc or {
                "kind": "points",
                "school_id": recorded.metadata.school_id,
                "pupil_id": event.pupil_id,
                "school_date": event.school_date.isoformat(),
                "week_start": event.week_start.isoformat(),
                "ways": {},
                "needs_work": {},
            }
            field = "ways" if event.kind == "positive" else "needs_work"
            return {
                **day,
                field: _add(day[field], event.school_way_id, event.points),
                "at": recorded.metadata.occurred_at.isoformat(),
                "sort": sort_key(recorded.metadata.occurred_at, recorded.position),
            }
        case PointAwardUndone() if doc:
            field = "ways" if event.kind == "positive" else "needs_work"
            day = {**doc, field: _add(doc[field], event.school_way_id, -event.points)}
            return day if day["ways"] or day["needs_work"] else None
    return doc


def _evolve(doc: Doc | None, recorded: RecordedEvent) -> Doc | None:
    match recorded.event:
        case PostPublished() | PostEdited() | PostDeleted() | PostLiked() | PostUnliked():
            return _post(doc, recorded)
        case PortfolioItemSubmitted() | PortfolioItemApproved() | PortfolioItemSentBack():
            return _portfolio(doc, recorded)
        case PointAwarded() | PointAwardUndone():
            return _points(doc, recorded)
    return doc


def _old_points(recorded: RecordedEvent) -> tuple[dict[str, Any], tuple[str, Any]]:
    """Days of points (and their copies) of weeks past the school's retention."""
    event = recorded.event
    assert isinstance(event, OldPointsErased)
    where = {"school_id": recorded.metadata.school_id, "kind": "points"}
    return where, ("week_start", event.before.isoformat())


def targets_of(item: Doc) -> list[str]:
    """Where an item is shown: the audiences whose families see it, none before approval."""
    school = item["school_id"]
    match item["kind"]:
        case "post":
            audience = item["audience"]
            if audience["kind"] == "classes":
                return [class_target(school, c) for c in sorted(set(audience["class_ids"]))]
            if audience["kind"] == "year_group" and audience.get("year_group_id"):
                return [year_target(school, audience["year_group_id"])]
            if audience["kind"] == "school":
                return [school_target(school)]
            return []
        case "portfolio":
            approved = item["status"] == "approved"
            return [pupil_target(school, item["pupil_id"])] if approved else []
        case "points":
            return [pupil_target(school, item["pupil_id"])]
    return []


def _copies(key: str, item: Doc) -> dict[str, Doc]:
    return {f"{t}|{key}": {**item, "item": key, "target": t} for t in targets_of(item)}


feed = Projection(
    name=FEED,
    handles=(
        PostPublished,
        PostEdited,
        PostDeleted,
        PostLiked,
        PostUnliked,
        PortfolioItemSubmitted,
        PortfolioItemApproved,
        PortfolioItemSentBack,
        PointAwarded,
        PointAwardUndone,
    ),
    key=_item_key,
    evolve=_evolve,
    derive=_copies,
    indexes=(("target", "sort"),),
    version=2,  # points of a day say their week, so a retention's purge finds them
    purged_by=(OldPointsErased,),
    purge=_old_points,
)
media_consent = media_consent_projection(MEDIA_CONSENT)
FEED_PROJECTIONS = (feed, media_consent)


# -- what a page says --------------------------------------------------------------------------


class Child(BaseModel):
    pupil_id: str
    name: str


class Media(BaseModel):
    media_id: str
    kind: str
    alt_text: str
    thumb_url: str
    url: str


class WayPoints(BaseModel):
    school_way_id: str
    name: str
    points: int


class Points(BaseModel):
    school_date: date
    total: int
    """Positive points less "needs work" points."""
    ways: list[WayPoints]
    needs_work: list[WayPoints] = []


class FeedItem(BaseModel):
    id: str
    kind: Literal["post", "portfolio", "points"]
    school_id: str
    at: datetime
    about: list[Child]
    """The parent's children the item is about (for a post: those in its audience)."""
    text: str
    attachments: list[Media] = []
    """Only media every pupil shown in may appear in."""
    likes: int = 0
    liked: bool = False
    """Whether this parent liked it."""
    post_id: str | None = None
    author: str | None = None
    audience: str | None = None
    """For a post: the parent's children's class(es), the year group or the school."""
    edited: bool = False
    item_id: str | None = None
    task_id: str | None = None
    points: Points | None = None
    cursor: str
    """Ask for ``before=`` this to continue after this item."""


class FeedPage(BaseModel):
    items: list[FeedItem]
    next: str | None
    """The cursor for the next (older) page, or None at the end."""


# -- reading a page ----------------------------------------------------------------------------


def _media(school_id: str, attachment: Doc) -> Media:
    path = f"/api/stories/schools/{quote(school_id)}/media/{quote(attachment['media_id'])}"
    return Media(
        media_id=attachment["media_id"],
        kind=attachment["kind"],
        alt_text=attachment.get("alt_text", ""),
        thumb_url=f"{path}?size=thumb",
        url=f"{path}?size=full",
    )


def _school_today(school: Doc, now: datetime) -> date:
    try:
        zone = ZoneInfo(school.get("timezone") or "Europe/London")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("Europe/London")
    return _utc(now).astimezone(zone).date()


def _when(day: date, today: date) -> str:
    if day == today:
        return "today"
    if day == today - timedelta(days=1):
        return "yesterday"
    return f"on {day:%A} {day.day} {day:%B}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _ways(counts: Mapping[str, int], names: Mapping[str, str]) -> list[WayPoints]:
    shown = [WayPoints(school_way_id=w, name=names.get(w, w), points=n) for w, n in counts.items()]
    return sorted(shown, key=lambda w: (-w.points, w.name.casefold(), w.school_way_id))


def _points_text(name: str, points: Points, when: str) -> str:
    def listed(ways: list[WayPoints]) -> str:
        return ", ".join(f"{w.name} {w.points}" for w in ways)

    said = []
    if points.ways:
        got = sum(w.points for w in points.ways)
        said.append(f"{name} got {_plural(got, 'point')} {when}: {listed(points.ways)}")
    if points.needs_work:
        needs = sum(w.points for w in points.needs_work)
        said.append(
            f"{name} has {_plural(needs, 'needs-work point')} {when}: {listed(points.needs_work)}"
        )
    return ". ".join(said)


async def parent_feed(
    readmodels: ReadModelStore,
    parent_id: str,
    *,
    now: datetime,
    before: str | None = None,
    limit: int = PAGE_SIZE,
    admit: Callable[[set[str]], Awaitable[None]] | None = None,
) -> FeedPage:
    """One page of a parent's feed, newest first, older than ``before`` (a cursor).

    A suspended parent is refused, as everywhere (``scope.Suspended``). ``admit`` is given
    the schools of the parent's children before anything of theirs is read, and raises to
    refuse (the code of conduct): the parent's document is read once for both."""
    parent = await readmodels.get(PARENTS, parent_id) or {}
    if parent.get("suspended"):
        raise Suspended("This account is suspended. Please contact the school office.")
    linked: dict[str, str] = parent.get("children", {})
    if admit is not None:
        await admit(set(linked.values()))
    found = await readmodels.get_many(PUPILS, linked)
    children = {
        pupil_id: doc
        for pupil_id, doc in sorted(found.items())
        if not doc["left"] and doc["school_id"] == linked[pupil_id]
    }
    reach: dict[str, set[str]] = {}
    for pupil_id, child in children.items():
        school = child["school_id"]
        for target in (
            school_target(school),
            year_target(school, child["year_group_id"]),
            class_target(school, child["class_id"]),
            pupil_target(school, pupil_id),
        ):
            reach.setdefault(target, set()).add(pupil_id)
    if not reach:
        return FeedPage(items=[], next=None)

    bound = sort_key(now + timedelta(microseconds=1), 0)
    if before is not None and before < bound:
        bound = before
    newest, schools, names = await asyncio.gather(
        _newest(readmodels, reach, bound, limit + 1),
        readmodels.get_many(SCHOOLS, {c["school_id"] for c in children.values()}),
        _names(readmodels, PUPILS, children.values()),
    )
    page = newest[:limit]
    tagged = {
        p for item, _ in page for a in item.get("attachments", ()) for p in a["tagged_pupil_ids"]
    }
    consent, authors = await asyncio.gather(
        readmodels.get_many(MEDIA_CONSENT, tagged),
        readmodels.get_many(STAFF, {i["author_id"] for i, _ in page if i["kind"] == "post"}),
    )
    items = [
        _render(item, about, parent_id, children, schools, names, consent, authors, now)
        for item, about in page
    ]
    more = len(newest) > limit
    return FeedPage(items=items, next=page[-1][0]["sort"] if more and page else None)


async def _newest(
    readmodels: ReadModelStore, reach: Mapping[str, set[str]], bound: str, wanted: int
) -> list[tuple[Doc, set[str]]]:
    """Up to ``wanted`` items below ``bound``, newest first, each with the children it
    reached. An item reached through several targets comes as several copies, side by side
    (they share its sort); asking for more copies than items is rare, so ask again."""
    fetch = wanted
    while True:
        copies = await readmodels.find(
            FEED,
            {"target": OneOf(tuple(reach))},
            order_by="sort",
            descending=True,
            limit=fetch,
            before=("sort", bound),
        )
        items: dict[str, tuple[Doc, set[str]]] = {}
        for copy in copies:
            items.setdefault(copy["item"], (copy, set()))[1].update(reach[copy["target"]])
        if len(items) >= wanted or len(copies) < fetch:
            return list(items.values())[:wanted]
        fetch *= 2


async def _names(
    readmodels: ReadModelStore, pupils: str, children: Iterable[Doc]
) -> dict[str, str]:
    """How each child is called: first name, unless a classmate shares it."""
    schools = {c["school_id"] for c in children}
    classes = {c["class_id"] for c in children}
    where = {"class_id": OneOf(tuple(sorted(classes))), "left": False}
    by_class: dict[tuple[str, str], list[PupilName]] = {}
    for p in await readmodels.find(pupils, where):
        if p["school_id"] in schools:
            name = PupilName(p["pupil_id"], p["first_name"], p["surname"])
            by_class.setdefault((p["school_id"], p["class_id"]), []).append(name)
    shown: dict[str, str] = {}
    for classmates in by_class.values():
        shown.update(display_names(classmates))
    return shown


def _render(
    item: Doc,
    about: set[str],
    parent_id: str,
    children: Mapping[str, Doc],
    schools: Mapping[str, Doc],
    names: Mapping[str, str],
    consent: Mapping[str, Doc],
    authors: Mapping[str, Doc],
    now: datetime,
) -> FeedItem:
    school_id = item["school_id"]
    school = schools.get(school_id, {})
    kids = [Child(pupil_id=p, name=names.get(p, children[p]["first_name"])) for p in sorted(about)]
    attachments = [
        _media(school_id, a)
        for a in item.get("attachments", ())
        if all(
            consent.get(p, {}).get("may_appear") is True
            and consent[p].get("school_id") == school_id
            for p in a["tagged_pupil_ids"]
        )
    ]
    common: dict[str, Any] = {
        "id": item["item"],
        "kind": item["kind"],
        "school_id": school_id,
        "at": item["at"],
        "about": kids,
        "attachments": attachments,
        "cursor": item["sort"],
    }
    match item["kind"]:
        case "post":
            liked_by: list[str] = item["liked_by"]
            author = authors.get(item["author_id"], {})
            return FeedItem(
                **common,
                text=item["text"],
                likes=len(liked_by),
                liked=parent_id in liked_by,
                post_id=item["post_id"],
                author=author.get("display_name"),
                audience=_audience(item["audience"], school, about, children),
                edited=item["edited"],
            )
        case "portfolio":
            return FeedItem(
                **common, text=item["text"], item_id=item["item_id"], task_id=item["task_id"]
            )
    ways = school.get("school_ways", {})
    day = date.fromisoformat(item["school_date"])
    points = Points(
        school_date=day,
        total=sum(item["ways"].values()) - sum(item["needs_work"].values()),
        ways=_ways(item["ways"], ways),
        needs_work=_ways(item["needs_work"], ways),
    )
    name = kids[0].name if kids else ""
    text = _points_text(name, points, _when(day, _school_today(school, now)))
    return FeedItem(**common, text=text, points=points)


def _audience(
    audience: Doc, school: Doc, about: set[str], children: Mapping[str, Doc]
) -> str | None:
    """Named as this parent knows it: only their own children's classes are named."""
    match audience["kind"]:
        case "classes":
            mine = sorted({children[p]["class_id"] for p in about} & set(audience["class_ids"]))
            classes = school.get("classes", {})
            return ", ".join(classes.get(c, c) for c in mine)
        case "year_group":
            year = audience.get("year_group_id") or ""
            return str(school.get("year_groups", {}).get(year, year))
        case "school":
            return str(school.get("name", ""))
    return None
