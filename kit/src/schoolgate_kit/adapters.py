"""Build the real adapters a URL names. The only place that knows every adapter."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from schoolgate_kit.bus import Bus
from schoolgate_kit.crypto import Keyring
from schoolgate_kit.eventstore import EventStore
from schoolgate_kit.media import MediaStore
from schoolgate_kit.readmodels import ReadModelStore
from schoolgate_kit.settings import Settings


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def open_keyring(settings: Settings) -> Keyring | None:
    """The deployment's keyring: its data keys beside the private store's documents."""
    if settings.master_key is None:
        return None
    from schoolgate_kit.keystores import open_key_store

    store = open_key_store(settings.private_store_location())
    return Keyring(settings.master_key.get_secret_value(), store)


async def open_event_store(
    settings: Settings, clock: Callable[[], datetime], keyring: Keyring | None = None
) -> EventStore:
    url = settings.event_store_location()
    if url.startswith("sqlite:///"):
        from schoolgate_kit.eventstore.sqlite import SqliteEventStore

        return await SqliteEventStore.open(_sqlite_path(url), clock=clock, keyring=keyring)
    if url.startswith(("kurrentdb://", "kurrentdb+discover://", "esdb://", "esdb+discover://")):
        from schoolgate_kit.eventstore.kurrentdb import KurrentDbEventStore

        return await KurrentDbEventStore.open(url, keyring=keyring)
    raise ValueError(f"SCHOOLGATE_EVENT_STORE_URL: no adapter for {url!r}")


async def open_read_models(settings: Settings, *, database: str) -> ReadModelStore:
    url = settings.read_model_location()
    if url.startswith("sqlite:///"):
        from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore

        return await SqliteReadModelStore.open(_sqlite_path(url))
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from schoolgate_kit.readmodels.mongo import MongoReadModelStore

        return await MongoReadModelStore.open(url, database)
    raise ValueError(f"SCHOOLGATE_READ_MODEL_URL: no adapter for {url!r}")


async def open_bus(settings: Settings, dead_letters: ReadModelStore) -> Bus:
    url = settings.bus_url
    if url == "memory://":
        from schoolgate_kit.bus.memory import InProcessBus

        return InProcessBus(dead_letters, max_deliveries=settings.consumer_max_deliveries)
    if url.startswith(("amqp://", "amqps://")):
        from schoolgate_kit.bus.rabbitmq import RabbitMqBus

        return await RabbitMqBus.connect(
            url,
            max_deliveries=settings.consumer_max_deliveries,
            prefetch=settings.consumer_prefetch,
            publish_timeout=settings.publish_timeout_seconds,
        )
    raise ValueError(f"SCHOOLGATE_BUS_URL: no adapter for {url!r}")


async def open_media(settings: Settings, clock: Callable[[], datetime]) -> MediaStore:
    """``file://path`` (relative like ``file://var/media`` or absolute like
    ``file:///srv/media``) or ``mongodb://...``: GridFS, bucket ``media``, in the URL's
    database or ``schoolgate``."""
    url = settings.media_location()
    if url.startswith("file://"):
        from schoolgate_kit.media.filesystem import FilesystemMediaStore

        return await FilesystemMediaStore.open(Path(url.removeprefix("file://")), clock=clock)
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from schoolgate_kit.media.gridfs import GridFsMediaStore

        return await GridFsMediaStore.open(url, bucket="media", clock=clock)
    raise ValueError(f"SCHOOLGATE_MEDIA_URL: no adapter for {url!r}")
