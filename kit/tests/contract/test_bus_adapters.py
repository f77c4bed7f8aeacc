"""Both bus adapters against the bus contract: in-process, and real RabbitMQ."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from schoolgate_kit.bus import Message, PublishFailed
from schoolgate_kit.bus import rabbitmq as rabbitmq_bus
from schoolgate_kit.bus.memory import InProcessBus
from schoolgate_kit.bus.rabbitmq import RabbitMqBus
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.testing.bus_contract import MAX_DELIVERIES, BusContract, message
from schoolgate_kit.testing.infrastructure import rabbitmq_url
from schoolgate_kit.testing.waiting import until


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

    async def test_a_batch_the_broker_refuses_fails_at_once_and_the_next_goes_through(
        self, bus: RabbitMqBus, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The broker closes the channel (no such exchange): the batch fails as
        PublishFailed without waiting for its timeout, and once the channel is back the
        relay's retry of it is delivered."""
        seen: list[Message] = []

        async def handler(m: Message) -> None:
            seen.append(m)

        await bus.consume(self.queue(), ["points.#"], handler)
        batch = [message() for _ in range(3)]
        with monkeypatch.context() as patched:
            patched.setattr(rabbitmq_bus, "EXCHANGE", "schoolgate.missing")
            started = time.monotonic()
            with pytest.raises(PublishFailed):
                await bus.publish(batch)
            assert time.monotonic() - started < 4, "failed only on the publish timeout"

        async def retried() -> bool:
            try:
                await bus.publish(batch)
            except PublishFailed:
                return False  # the channel is still being reopened
            return True

        await until(retried, why="publishing after the channel closed")
        await until(lambda: len(seen) == len(batch))
        assert [m.message_id for m in seen] == [m.message_id for m in batch]
