"""A projection's derived documents follow the document they come from, in the same fold."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.points import PointAwarded, PointAwardUndone
from schoolgate_kit.projections import POSITION, Projection, fold, strip
from schoolgate_kit.readmodels import Doc
from schoolgate_kit.testing.events import recorded

DAY = date(2026, 11, 16)


def awarded(position: int, pupil: str, class_id: str) -> RecordedEvent:
    return recorded(
        position,
        PointAwarded(
            award_id=str(position),
            pupil_id=pupil,
            class_id=class_id,
            school_way_id="kindness",
            awarded_by="t1",
            school_date=DAY,
            week_start=DAY - timedelta(days=DAY.weekday()),
            awarded_at=datetime(2026, 11, 16, 10, tzinfo=UTC),
        ),
    )


def undone(position: int, pupil: str, class_id: str) -> RecordedEvent:
    return recorded(
        position,
        PointAwardUndone(
            award_id=str(position),
            pupil_id=pupil,
            class_id=class_id,
            school_way_id="kindness",
            kind="positive",
            points=1,
            school_date=DAY,
            week_start=DAY - timedelta(days=DAY.weekday()),
            undone_by="t1",
        ),
    )


def _evolve(doc: Doc | None, event: RecordedEvent) -> Doc | None:
    """A pupil's points, and the class of the latest award; gone at zero."""
    match event.event:
        case PointAwarded(pupil_id=pupil, class_id=class_id):
            total = (doc or {}).get("total", 0) + 1
            return {"pupil": pupil, "class_id": class_id, "total": total}
        case PointAwardUndone() if doc:
            return None if doc["total"] == 1 else {**doc, "total": doc["total"] - 1}
    return doc


def _derive(key: str, doc: Doc) -> Mapping[str, Doc]:
    """The pupil's total under its class and under the school."""
    copy = {"pupil": doc["pupil"], "total": doc["total"]}
    return {f"class:{doc['class_id']}|{key}": copy, f"school|{key}": copy}


by_class = Projection(
    name="test.by_class",
    handles=(PointAwarded, PointAwardUndone),
    key=lambda r: str(getattr(r.event, "pupil_id")),  # noqa: B009
    evolve=_evolve,
    derive=_derive,
)


def test_a_new_document_brings_its_derived_documents() -> None:
    changes = fold(by_class, {}, [awarded(1, "p1", "oak")])
    assert {k: strip(v) for k, v in changes.items()} == {
        "class:oak|p1": {"pupil": "p1", "total": 1},
        "school|p1": {"pupil": "p1", "total": 1},
        "p1": {"pupil": "p1", "class_id": "oak", "total": 1},
    }
    # derived first: a store writing in order and stopping half way still has the old doc
    assert list(changes)[-1] == "p1"


def test_derived_documents_move_with_the_document_and_go_with_it() -> None:
    first = fold(by_class, {}, [awarded(1, "p1", "oak")])
    docs = {k: v for k, v in first.items() if v is not None}

    moved = fold(by_class, docs, [awarded(2, "p1", "ash")])
    assert moved["class:oak|p1"] is None
    assert strip(moved["class:ash|p1"]) == {"pupil": "p1", "total": 2}
    assert strip(moved["school|p1"]) == {"pupil": "p1", "total": 2}
    assert moved["class:ash|p1"] is not None and moved["class:ash|p1"][POSITION] == 2

    docs.update(moved)
    gone = fold(by_class, docs, [undone(3, "p1", "ash"), undone(4, "p1", "ash")])
    assert gone == {"class:ash|p1": None, "school|p1": None, "p1": None}


def test_unchanged_derived_documents_are_not_written() -> None:
    def same_for_everyone(key: str, doc: Doc) -> Mapping[str, Doc]:
        return {f"class:{doc['class_id']}|{key}": {"pupil": doc["pupil"]}}

    projection = Projection(
        name="test.names",
        handles=by_class.handles,
        key=by_class.key,
        evolve=_evolve,
        derive=same_for_everyone,
    )
    first = fold(projection, {}, [awarded(1, "p1", "oak")])
    again = fold(projection, first, [awarded(2, "p1", "oak")])
    assert set(again) == {"p1"}


def test_events_a_document_already_holds_touch_nothing_derived() -> None:
    first = fold(by_class, {}, [awarded(5, "p1", "oak")])
    assert fold(by_class, first, [awarded(5, "p1", "ash")]) == {}
