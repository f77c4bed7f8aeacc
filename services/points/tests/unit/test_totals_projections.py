"""Totals fold awards and undos into documents; the runner applies each event once."""

from __future__ import annotations

import copy
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.points import PointAwarded, PointAwardUndone, PointKind
from schoolgate_kit.projections import Folding, Projection, fold
from schoolgate_kit.testing.events import recorded
from schoolgate_points.projections import daily, daily_key, weekly_total_key, weekly_totals


def awarded(
    position: int, pupil: str, way: str, on: date, kind: PointKind = "positive"
) -> RecordedEvent:
    return recorded(
        position,
        PointAwarded(
            award_id=str(position),
            pupil_id=pupil,
            class_id="c1",
            school_way_id=way,
            awarded_by="t1",
            school_date=on,
            week_start=on - timedelta(days=on.weekday()),
            kind=kind,
            awarded_at=datetime.combine(on, datetime.min.time(), UTC),
        ),
    )


def undone(position: int, of: RecordedEvent) -> RecordedEvent:
    event = of.event
    assert isinstance(event, PointAwarded)
    return recorded(
        position,
        PointAwardUndone(
            award_id=event.award_id,
            pupil_id=event.pupil_id,
            class_id=event.class_id,
            school_way_id=event.school_way_id,
            kind=event.kind,
            points=event.points,
            school_date=event.school_date,
            week_start=event.week_start,
            undone_by="t1",
        ),
    )


def test_points_in_one_week_add_up_by_value() -> None:
    events = [
        awarded(1, "p1", "kindness", date(2026, 11, 16)),
        awarded(2, "p1", "kindness", date(2026, 11, 20)),
        awarded(3, "p1", "effort", date(2026, 11, 22)),
        awarded(4, "p1", "effort", date(2026, 11, 23)),  # next Monday: a new week
        awarded(5, "p2", "effort", date(2026, 11, 17)),
    ]
    changes = fold(weekly_totals, {}, events)
    week = changes[weekly_total_key("p1", "2026-11-16")]
    assert week is not None
    assert week["total"] == 3
    assert week["by_way"] == {"kindness": 2, "effort": 1}
    assert changes[weekly_total_key("p1", "2026-11-23")]["total"] == 1  # type: ignore[index]
    assert changes[weekly_total_key("p2", "2026-11-16")]["total"] == 1  # type: ignore[index]


def test_an_undone_award_is_taken_off_and_needs_work_counts_down() -> None:
    monday = date(2026, 11, 16)
    kind = awarded(1, "p1", "kindness", monday)
    events = [
        kind,
        awarded(2, "p1", "effort", monday),
        undone(3, kind),
        awarded(4, "p1", "listening", monday, kind="needs_work"),
    ]
    week = fold(weekly_totals, {}, events)[weekly_total_key("p1", "2026-11-16")]
    day = fold(daily, {}, events)[daily_key("c1", "p1", "2026-11-16")]
    for doc in (week, day):
        assert doc is not None
        assert doc["total"] == 0  # one effort point, less one "needs work"
        assert doc["by_way"] == {"effort": 1}  # kindness was undone: no empty entry left
        assert doc["needs_work"] == 1


def test_an_event_the_document_already_holds_is_not_counted_again() -> None:
    first = fold(weekly_totals, {}, [awarded(1, "p1", "kindness", date(2026, 11, 16))])
    key = weekly_total_key("p1", "2026-11-16")
    doc = first[key]
    assert doc is not None
    again = fold(weekly_totals, {key: doc}, [awarded(1, "p1", "kindness", date(2026, 11, 16))])
    assert again == {}


def _folded(projection: Projection, events: list[RecordedEvent]) -> Folding:
    folding = Folding()
    folding.apply(projection, events, [projection.key(e) for e in events])
    return folding


def _mixed_log(seed: int, count: int) -> list[RecordedEvent]:
    """Awards to three pupils over two weeks, some "needs work", and undos of earlier ones."""
    rng = random.Random(seed)
    events: list[RecordedEvent] = []
    given: list[RecordedEvent] = []
    for position in range(1, count + 1):
        if given and rng.random() < 0.25:
            events.append(undone(position, given.pop(rng.randrange(len(given)))))
            continue
        on = date(2026, 11, 16) + timedelta(days=rng.choice([0, 1, 4, 7, 8]))
        kind: PointKind = "needs_work" if rng.random() < 0.2 else "positive"
        award = awarded(
            position, rng.choice(["p1", "p2", "p3"]), rng.choice(["kind", "effort"]), on, kind
        )
        events.append(award)
        given.append(award)
    return events


@pytest.mark.parametrize("projection", [weekly_totals, daily], ids=lambda p: p.name)
@pytest.mark.parametrize("seed", range(5))
def test_tallies_folded_in_two_parts_and_merged_equal_one_fold(
    projection: Projection, seed: int
) -> None:
    """What lets a rebuild fold parts of the log side by side: wherever the log is cut,
    undos on either side of the cut included, merging the parts gives the same documents."""
    assert projection.merge is not None
    events = _mixed_log(seed, 60)
    whole = _folded(projection, events)
    for cut in range(len(events) + 1):
        merged = _folded(projection, events[:cut])
        later = _folded(projection, events[cut:])
        merged.merge(projection.merge, later.docs, later.positions)
        assert merged.docs == whole.docs, f"cut at {cut}"
        assert merged.positions == whole.positions, f"cut at {cut}"


@pytest.mark.parametrize("projection", [weekly_totals, daily], ids=lambda p: p.name)
@pytest.mark.parametrize("seed", range(5))
def test_a_rebuild_changing_tallies_in_place_folds_what_evolve_folds(
    projection: Projection, seed: int
) -> None:
    """A rebuild owns its documents and adds to them in place; live runners copy them, as
    their cache holds them too. Both must come to the same tallies."""
    assert projection.evolve_in_place is not None
    events = _mixed_log(seed, 60)
    owned = Folding(owned=True)
    owned.apply(projection, events, [projection.key(e) for e in events])
    assert owned.docs == _folded(projection, events).docs


@pytest.mark.parametrize("projection", [weekly_totals, daily], ids=lambda p: p.name)
def test_evolve_leaves_the_tally_it_was_given_as_it_was(projection: Projection) -> None:
    monday = date(2026, 11, 16)
    first, second = awarded(1, "p1", "kindness", monday), awarded(2, "p1", "kindness", monday)
    before = projection.evolve(None, first)
    assert before is not None
    kept = copy.deepcopy(before)
    after = projection.evolve(before, second)
    assert before == kept
    assert after is not None and after["by_way"] == {"kindness": 2}
