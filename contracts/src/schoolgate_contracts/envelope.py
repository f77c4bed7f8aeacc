"""The envelope around a stored event: where and when it was written, by whom, and why."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from schoolgate_contracts.base import Event
from schoolgate_contracts.registry import BrokenEvent


class Metadata(BaseModel):
    """What the writer knows about an event beyond its payload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    occurred_at: datetime
    school_id: str
    actor: str
    correlation_id: str
    causation_id: str | None = None


class NewEvent(BaseModel):
    """An event on its way into the store."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    event_id: UUID
    event: Event
    metadata: Metadata


class RecordedEvent:
    """An event as the store holds it, decoded and upcast to its current schema version.

    A plain class, not a model: the store built it from validated parts, and a replay makes
    a million of them. The envelope's id and metadata may be handed over still encoded (a
    string, as stored) and are decoded the first time they are read: most projections never
    read them, and decoding them cost as much as the payload. A broken metadata document
    then fails where it is read, naming its stream and position. Treat it as immutable.

    The stored JSON of the metadata, and of the payload where it needed no upcasting, is
    kept as well: the relay sends it on as it is instead of encoding it again.
    """

    __slots__ = (
        "_data_json",
        "_event_id",
        "_metadata",
        "_metadata_json",
        "event",
        "position",
        "recorded_at",
        "stream",
        "version",
    )

    _event_id: UUID | str
    _metadata: Metadata | None
    _metadata_json: str | None
    _data_json: str | None
    stream: str
    version: int
    """Position of the event in its stream, from 0."""
    position: int
    """Position in the store's global log, from 1."""
    recorded_at: datetime
    event: Event

    def __init__(  # positional too: a store builds a million, and keywords cost 0.4 µs each
        self,
        event_id: UUID | str,
        stream: str,
        version: int,
        position: int,
        recorded_at: datetime,
        metadata: Metadata | str,
        event: Event,
        data_json: str | None = None,
    ) -> None:
        """``data_json``: the payload exactly as ``event`` would be encoded, when at hand."""
        self._event_id = event_id
        self.stream = stream
        self.version = version
        self.position = position
        self.recorded_at = recorded_at
        # not isinstance(metadata, Metadata): a model's class is an ABC, slow to check against
        if isinstance(metadata, str):
            self._metadata, self._metadata_json = None, metadata
        else:
            self._metadata, self._metadata_json = metadata, None
        self.event = event
        self._data_json = data_json

    @property
    def event_id(self) -> UUID:
        value = self._event_id
        if isinstance(value, UUID):
            return value
        try:
            self._event_id = decoded = UUID(value)
        except ValueError as exc:
            raise BrokenEvent(f"broken event id {value!r} at {self._where()}") from exc
        return decoded

    @property
    def metadata(self) -> Metadata:
        if self._metadata is not None:
            return self._metadata
        assert self._metadata_json is not None
        try:
            self._metadata = decoded = Metadata.model_validate_json(self._metadata_json)
        except ValueError as exc:
            raise BrokenEvent(f"broken metadata at {self._where()}: {exc}") from exc
        return decoded

    def metadata_json(self) -> str:
        """The metadata as JSON: as stored where it was read from a store."""
        if self._metadata_json is None:
            assert self._metadata is not None
            self._metadata_json = self._metadata.model_dump_json()
        return self._metadata_json

    def stored_data_json(self) -> str | None:
        """The payload as the store holds it, where that is its current schema version."""
        return self._data_json

    def data_json(self) -> str:
        """The payload as JSON, in its current schema version: as stored where it was read
        from a store unchanged (personal values sealed), else dumped now (in clear)."""
        if self._data_json is None:
            return self.event.model_dump_json()
        return self._data_json

    @property
    def event_type(self) -> str:
        return self.event.event_type

    @property
    def routing_key(self) -> str:
        return f"{self.event.service}.{self.event.event_type}"

    def _where(self) -> str:
        return f"stream {self.stream!r} version {self.version}, global position {self.position}"

    def _fields(self) -> tuple[object, ...]:
        return (
            self.event_id,
            self.stream,
            self.version,
            self.position,
            self.recorded_at,
            self.metadata,
            self.event,
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RecordedEvent):
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # equal by value, and not meant as a key

    def __repr__(self) -> str:
        return (
            f"RecordedEvent(stream={self.stream!r}, version={self.version}, "
            f"position={self.position}, event={self.event!r})"
        )
