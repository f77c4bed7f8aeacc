"""The registry loads every stored version of an event, and refuses what it does not know."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from schoolgate_contracts import BrokenEvent, UnknownEventType, registry
from schoolgate_contracts.points import PointAwarded
from schoolgate_contracts.schemas import write_schemas
from schoolgate_contracts.stories import PostPublished

WHERE = "stream 'award-1' version 0, global position 7"


def test_a_version_1_point_awarded_still_loads_as_the_current_model() -> None:
    stored_v1 = json.dumps(
        {
            "award_id": "a1",
            "pupil_id": "p1",
            "way": "kindness",
            "awarded_by": "t1",
            "awarded_on": "2025-09-08",
        }
    )
    event = registry.decode("PointAwarded", 1, stored_v1, where=WHERE)
    assert event == PointAwarded(
        award_id="a1",
        pupil_id="p1",
        class_id=None,
        school_way_id="kindness",
        awarded_by="t1",
        points=1,
        school_date=date(2025, 9, 8),
        week_start=date(2025, 9, 8),
        kind="positive",
        awarded_at=datetime(2025, 9, 8, tzinfo=UTC),
    )


def test_a_version_2_point_awarded_becomes_positive_in_its_monday_week() -> None:
    stored_v2 = json.dumps(
        {
            "award_id": "a1",
            "pupil_id": "p1",
            "class_id": "c1",
            "school_way_id": "kindness",
            "awarded_by": "t1",
            "points": 1,
            "school_date": "2026-11-22",
        }
    )
    event = registry.decode("PointAwarded", 2, stored_v2, where=WHERE)
    assert isinstance(event, PointAwarded)
    assert (event.kind, event.week_start) == ("positive", date(2026, 11, 16))
    assert event.awarded_at == datetime(2026, 11, 22, tzinfo=UTC)


def test_a_version_1_post_s_untagged_photo_loads_as_not_said_never_as_nobody_in_it() -> None:
    photo = {"media_id": "m1", "kind": "image", "alt_text": "", "tagged_pupil_ids": []}
    stored_v1 = json.dumps(
        {
            "post_id": "p1",
            "author_id": "t1",
            "audience": {"kind": "school"},
            "text": "Sports day",
            "attachments": [photo],
            "visible_from": "2026-11-20T09:00:00Z",
        }
    )
    event = registry.decode("PostPublished", 1, stored_v1, where=WHERE)
    assert isinstance(event, PostPublished)
    (attachment,) = event.attachments
    assert (attachment.tagged_pupil_ids, attachment.no_child_recognisable) == ((), False)


def test_the_current_version_round_trips() -> None:
    event = PointAwarded(
        award_id="a1",
        pupil_id="p1",
        class_id="c1",
        school_way_id="effort",
        awarded_by="t1",
        school_date=date(2026, 11, 16),
        week_start=date(2026, 11, 16),
        kind="needs_work",
        awarded_at=datetime(2026, 11, 16, 9, 5, tzinfo=UTC),
    )
    assert registry.decode("PointAwarded", 3, registry.encode(event), where=WHERE) == event


def test_an_unknown_type_fails_loudly_naming_where_it_was() -> None:
    with pytest.raises(UnknownEventType, match=r"award-1.*position 7"):
        registry.decode("PointsConfiscated", 1, "{}", where=WHERE)


def test_a_version_from_the_future_fails_loudly() -> None:
    with pytest.raises(UnknownEventType, match="newer"):
        registry.decode("PointAwarded", 99, "{}", where=WHERE)


def test_a_broken_payload_fails_loudly_naming_where_it_was() -> None:
    with pytest.raises(BrokenEvent, match="position 7"):
        registry.decode("PointAwarded", 3, '{"pupil_id": 3}', where=WHERE)


def test_events_are_frozen_and_refuse_unknown_fields() -> None:
    event = PointAwarded(
        award_id="a1",
        pupil_id="p1",
        class_id=None,
        school_way_id="effort",
        awarded_by="t1",
        school_date=date(2026, 11, 16),
        week_start=date(2026, 11, 16),
        awarded_at=datetime(2026, 11, 16, 9, 5, tzinfo=UTC),
    )
    with pytest.raises(ValueError):
        event.pupil_id = "p2"  # type: ignore[misc]
    with pytest.raises(ValueError):
        PointAwarded.model_validate({**event.model_dump(), "surprise": 1})


def test_committed_json_schemas_match_the_models(tmp_path: Path) -> None:
    committed = Path(__file__).parents[1] / "schemas"
    for path in write_schemas(tmp_path):
        assert (committed / path.name).read_text() == path.read_text(), (
            f"{path.name} is out of date: run `make contracts`"
        )
    names = {p.name for p in committed.glob("*.schema.json")}
    assert names == {p.name for p in tmp_path.glob("*.schema.json")}
