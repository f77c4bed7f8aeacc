"""The pure mappings of the cluster adapters (KurrentDB, MongoDB), without any server."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime

import kurrentdbclient as kdb
import pytest
from kurrentdbclient.common import construct_filter_include_regex
from pymongo import DeleteOne, ReplaceOne
from schoolgate_contracts import BrokenEvent, RecordedEvent, UnknownEventType
from schoolgate_contracts.points import PointAwarded
from schoolgate_kit.eventstore import NO_STREAM
from schoolgate_kit.eventstore.kurrentdb import (
    Batcher,
    event_metadata,
    reported_version,
    stream_state,
    to_new_event,
    to_recorded,
    type_filter,
)
from schoolgate_kit.readmodels.mongo import field, where_filter, writes
from schoolgate_kit.testing.events import award

RECORDED_AT = datetime(2026, 11, 16, 10, 0, 1, tzinfo=UTC)


def stored(
    new_event: kdb.NewEvent,
    *,
    stream: str = "points-p1",
    version: int = 0,
    position: int = 1000,
    recorded_at: datetime | None = RECORDED_AT,
) -> kdb.RecordedEvent:
    """What the server hands back for an event the client sent: built by hand."""
    return kdb.RecordedEvent(
        type=new_event.type,
        data=new_event.data,
        metadata=new_event.metadata,
        content_type=new_event.content_type,
        id=new_event.id,
        stream_name=stream,
        stream_position=version,
        commit_position=position,
        prepare_position=position,
        recorded_at=recorded_at,
    )


def system_event(position: int) -> kdb.RecordedEvent:
    return kdb.RecordedEvent(
        type="$metadata",
        data=b"{}",
        metadata=b"",
        content_type="application/json",
        id=uuid.uuid4(),
        stream_name="$$points-p1",
        stream_position=0,
        commit_position=position,
        prepare_position=position,
        recorded_at=RECORDED_AT,
    )


# -- expected versions -------------------------------------------------------------------


def test_expected_versions_map_to_stream_states() -> None:
    assert stream_state(None) is kdb.StreamState.ANY
    assert stream_state(NO_STREAM) is kdb.StreamState.NO_STREAM
    assert stream_state(0) == 0
    assert stream_state(7) == 7


def test_other_negative_expected_versions_are_refused() -> None:
    with pytest.raises(ValueError, match="not a stream version"):
        stream_state(-2)


def test_conflicts_report_the_version_when_the_server_said_it() -> None:
    assert reported_version(kdb.StreamState.NO_STREAM) == NO_STREAM
    assert reported_version(0) == 0
    assert reported_version(4) == 4
    assert reported_version(None) is None
    assert reported_version(kdb.StreamState.ANY) is None


# -- events going in -----------------------------------------------------------------------


def test_new_event_carries_type_id_payload_and_envelope() -> None:
    new = award("p1", way="teamwork", correlation_id="req-42")
    sent = to_new_event(new)
    assert sent.type == "PointAwarded"
    assert sent.id == new.event_id
    assert sent.content_type == "application/json"
    assert json.loads(sent.data) == json.loads(new.event.model_dump_json())
    metadata = json.loads(sent.metadata)
    assert metadata["schema_version"] == PointAwarded.schema_version
    assert metadata["school_id"] == "school-1"
    assert metadata["correlation_id"] == "req-42"
    assert metadata["occurred_at"].startswith("2026-11-16T10:00:00")


def test_metadata_holds_exactly_the_envelope_plus_schema_version() -> None:
    new = award()
    envelope = json.loads(new.metadata.model_dump_json())
    assert json.loads(event_metadata(new)) == {
        "schema_version": PointAwarded.schema_version,
        **envelope,
    }


# -- events coming out -----------------------------------------------------------------------


def test_recorded_event_round_trips_through_the_client_types() -> None:
    new = award("p1", way="kindness")
    event = to_recorded(stored(to_new_event(new), version=3, position=123_456))
    assert isinstance(event, RecordedEvent)
    assert event.event_id == new.event_id
    assert event.stream == "points-p1"
    assert event.version == 3
    assert event.position == 123_456
    assert event.recorded_at == RECORDED_AT
    assert event.event == new.event
    assert event.metadata == new.metadata


def test_old_schema_versions_are_upcast_from_the_stored_version() -> None:
    v1 = kdb.NewEvent(
        type="PointAwarded",
        data=json.dumps(
            {
                "award_id": "a1",
                "pupil_id": "p1",
                "way": "kindness",
                "awarded_by": "t1",
                "awarded_on": "2026-11-16",
            }
        ).encode(),
        metadata=json.dumps(
            {
                "schema_version": 1,
                "occurred_at": "2026-11-16T10:00:00+00:00",
                "school_id": "school-1",
                "actor": "t1",
                "correlation_id": "c1",
                "causation_id": None,
            }
        ).encode(),
    )
    event = to_recorded(stored(v1))
    assert isinstance(event.event, PointAwarded)
    assert event.event.school_way_id == "kindness"
    assert event.event.class_id is None


@pytest.mark.parametrize(
    "metadata",
    [b"", b"not json", b"[]", b'{"school_id": "school-1"}', b'{"schema_version": "two"}'],
)
def test_broken_metadata_fails_loudly_naming_where(metadata: bytes) -> None:
    sent = to_new_event(award())
    broken = kdb.NewEvent(type=sent.type, data=sent.data, metadata=metadata, id=sent.id)
    with pytest.raises(BrokenEvent, match=r"stream 'points-p1' version 0, global position 1000"):
        to_recorded(stored(broken))


def test_an_event_without_a_recorded_time_is_broken() -> None:
    with pytest.raises(BrokenEvent, match="no recorded time"):
        to_recorded(stored(to_new_event(award()), recorded_at=None))


def test_unknown_types_fail_loudly() -> None:
    sent = to_new_event(award())
    alien = kdb.NewEvent(type="SomethingElse", data=sent.data, metadata=sent.metadata)
    with pytest.raises(UnknownEventType, match="SomethingElse"):
        to_recorded(stored(alien))


# -- server-side filters ---------------------------------------------------------------------


def test_no_types_excludes_system_events_only() -> None:
    exclude, include = type_filter(None)
    assert exclude == kdb.DEFAULT_EXCLUDE_FILTER
    assert include == ()


def test_type_filter_matches_exactly_the_named_types() -> None:
    exclude, include = type_filter(["PointAwarded", "Story.Posted"])
    assert exclude == ()
    # the regex the client sends to the server, checked here with Python's engine
    regex = re.compile(construct_filter_include_regex(include))
    assert regex.match("PointAwarded")
    assert regex.match("Story.Posted")
    for other in ["PointAwardedLater", "OldPointAwarded", "StoryXPosted", "$metadata", ""]:
        assert not regex.match(other), other


# -- subscription batches --------------------------------------------------------------------


def batcher(*, after: int = 0, target: int = 10_000, types: list[str] | None = None) -> Batcher:
    return Batcher(after=after, target=target, types=types, decode=to_recorded)


def test_events_become_one_batch_up_to_the_last_of_them() -> None:
    b = batcher()
    b.add(stored(to_new_event(award()), position=100))
    b.add(stored(to_new_event(award()), version=1, position=200))
    batch = b.take(more_waiting=True)
    assert batch is not None
    assert [e.position for e in batch.events] == [100, 200]
    assert batch.up_to == 200
    assert not batch.caught_up
    assert b.take(more_waiting=False) is None  # nothing new since


def test_checkpoints_move_up_to_without_events() -> None:
    b = batcher(after=50)
    b.add(kdb.Checkpoint(commit_position=900, prepare_position=900, recorded_at=None))
    batch = b.take(more_waiting=False)
    assert batch is not None
    assert batch.events == [] and batch.up_to == 900


def test_system_events_and_other_types_are_skipped_but_counted_as_seen() -> None:
    b = batcher(types=["PointAwarded"])
    b.add(system_event(100))
    sent = to_new_event(award())
    b.add(stored(kdb.NewEvent(type="Other", data=b"{}", metadata=sent.metadata), position=150))
    b.add(stored(sent, position=200))
    batch = b.take(more_waiting=False)
    assert batch is not None
    assert [e.position for e in batch.events] == [200]
    assert batch.up_to == 200


def test_events_at_or_before_the_start_are_not_repeated() -> None:
    b = batcher(after=200)
    b.add(stored(to_new_event(award()), position=200))
    assert b.take(more_waiting=False) is None
    b.add(stored(to_new_event(award()), position=300))
    batch = b.take(more_waiting=False)
    assert batch is not None and [e.position for e in batch.events] == [300]


def test_reaching_the_head_from_the_start_means_caught_up() -> None:
    b = batcher(target=200)
    b.add(stored(to_new_event(award()), position=100))
    first = b.take(more_waiting=False)
    assert first is not None and not first.caught_up
    b.add(stored(to_new_event(award()), position=200))
    second = b.take(more_waiting=False)
    assert second is not None and second.caught_up


def test_not_caught_up_while_more_is_waiting() -> None:
    b = batcher(target=100)
    b.add(stored(to_new_event(award()), position=100))
    batch = b.take(more_waiting=True)
    assert batch is not None and not batch.caught_up


def caught_up() -> kdb.CaughtUp:
    return kdb.CaughtUp(0, commit_position=0, prepare_position=0, recorded_at=None)


def fell_behind() -> kdb.FellBehind:
    return kdb.FellBehind(0, commit_position=0, prepare_position=0, recorded_at=None)


def test_the_server_saying_caught_up_is_told_once_even_without_events() -> None:
    b = batcher(after=0, target=10_000)
    b.add(caught_up())
    batch = b.take(more_waiting=False)
    assert batch is not None and batch.events == [] and batch.caught_up
    b.add(caught_up())
    assert b.take(more_waiting=False) is None


def test_falling_behind_is_not_caught_up_until_the_server_says_so_again() -> None:
    b = batcher(target=100)
    b.add(stored(to_new_event(award()), position=100))
    assert (first := b.take(more_waiting=False)) is not None and first.caught_up
    b.add(fell_behind())
    b.add(stored(to_new_event(award()), position=300))
    behind = b.take(more_waiting=False)
    assert behind is not None and not behind.caught_up
    b.add(caught_up())
    again = b.take(more_waiting=False)
    assert again is not None and again.events == [] and again.caught_up


# -- MongoDB documents -----------------------------------------------------------------------


def test_fields_are_paths_under_the_document() -> None:
    assert field("pupil_id") == "doc.pupil_id"


@pytest.mark.parametrize("name", ["a.b", "$where", "x y", "", "doc.n"])
def test_field_names_that_could_reach_elsewhere_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a field name"):
        field(name)


def test_where_compares_values_literally() -> None:
    assert where_filter({"pupil": "p1", "tags": {"$gt": 1}}) == {
        "doc.pupil": {"$eq": "p1"},
        "doc.tags": {"$eq": {"$gt": 1}},
    }


def test_changes_become_replaces_and_deletes_keyed_by_generation() -> None:
    key_a = {"projection": "feed", "generation": 3, "key": "a"}
    key_b = {"projection": "feed", "generation": 3, "key": "b"}
    assert writes("feed", 3, {"a": {"n": 1}, "b": None}) == [
        ReplaceOne(key_a, {**key_a, "doc": {"n": 1}}, upsert=True),
        DeleteOne(key_b),
    ]
