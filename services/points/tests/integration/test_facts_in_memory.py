"""The facts awards are checked against, kept in memory: they follow the log, only ever say
"yes", and leave every "no" to the stored read models."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from schoolgate_contracts import Metadata, NewEvent
from schoolgate_contracts.points import PointsSettingsChanged
from schoolgate_contracts.roster import PupilLeft, PupilMovedClass
from schoolgate_kit.eventstore import NO_STREAM
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.problems import Unprocessable
from schoolgate_kit.testing.events import ManualClock
from schoolgate_kit.testing.roster import school_facts, seed_school
from schoolgate_kit.testing.waiting import until
from schoolgate_points import domain
from schoolgate_points.facts import Facts
from schoolgate_points.handlers import check_award


def allowed(
    facts: Facts, school_id: str, class_id: str | None, way: str, pupils: list[str]
) -> domain.Rules | None:
    """What the award path takes from the views: the school's rules, or no answer."""
    if not facts.ready:
        return None
    school = facts.schools.get(school_id)
    try:
        check_award(
            school_id,
            class_id,
            way,
            pupils,
            school=school,
            pupils={p: facts.pupils.get(p) for p in pupils},
        )
    except Unprocessable:
        return None
    assert school is not None
    return facts.rules(school_id, domain.Rules(timezone=school["timezone"]))


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteEventStore]:
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=ManualClock())
    await seed_school(store, "s1", school_facts("s1", {"c1": ["ada", "ben"], "c2": ["cal"]}))
    await seed_school(store, "s2", school_facts("s2", {"c9": ["zoe"]}))
    yield store
    await store.close()


def said(school_id: str, *events: object) -> list[NewEvent]:
    metadata = Metadata(
        occurred_at=datetime.now(UTC), school_id=school_id, actor="t", correlation_id="c"
    )
    return [NewEvent(event_id=uuid.uuid4(), event=e, metadata=metadata) for e in events]  # type: ignore[arg-type]


async def test_facts_say_yes_only_to_what_the_roster_allows(store: SqliteEventStore) -> None:
    facts = Facts()
    assert allowed(facts, "s1", "c1", "kindness", ["ada"]) is None
    async with facts.following(store):
        await until(lambda: facts.ready)
        rules = allowed(facts, "s1", "c1", "kindness", ["ada", "ben"])
        assert rules == domain.Rules(timezone="Europe/London")
        assert allowed(facts, "s1", None, "effort", ["cal"]) is not None
        for refused in (
            ("s1", "c1", "kindness", ["cal"]),  # another class
            ("s1", "c1", "bravery", ["ada"]),  # not the school's value
            ("s1", "c1", "kindness", ["nobody"]),  # no such pupil
            ("s2", "c1", "kindness", ["ada"]),  # another school's pupil
            ("s3", "c1", "kindness", ["ada"]),  # no such school
        ):
            assert allowed(facts, *refused) is None, refused

        # they follow the log live: a move, a leaver, the school's settings
        await store.append(
            "roster-s1-later",
            said(
                "s1",
                PupilMovedClass(
                    pupil_id="cal", from_class_id="c2", to_class_id="c1", year_group_id="y1"
                ),
                PupilLeft(pupil_id="ben", class_id="c1"),
            ),
            expected_version=NO_STREAM,
        )
        await store.append(
            domain.settings_stream("s1"),
            said("s1", PointsSettingsChanged(needs_work_enabled=True, undo_window_seconds=90)),
            expected_version=NO_STREAM,
        )

        def cal() -> domain.Rules | None:
            return allowed(facts, "s1", "c1", "kindness", ["cal"])

        await until(lambda: (rules := cal()) is not None and rules.needs_work_enabled)
        assert allowed(facts, "s1", "c1", "kindness", ["ben"]) is None
        assert cal() == domain.Rules(
            timezone="Europe/London", needs_work_enabled=True, undo_window_seconds=90
        )
