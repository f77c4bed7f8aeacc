"""The one registry of event types, their schema versions and the upcasters between them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from schoolgate_contracts.base import Event
from schoolgate_contracts.privacy import opens_as_text, sealing_plan

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
Opener = Callable[[type[Event], dict[str, Any]], None]
TextOpener = Callable[[type[Event], bytes | str], bytes | str]
"""Opens the sealed values of a current event's stored text in the text itself, for types
whose every personal value is stable and a field of the event (``stable_text_plan``): a
replay of a million awards then validates text, as it does for clear types."""
"""Opens a payload's sealed personal values in place (``schoolgate_kit.crypto``)."""


class UnknownEventType(Exception):
    """The store holds a type (or version) this code does not know. Never guess: stop."""


class BrokenEvent(Exception):
    """A stored payload does not match its declared type."""


class EventRegistry:
    def __init__(self) -> None:
        self._types: dict[str, type[Event]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        self._loaders: dict[tuple[str, int], Callable[[bytes | str], Event]] = {}

    def register(self, cls: type[Event]) -> type[Event]:
        existing = self._types.get(cls.event_type)
        if existing is not None and existing is not cls:
            raise ValueError(f"event type {cls.event_type!r} is registered twice")
        self._types[cls.event_type] = cls
        self._loaders.clear()
        return cls

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function turning ``from_version`` data into ``from_version + 1`` data."""

        def add(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_version)] = fn
            self._loaders.clear()
            return fn

        return add

    def loader(
        self,
        event_type: str,
        schema_version: int,
        opener: Opener | None = None,
        text_opener: TextOpener | None = None,
    ) -> Callable[[bytes | str], Event]:
        """A function loading data of this type and version as the current model.

        For a replay's hot loop: it is looked up once per type and version, and raises
        without saying where (the caller decodes the failing event again with ``decode``
        to name its stream and position). With an ``opener``, a type holding personal
        values is loaded through it; the caller keeps that loader (it is not cached here).
        """
        cls = self._types.get(event_type)
        if opener is not None and cls is not None and sealing_plan(cls):
            if (
                text_opener is not None
                and schema_version == cls.schema_version
                and opens_as_text(cls)
            ):
                validate = cls.__pydantic_validator__.validate_json
                sealed_cls = cls

                def opened_text(data: bytes | str) -> Event:
                    return validate(text_opener(sealed_cls, data))  # type: ignore[no-any-return]

                return opened_text

            def opened(data: bytes | str) -> Event:
                return self.decode(event_type, schema_version, data, where="", opener=opener)

            return opened
        found = self._loaders.get((event_type, schema_version))
        if found is not None:
            return found
        if cls is not None and schema_version == cls.schema_version:
            # the validator itself: model_validate_json's wrapper cost a sixth of it
            made: Callable[[bytes | str], Event] = cls.__pydantic_validator__.validate_json
        else:

            def made(data: bytes | str) -> Event:
                return self.decode(event_type, schema_version, data, where="")

        self._loaders[(event_type, schema_version)] = made
        return made

    def is_current(self, event_type: str, schema_version: int) -> bool:
        """Whether data of this version loads without upcasting."""
        cls = self._types.get(event_type)
        return cls is not None and cls.schema_version == schema_version

    def types(self) -> Mapping[str, type[Event]]:
        return dict(self._types)

    def encode(self, event: Event) -> bytes:
        return event.model_dump_json().encode()

    def decode(
        self,
        event_type: str,
        schema_version: int,
        data: bytes | str,
        *,
        where: str | Callable[[], str],
        opener: Opener | None = None,
    ) -> Event:
        """Load stored data as the current model; ``where`` names stream and position.

        ``where`` may be a function, so a replay of a million events only formats the
        place of the one that fails. ``opener`` opens sealed personal values; without it,
        a payload holding any does not load.
        """
        if not isinstance(where, str):
            try:
                return self.decode(event_type, schema_version, data, where="", opener=opener)
            except (UnknownEventType, BrokenEvent):
                return self.decode(event_type, schema_version, data, where=where(), opener=opener)
        cls = self._types.get(event_type)
        if cls is None:
            raise UnknownEventType(f"unknown event type {event_type!r} at {where}")
        if schema_version > cls.schema_version:
            raise UnknownEventType(
                f"{event_type} schema version {schema_version} is newer than this code's "
                f"{cls.schema_version} at {where}"
            )
        sealed = opener is not None and bool(sealing_plan(cls))
        try:
            if schema_version == cls.schema_version and not sealed:
                return cls.model_validate_json(data)
            payload: dict[str, Any] = json.loads(data)
            for version in range(schema_version, cls.schema_version):
                step = self._upcasters.get((event_type, version))
                if step is None:
                    raise UnknownEventType(f"no upcaster for {event_type} v{version} at {where}")
                payload = step(payload)
            if opener is not None and sealed:
                opener(cls, payload)
            return cls.model_validate(payload)
        except UnknownEventType:
            raise
        except ValueError as exc:
            raise BrokenEvent(f"broken {event_type} v{schema_version} at {where}: {exc}") from exc

    def json_schemas(self) -> Iterable[tuple[str, dict[str, Any]]]:
        for name, cls in sorted(self._types.items()):
            schema = cls.model_json_schema()
            schema["title"] = name
            schema["x-schema-version"] = cls.schema_version
            schema["x-service"] = cls.service
            yield name, schema


registry = EventRegistry()
