"""Both bus adapters against the bus contract: in-process, and real RabbitMQ."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from schoolgate_kit.bus.memory import InProcessBus
from schoolgate_kit.bus.rabbitmq import RabbitMqBus
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.testing.bus_contract import MAX_DELIVERIES, BusContract
from schoolgate_kit.testing.infrastructure import rabbitmq_url


class TestInProcessBus(BusContract):
    @pytest.fixture
    async def bus(self, tmp_path: Path) -> AsyncIterator[InProcessBus]:
        dead = await SqliteReadModelStore.open(tmp_path / "dead.db")
        yield InProcessBus(dead, max_deliveries=MAX_DELIVERIES, retry_delay=0.001)
        await dead.close()


@pytest.mark.rabbitmq
class TestRabbitMqBus(BusContract):
    @pytest.fixture
    async def bus(self) -> AsyncIterator[RabbitMqBus]:
        bus = await RabbitMqBus.connect(
            rabbitmq_url(), max_deliveries=MAX_DELIVERIES, publish_timeout=5
        )
        yield bus
        await bus.close()
