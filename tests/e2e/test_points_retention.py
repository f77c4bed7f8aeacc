"""Points past a school's retention are erased, by the same mechanism as a person's data.

Real parts in this process, so a year can pass: an SQLite event store sealing personal
values with a keyring over a real private-store file, an SQLite read-model file, the
points, gateway and roster projections running live, the notifications reactor, and the
roster's retention run. A second school, whose class and value ids are the same (pupil ids
are unique across a district), keeps points for 24 months.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from schoolgate_contracts.points import POINTS_WEEK, PointAwarded
from schoolgate_contracts.roster import OldPointsErased, Retention, RetentionSet
from schoolgate_gateway.feed import FEED, feed
from schoolgate_kit.crypto import ERASED, Keyring
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.keys import random_token
from schoolgate_kit.keystores import SqliteKeyStore
from schoolgate_kit.projections import Projection, rebuild, run_projection
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.settings import Settings
from schoolgate_kit.testing.events import ManualClock, award
from schoolgate_kit.testing.roster import school_facts, seed_school
from schoolgate_kit.testing.waiting import until
from schoolgate_notifications.reactors import HANDLED, reactors
from schoolgate_points.projections import DAILY, WEEKLY_TOTALS, daily, weekly_totals
from schoolgate_roster import handlers
from schoolgate_roster.bootstrap import Roster
from schoolgate_roster.projections import schools as roster_schools

TODAY = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
# 12 months back from 7 December 2026 is 7 December 2025: a week that began before
# 1 December 2025 ended before it, so it goes; the week of 1 December keeps a day inside
OLD = [date(2025, 10, 6), date(2025, 11, 27)]
KEPT = [date(2025, 12, 1), date(2025, 12, 7), date(2026, 12, 7)]
PUPILS = {"sch_a": ("zeb", "erm"), "sch_b": ("zeb_b", "erm_b")}
LIVE: tuple[Projection, ...] = (weekly_totals, daily, feed, roster_schools)


@dataclass
class Deployment:
    store: SqliteEventStore
    readmodels: SqliteReadModelStore
    keyring: Keyring
    roster: Roster
    path: Path

    async def caught_up(self) -> None:
        head = await self.store.head()

        async def reached() -> bool:
            for projection in LIVE:
                generation = await self.readmodels.active_generation(projection.name)
                if generation is None:
                    return False
                if await self.readmodels.checkpoint(projection.name, generation) < head:
                    return False
            return True

        await until(reached, why=f"the projections reaching position {head}")

    async def deliver_all(self) -> None:
        """Every event to the notifications reactor, as the bus would (at least once)."""
        [reactor] = reactors(self.readmodels)
        handled = {cls.event_type for cls in reactor.queue.handles}
        batch = await self.store.read_all(after=0, types=sorted(handled))
        for event in [*batch.events, *batch.events]:  # twice: takes effect once
            await reactor.handle(event)

    async def weeks(self, name: str, school: str, pupil: str = "zeb") -> list[str]:
        docs = await self.readmodels.find(name, {"school_id": school, "pupil_id": pupil})
        return sorted({doc["week_start"] for doc in docs})


@pytest.fixture
async def deployment(tmp_path: Path) -> AsyncIterator[Deployment]:
    clock = ManualClock(TODAY)
    keyring = Keyring(random_token(), SqliteKeyStore(tmp_path / "private.db"))
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=clock, keyring=keyring)
    readmodels = await SqliteReadModelStore.open(tmp_path / "readmodels.db")
    roster = Roster(
        settings=Settings(data_dir=tmp_path),
        store=store,
        readmodels=readmodels,
        clock=clock,
        keyring=keyring,
    )
    tasks = [asyncio.create_task(run_projection(p, store, readmodels)) for p in LIVE]
    yield Deployment(store, readmodels, keyring, roster, tmp_path)
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    await readmodels.close()
    await store.close()
    keyring.store.close()


async def a_year_of_points(deployment: Deployment) -> None:
    for school, pupils in PUPILS.items():
        facts: list[Any] = school_facts(school, {"oak": list(pupils)})
        if school == "sch_b":
            facts.append(RetentionSet(retention=Retention(points_kept_months=24), set_by="stf"))
        await seed_school(deployment.store, school, facts)
        for day in [*OLD, *KEPT]:
            awards = [award(p, school_id=school, on=day, class_id="oak") for p in pupils]
            stream = f"award-{uuid.uuid4().hex}"
            await deployment.store.append(stream, awards, expected_version=None)


async def test_points_past_the_schools_retention_are_erased_everywhere(
    deployment: Deployment,
) -> None:
    await a_year_of_points(deployment)
    await deployment.caught_up()
    await deployment.deliver_all()
    everything = ["2025-10-06", "2025-11-24", "2025-12-01", "2026-12-07"]
    assert await deployment.weeks(WEEKLY_TOTALS, "sch_a") == everything
    inbox = await deployment.readmodels.find(HANDLED, {"school_id": "sch_a"})
    assert len(inbox) == 10

    assert await handlers.erase_old_points(roster=deployment.roster) == 2
    await deployment.caught_up()
    await deployment.deliver_all()

    kept = ["2025-12-01", "2026-12-07"]
    for name in (WEEKLY_TOTALS, DAILY):
        assert await deployment.weeks(name, "sch_a") == kept
        assert await deployment.weeks(name, "sch_a", "erm") == kept
        assert await deployment.weeks(name, "sch_b", "zeb_b") == everything  # 24 months
    family_feed = await deployment.readmodels.find(FEED, {"school_id": "sch_a", "kind": "points"})
    assert {doc["week_start"] for doc in family_feed} == set(kept)
    b_feed = await deployment.readmodels.find(FEED, {"school_id": "sch_b", "kind": "points"})
    assert {doc["week_start"] for doc in b_feed} == set(everything)
    inbox = await deployment.readmodels.find(HANDLED, {"school_id": "sch_a"})
    assert sorted({doc["week_start"] for doc in inbox}) == kept
    assert len(await deployment.readmodels.find(HANDLED, {"school_id": "sch_b"})) == 10

    # the log no longer says whose those points were, to any reader, rebuilt or not
    keys = deployment.keyring.store.find(
        [f"sch_a/{POINTS_WEEK}/2025-10-06", f"sch_b/{POINTS_WEEK}/2025-10-06"]
    )
    assert keys[f"sch_a/{POINTS_WEEK}/2025-10-06"] == ERASED
    assert keys[f"sch_b/{POINTS_WEEK}/2025-10-06"] != ERASED
    fresh = Keyring(deployment.keyring._secret, SqliteKeyStore(deployment.path / "private.db"))
    reread = await SqliteEventStore.open(
        deployment.path / "events.db", clock=deployment.roster.clock, keyring=fresh
    )
    try:
        awarded = [
            (e.metadata.school_id, e.event.school_date, e.event.pupil_id)
            for e in (await reread.read_all(after=0, types=["PointAwarded"])).events
            if isinstance(e.event, PointAwarded)
        ]
        assert {p for s, d, p in awarded if s == "sch_a" and d in OLD} == {"removed"}
        assert {p for s, d, p in awarded if s == "sch_a" and d in KEPT} == {"zeb", "erm"}
        assert {p for s, d, p in awarded if s == "sch_b"} == {"zeb_b", "erm_b"}
        [erased] = [
            e.event
            for e in (await reread.read_all(after=0, types=["OldPointsErased"])).events
            if isinstance(e.event, OldPointsErased)
        ]
        assert (erased.before, erased.erased_weeks) == (date(2025, 12, 1), 2)
        # a rebuild from position 0 shows what the live read model shows, also one folding
        # parts of the log in other processes, which never purge: they skip what is nobody's
        live = await deployment.readmodels.find(WEEKLY_TOTALS, {})
        await rebuild(weekly_totals, reread, deployment.readmodels, workers=2, parallel_from=1)
        rebuilt = await deployment.readmodels.find(WEEKLY_TOTALS, {})
        assert sorted(map(str, rebuilt)) == sorted(map(str, live))
    finally:
        await reread.close()
        fresh.store.close()

    # the next run has nothing left to erase, and writes nothing
    head = await deployment.store.head()
    assert await handlers.erase_old_points(roster=deployment.roster) == 0
    assert await deployment.store.head() == head
