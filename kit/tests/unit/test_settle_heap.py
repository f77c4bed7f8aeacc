"""After start-up the cycle collector steps aside: the start-up heap is frozen out of its
walks, and it collects less often."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from schoolgate_kit.runtime import (
    RELAY_YOUNG_COLLECTION_EVERY,
    YOUNG_COLLECTION_EVERY,
    settle_heap,
)


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_collector")
def test_settling_freezes_the_heap_and_spaces_collections_out() -> None:
    kept = [object() for _ in range(10)]
    settle_heap()
    assert gc.get_freeze_count() >= len(kept)
    assert gc.get_threshold() == (YOUNG_COLLECTION_EVERY, 10, 100)


@pytest.mark.usefixtures("restored_collector")
def test_the_relay_settles_with_its_own_spacing() -> None:
    settle_heap(young_every=RELAY_YOUNG_COLLECTION_EVERY)
    assert gc.get_threshold() == (RELAY_YOUNG_COLLECTION_EVERY, 10, 100)
