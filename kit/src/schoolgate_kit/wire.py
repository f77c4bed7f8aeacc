"""How a recorded event travels: one JSON document, decoded into a contract model at the edge."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from schoolgate_contracts import EventRegistry, Metadata, RecordedEvent, registry
from schoolgate_contracts.privacy import sealing_plan

from schoolgate_kit.bus.port import Message
from schoolgate_kit.crypto import Keyring


def metadata_json(metadata: Metadata) -> str:
    return metadata.model_dump_json()


def recorded(
    *,
    event_id: str | UUID,
    stream: str,
    version: int,
    position: int,
    event_type: str,
    schema_version: int,
    data: str | bytes,
    metadata: str | bytes,
    recorded_at: str | datetime,
    events: EventRegistry = registry,
    keyring: Keyring | None = None,
) -> RecordedEvent:
    def where() -> str:
        return f"stream {stream!r} version {version}, global position {position}"

    opener = None if keyring is None else keyring.open
    event = events.decode(event_type, schema_version, data, where=where, opener=opener)
    current = events.is_current(event_type, schema_version)
    # The id and metadata stay encoded until something reads them (most projections don't).
    return RecordedEvent(
        event_id=event_id,
        stream=stream,
        version=version,
        position=position,
        recorded_at=(
            recorded_at
            if isinstance(recorded_at, datetime)
            else datetime.fromisoformat(recorded_at)
        ),
        metadata=_text(metadata),
        event=event,
        data_json=_text(data) if current else None,
    )


def _text(data: str | bytes) -> str:
    return data if isinstance(data, str) else data.decode()


def to_message(event: RecordedEvent, keyring: Keyring | None = None) -> Message:
    """The payload and metadata are spliced in as pydantic dumps them, not parsed and dumped
    again: the relay builds one of these for every event ever written. Personal values go
    as stored, sealed; an upcast event's are sealed again (with ``keyring``), never sent as
    the clear text they were opened to."""
    event_id = str(event.event_id)
    data = event.stored_data_json()
    if data is None:
        if keyring is not None and sealing_plan(type(event.event)):
            data = keyring.seal_event(event.event, event.metadata.school_id)
        else:
            data = event.data_json()
    body = (
        f'{{"event_id":"{event_id}","stream":{json.dumps(event.stream)},'
        f'"version":{event.version},"position":{event.position},'
        f'"recorded_at":"{event.recorded_at.isoformat()}",'
        f'"type":{json.dumps(event.event.event_type)},'
        f'"schema_version":{event.event.schema_version},'
        f'"metadata":{event.metadata_json()},"data":{data}}}'
    )
    return Message(
        message_id=event_id,
        routing_key=event.routing_key,
        body=body.encode(),
        headers={
            "stream": event.stream,
            "version": event.version,
            "position": event.position,
            "event_type": event.event.event_type,
            "schema_version": event.event.schema_version,
            "school_id": event.metadata.school_id,
            "correlation_id": event.metadata.correlation_id,
        },
    )


def from_message(
    message: Message, events: EventRegistry = registry, keyring: Keyring | None = None
) -> RecordedEvent:
    """Decode a bus message; a broken or unknown payload raises, naming where it came from."""
    body: dict[str, Any] = json.loads(message.body)
    return recorded(
        event_id=body["event_id"],
        stream=body["stream"],
        version=body["version"],
        position=body["position"],
        event_type=body["type"],
        schema_version=body["schema_version"],
        data=json.dumps(body["data"]),
        metadata=json.dumps(body["metadata"]),
        recorded_at=body["recorded_at"],
        events=events,
        keyring=keyring,
    )
