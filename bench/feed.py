"""feed: the parent feed's pages over real HTTP, and how fast its projection rebuilds.

A fresh event store is filled (straight into its SQLite schema) with one school's roster
(12 classes of 30), 200 families (one in five with two children) and the facts behind
50,000 feed items over a school year, about 95,000 events: 40% posts to a class, a year
group or the whole school (some edited, some deleted, many liked, most with photos tagging
pupils), 10% approved portfolio items, 50% days of a pupil's points (1-3 awards, some
undone). ``--quick``: 50 families, 5,000 items. Then:

(a) Rebuild: the feed projection (``gateway.feed``) rebuilt from position 0 into a fresh
    read-model file, events/s, beside a scan that only reads and decodes the same events
    (``read_all`` pages of 5,000, the feed's event types) in the same run.
(b) Pages: the gateway as its own process (``python -m schoolgate_gateway serve``, uvicorn
    on loopback, over the read models just built), with ``CLIENTS`` clients in another
    process of their own always waiting on an answer: GET /api/feed for the 200 parents in
    turn, each walking three pages down with ``before=``, beside the same clients asking
    GET /api/me (a teacher's: it reads two documents) for as long, in the same run.
    The gateway alone rather than the whole embedded app: that app would first catch every
    other service's projections and reactors up on the same events, on the same cores,
    while it is measured. Sessions are made in the gateway's own store beforehand (200
    sign-ins would meet the per-address sign-in limit).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
from schoolgate_contracts import Event, Metadata
from schoolgate_contracts.consent import GuardianLinked, MediaConsentGranted
from schoolgate_contracts.points import PointAwarded, PointAwardUndone
from schoolgate_contracts.roster import (
    ClassAdded,
    PupilEnrolled,
    SchoolDetails,
    SchoolRegistered,
    SchoolWayAdded,
    StaffAssignedToClass,
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
)
from schoolgate_gateway.accounts import Accounts, Kind
from schoolgate_gateway.feed import FEED, feed
from schoolgate_gateway.projections import PROJECTIONS
from schoolgate_gateway.settings import GatewaySettings
from schoolgate_kit.eventstore.sqlite import SCHEMA, SqliteEventStore
from schoolgate_kit.keys import random_token
from schoolgate_kit.projections import rebuild
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.wire import metadata_json

from bench.common import Detail, Result
from bench.serving import Load, LoadProcess, ms, serving

NAME = "feed"
SCHOOL = "bench-school"
CLIENTS = 16
PAGES_PER_VISIT = 3
COOKIE = "schoolgate_session"
YEARS = 6
CLASSES_PER_YEAR = 2
PUPILS_PER_CLASS = 30
WAYS = ("kindness", "effort", "teamwork", "curiosity")
WAIT = 30.0


def utc_now() -> datetime:
    return datetime.now(UTC)


# -- the log -----------------------------------------------------------------------------------


@dataclass
class School:
    classes: dict[str, str]
    """class id -> year group id"""
    pupils: dict[str, str]
    """pupil id -> class id"""
    parents: dict[str, list[str]]
    """parent id -> their children"""


@dataclass
class Log:
    """Events in time order, each in its stream at its version."""

    rows: list[tuple[str, str, int, str, int, str, str, str]] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)
    metadata: dict[tuple[str, int], str] = field(default_factory=dict)

    def add(self, stream: str, event: Event, at: datetime, actor: str = "staff-1") -> None:
        version = self.versions.get(stream, -1) + 1
        self.versions[stream] = version
        minute = int(at.timestamp()) // 60
        meta = self.metadata.get((actor, minute))
        if meta is None:  # one per actor and minute: its content does not change the cost
            meta = metadata_json(
                Metadata(occurred_at=at, school_id=SCHOOL, actor=actor, correlation_id="bench")
            )
            self.metadata[(actor, minute)] = meta
        self.rows.append(
            (
                str(uuid.uuid4()),
                stream,
                version,
                event.event_type,
                event.schema_version,
                event.model_dump_json(),
                meta,
                at.isoformat(),
            )
        )


def _school(parents: int) -> School:
    classes = {
        f"class-{y}{chr(97 + c)}": f"year-{y}"
        for y in range(1, YEARS + 1)
        for c in range(CLASSES_PER_YEAR)
    }
    pupils = {
        f"pupil-{class_id}-{n:02d}": class_id
        for class_id in classes
        for n in range(PUPILS_PER_CLASS)
    }
    rng = random.Random(5)
    children = rng.sample(sorted(pupils), min(len(pupils), parents + parents // 5))
    families = {f"parent-{i:04d}": [children[i]] for i in range(parents)}
    for i, extra in enumerate(children[parents:]):  # one family in five has two children
        families[f"parent-{i * 5:04d}"].append(extra)
    return School(classes=classes, pupils=pupils, parents=families)


def _roster(log: Log, school: School, at: datetime) -> None:
    stream = f"roster-{SCHOOL}"
    facts: list[Event] = [
        SchoolRegistered(school_id=SCHOOL, details=SchoolDetails(name="Bench Primary")),
        *(YearGroupAdded(year_group_id=f"year-{y}", name=f"Year {y}") for y in range(1, YEARS + 1)),
        *(SchoolWayAdded(school_way_id=w, name=w.title()) for w in WAYS),
        StaffMemberAdded(
            staff_id="staff-1", display_name="Ms Bench", email="t@b", role=StaffRole.teacher
        ),
    ]
    for class_id, year in school.classes.items():
        facts.append(ClassAdded(class_id=class_id, name=class_id, year_group_id=year))
        facts.append(StaffAssignedToClass(staff_id="staff-1", class_id=class_id))
    for pupil_id, class_id in school.pupils.items():
        facts.append(
            PupilEnrolled(
                pupil_id=pupil_id,
                first_name=f"P{pupil_id[-2:]}",
                surname=class_id,
                class_id=class_id,
                year_group_id=school.classes[class_id],
            )
        )
    for fact in facts:
        log.add(stream, fact, at)
    for parent, children in school.parents.items():
        for child in children:
            linked = GuardianLinked(pupil_id=child, parent_id=parent, invite_id=f"i-{child}")
            log.add(f"guardians-{child}", linked, at)
    for n, pupil_id in enumerate(school.pupils):
        if n % 10:  # one in ten families said no to photos
            log.add(
                f"consent-{pupil_id}", MediaConsentGranted(pupil_id=pupil_id, granted_by="o"), at
            )


def _log(items: int, school: School, *, seed: int = 7) -> tuple[Log, int]:
    """Facts for ``items`` feed items over a school year; the log, and the items it holds."""
    rng = random.Random(seed)
    days = [date(2025, 9, 1) + timedelta(days=d) for d in range(400)]
    days = [d for d in days if d.weekday() < 5][:190]
    log = Log()
    _roster(log, school, datetime(2025, 8, 20, 9, tzinfo=UTC))
    pupils = sorted(school.pupils)
    by_class: dict[str, list[str]] = {}
    for pupil_id, class_id in school.pupils.items():
        by_class.setdefault(class_id, []).append(pupil_id)
    parents = sorted(school.parents)
    wanted_posts, wanted_portfolio = items * 2 // 5, items // 10
    wanted_points = items - wanted_posts - wanted_portfolio
    held, live_posts, portfolio_so_far, points_days = 0, 0, 0, 0
    posts_so_far: list[str] = []
    award_n = 0
    for day_index, day in enumerate(days):
        left = len(days) - day_index
        start = datetime(day.year, day.month, day.day, 8, tzinfo=UTC)
        day_events: list[tuple[datetime, str, Event]] = []

        def at(rng: random.Random = rng, start: datetime = start) -> datetime:
            return start + timedelta(seconds=rng.randrange(8 * 3600))

        for _ in range(round((wanted_posts - live_posts) / left)):
            post_id = uuid.UUID(int=rng.getrandbits(128)).hex
            kind = rng.random()
            class_id = rng.choice(sorted(school.classes))
            if kind < 0.7:
                audience = Audience(kind="classes", class_ids=(class_id,))
            elif kind < 0.9:
                audience = Audience(kind="year_group", year_group_id=school.classes[class_id])
            else:
                audience = Audience(kind="school")
            attachments = tuple(
                Attachment(
                    media_id=uuid.UUID(int=rng.getrandbits(128)).hex,
                    kind="image",
                    alt_text="photo",
                    tagged_pupil_ids=tuple(rng.sample(by_class[class_id], 2)),
                )
                for _ in range(rng.randrange(3))
            )
            when = at()
            published = PostPublished(
                post_id=post_id,
                author_id="staff-1",
                audience=audience,
                text="Today in class " * rng.randrange(1, 12),
                attachments=attachments,
                visible_from=when,
            )
            day_events.append((when, f"post-{post_id}", published))
            if rng.random() < 0.05:
                edited = PostEdited(
                    post_id=post_id,
                    edited_by="staff-1",
                    text=published.text + " (edited)",
                    attachments=attachments,
                    visible_from=when,
                )
                day_events.append((when + timedelta(minutes=5), f"post-{post_id}", edited))
            if left > 1 and rng.random() < 0.02:  # deleted (and made up for the next day)
                gone = PostDeleted(post_id=post_id, deleted_by="staff-1")
                day_events.append((when + timedelta(minutes=9), f"post-{post_id}", gone))
                live_posts -= 1
                held -= 1
            posts_so_far.append(post_id)
            live_posts += 1
            held += 1
        for _ in range(round(len(parents) * 0.25)):  # likes on recent posts
            if posts_so_far:
                post_id = rng.choice(posts_so_far[-200:])
                liked = PostLiked(post_id=post_id, parent_id=rng.choice(parents))
                day_events.append((start + timedelta(hours=9), f"post-{post_id}", liked))
        for _ in range(round((wanted_portfolio - portfolio_so_far) / left)):
            item_id = uuid.UUID(int=rng.getrandbits(128)).hex
            pupil_id = rng.choice(pupils)
            class_id = school.pupils[pupil_id]
            when = at()
            stream = f"portfolio-{item_id}"
            work = Attachment(media_id=item_id, kind="image", alt_text="my work")
            day_events.append(
                (
                    when,
                    stream,
                    PortfolioItemSubmitted(
                        item_id=item_id,
                        pupil_id=pupil_id,
                        class_id=class_id,
                        text="My work",
                        attachments=(work,),
                    ),
                )
            )
            reviewed: Event = (
                PortfolioItemApproved(
                    item_id=item_id, pupil_id=pupil_id, class_id=class_id, approved_by="staff-1"
                )
                if rng.random() < 0.9
                else PortfolioItemSentBack(
                    item_id=item_id,
                    pupil_id=pupil_id,
                    class_id=class_id,
                    note="Nearly!",
                    sent_back_by="staff-1",
                )
            )
            day_events.append((when + timedelta(minutes=30), stream, reviewed))
            if isinstance(reviewed, PortfolioItemApproved):
                portfolio_so_far += 1
                held += 1
        count = round((wanted_points - points_days) / left) if left > 1 else items - held
        todays = rng.sample(pupils, max(0, min(len(pupils), count)))  # the last day makes it exact
        for pupil_id in todays:
            awards = [
                PointAwarded(
                    award_id=f"a{award_n + n}",
                    pupil_id=pupil_id,
                    class_id=school.pupils[pupil_id],
                    school_way_id=rng.choice(WAYS),
                    awarded_by="staff-1",
                    school_date=day,
                    week_start=day - timedelta(days=day.weekday()),
                    awarded_at=at(),
                )
                for n in range(1, rng.randrange(2, 5))
            ]
            award_n += len(awards)
            day_events += [(a.awarded_at, f"award-{a.award_id}", a) for a in awards]
            last = max(awards, key=lambda a: a.awarded_at)
            if len(awards) > 1 and rng.random() < 0.1:  # taken back; the day keeps the rest
                undone = PointAwardUndone(
                    award_id=last.award_id,
                    pupil_id=pupil_id,
                    class_id=last.class_id,
                    school_way_id=last.school_way_id,
                    kind="positive",
                    points=1,
                    school_date=day,
                    week_start=last.week_start,
                    undone_by="staff-1",
                )
                day_events.append(
                    (last.awarded_at + timedelta(seconds=30), f"award-{last.award_id}", undone)
                )
            points_days += 1
            held += 1
        for when, stream, event in sorted(day_events, key=lambda e: e[0]):
            log.add(stream, event, when)
    return log, held


INSERT = (
    "INSERT INTO events (event_id, stream, version, type, schema_version, data, metadata,"
    " recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def _write(path: Path, log: Log) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.executescript(SCHEMA)
        conn.execute("BEGIN")
        conn.executemany(INSERT, log.rows)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


# -- (a) rebuild -------------------------------------------------------------------------------


async def _scan(store: SqliteEventStore, types: list[str]) -> tuple[int, float]:
    seen, position = 0, 0
    started = time.perf_counter()
    while True:
        batch = await store.read_all(after=position, limit=5000, types=types)
        seen += len(batch.events)
        position = batch.up_to
        if batch.caught_up:
            return seen, time.perf_counter() - started


async def _rebuild(store: SqliteEventStore, readmodels_path: Path) -> tuple[float, int]:
    """Seconds to rebuild the feed, and its documents (items and their copies). The other
    gateway read models are built after it, for the pages."""
    readmodels = await SqliteReadModelStore.open(readmodels_path)
    try:
        started = time.perf_counter()
        await rebuild(feed, store, readmodels, batch_size=5000)
        seconds = time.perf_counter() - started
        documents = len(await readmodels.find(FEED, {}))
        for projection in PROJECTIONS:
            if projection is not feed:
                await rebuild(projection, store, readmodels, batch_size=5000)
        return seconds, documents
    finally:
        await readmodels.close()


# -- (b) pages, the load in a process of its own ---------------------------------------------


async def _load(base: str, cookies: list[str], kind: str, clients: int, seconds: float) -> Load:
    result = Load()
    visitors = itertools.cycle(cookies)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=WAIT, limits=limits) as client:
        deadline = time.monotonic() + seconds

        async def one_client() -> None:
            while time.monotonic() < deadline:
                headers = {"cookie": f"{COOKIE}={next(visitors)}"}
                before = None
                for _ in range(PAGES_PER_VISIT if kind == "feed" else 1):
                    sent = time.monotonic()
                    if kind == "feed":
                        params = {} if before is None else {"before": before}
                        answer = await client.get("/api/feed", params=params, headers=headers)
                    else:
                        answer = await client.get("/api/me", headers=headers)
                    result.latencies.append(time.monotonic() - sent)
                    ok = answer.status_code == 200
                    result.answered += ok
                    result.failed += not ok
                    if kind != "feed" or not ok:
                        break
                    page = answer.json()
                    result.items += len(page["items"])
                    before = page["next"]
                    if before is None:
                        break

        started = time.monotonic()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        result.seconds = time.monotonic() - started
    return result


async def _sessions(private_store: str, school: School) -> tuple[list[str], str]:
    """A signed-in session for every parent and for the teacher, as signing in leaves one,
    in the private store the gateway will open."""
    accounts = await Accounts.open(private_store)
    try:
        now = utc_now()
        parents = []
        for parent in sorted(school.parents):
            account = await accounts.ensure(Kind.parent, parent, display_name=parent)
            parents.append(await accounts.start_session(account, now))
        teacher = await accounts.ensure(Kind.staff, "staff-1", display_name="Ms Bench")
        return parents, await accounts.start_session(teacher, now)
    finally:
        await accounts.close()


def _gateway(here: Path) -> contextlib.AbstractContextManager[str]:
    """``python -m schoolgate_gateway serve`` over the files in ``here``; its URL."""
    env = {
        **os.environ,
        "SCHOOLGATE_DATA_DIR": str(here),
        "SCHOOLGATE_ENVIRONMENT": "development",
        "SCHOOLGATE_LOG_LEVEL": "WARNING",
        # a cluster process starts only with the secret its services share; the pages
        # measured here call no service, so a fresh one does
        "SCHOOLGATE_IDENTITY_SECRET": random_token(),
        "SCHOOLGATE_MASTER_KEY": random_token(),
    }
    return serving("gateway", ["schoolgate_gateway", "serve", "--port"], env, here)


async def run(workdir: Path, *, quick: bool) -> list[Result]:
    parents, items = (50, 5_000) if quick else (200, 50_000)
    seconds = 2.0 if quick else 15.0
    here = workdir / NAME
    here.mkdir(parents=True, exist_ok=True)

    started = time.perf_counter()
    school = _school(parents)
    log, held = _log(items, school)
    _write(here / "events.db", log)
    written = time.perf_counter() - started

    store = await SqliteEventStore.open(here / "events.db", clock=utc_now)
    try:
        scanned, scan_seconds = await _scan(store, feed.event_types)
        rebuild_seconds, documents = await _rebuild(store, here / "readmodels.db")
    finally:
        await store.close()
    private = GatewaySettings(data_dir=here).private_store_location()
    parent_cookies, teacher_cookie = await _sessions(private, school)

    with _gateway(here) as base:
        feed_load = LoadProcess(_load, base, parent_cookies, "feed", CLIENTS, seconds)
        me_load = LoadProcess(_load, base, [teacher_cookie], "me", CLIENTS, seconds)
        try:
            async with httpx.AsyncClient(base_url=base, timeout=WAIT) as warm:
                for cookie in parent_cookies:  # each parent's first page once: caches, imports
                    answer = await warm.get("/api/feed", headers={"cookie": f"{COOKIE}={cookie}"})
                    answer.raise_for_status()
            pages = await feed_load.run()
            me = await me_load.run()
        finally:
            feed_load.stop()
            me_load.stop()

    rebuild_rate = scanned / rebuild_seconds
    scan_rate = scanned / scan_seconds
    pages_details: dict[str, Detail] = {
        "parents": len(school.parents),
        "children": sum(len(c) for c in school.parents.values()),
        "feed_items": held,
        "clients": CLIENTS,
        "seconds_per_phase": seconds,
        "pages_answered_200": pages.answered,
        "pages_failed": pages.failed,
        "items_per_page": pages.items / pages.answered if pages.answered else 0.0,
        "page_p50_ms": ms(pages.latencies, 50),
        "page_p99_ms": ms(pages.latencies, 99),
        "me_answered_200": me.answered,
        "me_failed": me.failed,
        "me_p50_ms": ms(me.latencies, 50),
        "me_p99_ms": ms(me.latencies, 99),
    }
    return [
        Result(
            name=f"{NAME} pages",
            unit="pages/s",
            figure=pages.rate,
            baseline=me.rate,
            baseline_label=f"GET /api/me/s, same {CLIENTS} clients, same run",
            target="(ratio: what a feed page costs over a trivial call)",
            met=None,
            details=pages_details,
        ),
        Result(
            name=f"{NAME} page p99",
            unit="ms",
            figure=ms(pages.latencies, 99),
            baseline=ms(me.latencies, 99),
            baseline_label="GET /api/me p99, same clients, same run",
            target=f"(under {CLIENTS} clients' closed-loop load)",
            met=None,
            higher_is_better=False,
        ),
        Result(
            name=f"{NAME} rebuild",
            unit="events/s",
            figure=rebuild_rate,
            baseline=scan_rate,
            baseline_label="read_all pages of the feed's event types, decode only",
            target="(figure and ratio reported)",
            met=None,
            details={
                "events_in_log": len(log.rows),
                "feed_events": scanned,
                "feed_documents": documents,
                "rebuild_seconds": rebuild_seconds,
                "log_written_seconds": written,
            },
        ),
    ]
