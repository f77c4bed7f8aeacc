"""What the relay publishes decodes back into exactly the event the store holds."""

from __future__ import annotations

import json

from schoolgate_contracts.points import PointAwarded
from schoolgate_kit.testing.events import award
from schoolgate_kit.wire import from_message, metadata_json, recorded, to_message


def test_a_message_round_trips_to_the_same_event() -> None:
    new = award("p1", way="kindness")
    stored = recorded(
        event_id=str(new.event_id),
        stream='award-"quoted"\\x',
        version=3,
        position=42,
        event_type="PointAwarded",
        schema_version=PointAwarded.schema_version,
        data=new.event.model_dump_json(),
        metadata=metadata_json(new.metadata),
        recorded_at="2026-11-16T10:00:00+00:00",
    )
    message = to_message(stored)
    assert from_message(message) == stored
    assert message.message_id == str(new.event_id)
    assert message.routing_key == "points.PointAwarded"
    body = json.loads(message.body)
    assert body["stream"] == 'award-"quoted"\\x'
    assert body["data"]["school_way_id"] == "kindness"
    assert message.headers["position"] == 42
