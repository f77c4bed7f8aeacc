"""The relay reads and encodes the next batches while the broker confirms earlier ones."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from schoolgate_kit.eventstore import Batch
from schoolgate_kit.relay import _read_ahead


async def test_batches_come_in_order_and_a_failed_read_is_raised_not_hung() -> None:
    async def batches() -> AsyncIterator[Batch]:
        for up_to in (1, 2, 3):
            yield Batch(events=[], up_to=up_to, caught_up=False)
        raise RuntimeError("the disk went away")

    async with _read_ahead(batches()) as reader:
        taken = []
        for _ in range(3):
            await reader.next()
            taken.append(reader.take()[0].up_to)
        assert taken == [1, 2, 3]
        with pytest.raises(RuntimeError, match="disk went away"):
            await reader.next()
        with pytest.raises(RuntimeError, match="disk went away"):
            reader.take()
