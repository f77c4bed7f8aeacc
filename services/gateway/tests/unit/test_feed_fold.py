"""The feed's fold: given events, then these items and copies. No I/O."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from schoolgate_contracts import Event, Metadata, RecordedEvent
from schoolgate_contracts.points import PointAwarded, PointAwardUndone
from schoolgate_contracts.stories import (
    Audience,
    PortfolioItemApproved,
    PortfolioItemSubmitted,
    PostDeleted,
    PostEdited,
    PostPublished,
)
from schoolgate_gateway.feed import feed, sort_key
from schoolgate_kit.projections import fold, strip
from schoolgate_kit.readmodels import Doc

AT = datetime(2026, 11, 16, 9, tzinfo=UTC)
DAY = date(2026, 11, 16)


def recorded(position: int, event: Event, *, minutes: int = 0) -> RecordedEvent:
    at = AT + timedelta(minutes=minutes)
    return RecordedEvent(
        event_id=uuid.uuid4(),
        stream="s",
        version=0,
        position=position,
        recorded_at=at,
        metadata=Metadata(occurred_at=at, school_id="s1", actor="t", correlation_id="c"),
        event=event,
    )


def given(*events: RecordedEvent) -> dict[str, Doc]:
    docs: dict[str, Doc | None] = {}
    for event in events:
        docs.update(fold(feed, {k: v for k, v in docs.items() if v is not None}, [event]))
    return {k: v for k, v in ((k, strip(v)) for k, v in docs.items()) if v is not None}


def published(visible_from: datetime = AT, *, kind: str = "classes") -> PostPublished:
    audience = (
        Audience(kind="classes", class_ids=("oak", "ash"))
        if kind == "classes"
        else Audience(kind="year_group", year_group_id="y3")
    )
    return PostPublished(
        post_id="p1", author_id="t", audience=audience, text="hello", visible_from=visible_from
    )


def awarded(award_id: str, way: str, kind: str = "positive") -> PointAwarded:
    return PointAwarded.model_validate(
        {
            "award_id": award_id,
            "pupil_id": "ada",
            "class_id": "oak",
            "school_way_id": way,
            "awarded_by": "t",
            "school_date": DAY,
            "week_start": DAY,
            "kind": kind,
            "awarded_at": AT,
        }
    )


def undone(of: PointAwarded) -> PointAwardUndone:
    fields = of.model_dump(include={"award_id", "pupil_id", "class_id", "school_way_id"})
    return PointAwardUndone(
        **fields,
        kind=of.kind,
        points=of.points,
        school_date=DAY,
        week_start=DAY,
        undone_by="t",
    )


def test_sort_keys_compare_as_time_then_position() -> None:
    keys = [
        sort_key(AT, 99),
        sort_key(AT + timedelta(microseconds=1), 1),
        sort_key(AT, 100),
        sort_key(AT - timedelta(days=400), 5_000_000),
    ]
    assert sorted(keys) == [keys[3], keys[0], keys[2], keys[1]]
    assert sort_key(AT.replace(tzinfo=None), 7) == sort_key(AT, 7)


def test_a_post_is_copied_to_each_class_of_its_audience() -> None:
    docs = given(recorded(5, published()))
    assert set(docs) == {"post:s1:p1", "class:s1:ash|post:s1:p1", "class:s1:oak|post:s1:p1"}
    copy = docs["class:s1:oak|post:s1:p1"]
    assert (copy["target"], copy["item"], copy["sort"]) == (
        "class:s1:oak",
        "post:s1:p1",
        sort_key(AT, 5),
    )


def test_an_edit_replaces_every_copy_and_moves_it_with_visible_from() -> None:
    later = AT + timedelta(days=1)
    edit = PostEdited(post_id="p1", edited_by="t", text="now this", visible_from=later)
    docs = given(recorded(5, published()), recorded(9, edit))
    for key in ("class:s1:ash|post:s1:p1", "class:s1:oak|post:s1:p1"):
        assert docs[key]["text"] == "now this"
        assert docs[key]["sort"] == sort_key(later, 5)  # its place is still its publication


def test_a_deleted_post_leaves_nothing_behind() -> None:
    gone = PostDeleted(post_id="p1", deleted_by="t")
    assert given(recorded(5, published(kind="year")), recorded(6, gone)) == {}


def test_a_portfolio_item_is_shown_only_once_approved_and_hidden_when_resubmitted() -> None:
    submitted = PortfolioItemSubmitted(item_id="f1", pupil_id="ada", class_id="oak", text="v1")
    approved = PortfolioItemApproved(item_id="f1", pupil_id="ada", class_id="oak", approved_by="t")
    assert set(given(recorded(1, submitted))) == {"portfolio:s1:f1"}
    shown = given(recorded(1, submitted), recorded(2, approved, minutes=30))
    assert shown["pupil:s1:ada|portfolio:s1:f1"]["sort"] == sort_key(AT + timedelta(minutes=30), 2)
    again = submitted.model_copy(update={"text": "v2"})
    assert set(given(recorded(1, submitted), recorded(2, approved), recorded(3, again))) == {
        "portfolio:s1:f1"
    }


def test_a_points_day_climbs_with_each_award_but_not_with_an_undo() -> None:
    first, second = awarded("a1", "kindness"), awarded("a2", "effort")
    docs = given(recorded(1, first), recorded(4, second, minutes=10))
    day = docs["pupil:s1:ada|points:s1:ada:2026-11-16"]
    assert (day["ways"], day["sort"]) == (
        {"kindness": 1, "effort": 1},
        sort_key(AT + timedelta(minutes=10), 4),
    )
    docs = given(
        recorded(1, first), recorded(4, second, minutes=10), recorded(7, undone(second), minutes=20)
    )
    day = docs["pupil:s1:ada|points:s1:ada:2026-11-16"]
    assert (day["ways"], day["sort"]) == ({"kindness": 1}, sort_key(AT + timedelta(minutes=10), 4))


def test_a_day_whose_awards_are_all_undone_goes() -> None:
    only = awarded("a1", "kindness")
    assert given(recorded(1, only), recorded(2, undone(only))) == {}


def test_needs_work_points_are_kept_apart() -> None:
    docs = given(
        recorded(1, awarded("a1", "kindness")),
        recorded(2, awarded("a2", "listening", "needs_work")),
    )
    day = docs["points:s1:ada:2026-11-16"]
    assert (day["ways"], day["needs_work"]) == ({"kindness": 1}, {"listening": 1})
