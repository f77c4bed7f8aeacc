"""Fixtures the kit's tests share: a fresh SQLite event store and read-model store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.testing.events import ManualClock


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteEventStore]:
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=ManualClock())
    yield store
    await store.close()


@pytest.fixture
async def readmodels(tmp_path: Path) -> AsyncIterator[SqliteReadModelStore]:
    readmodels = await SqliteReadModelStore.open(tmp_path / "readmodels.db")
    yield readmodels
    await readmodels.close()
