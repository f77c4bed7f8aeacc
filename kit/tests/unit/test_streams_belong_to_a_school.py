"""A stream belongs to the school whose command created it: another school naming the same
id (an award's id chosen by the caller, say) neither reads nor changes it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from schoolgate_contracts import Event, Metadata
from schoolgate_kit.commands import IdTaken, execute
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.ids import new_key
from schoolgate_kit.testing.events import ManualClock, award


def metadata(school_id: str) -> Metadata:
    return Metadata(
        occurred_at=datetime(2026, 11, 16, tzinfo=UTC),
        school_id=school_id,
        actor="t1",
        correlation_id="c1",
    )


def seen(events: list[Event]) -> list[Event]:
    return events


@pytest.mark.parametrize("expect_new", [False, True])
async def test_another_schools_command_on_a_stream_is_refused_unseen(
    tmp_path: Path, expect_new: bool
) -> None:
    store = await SqliteEventStore.open(tmp_path / "e.db", clock=ManualClock())
    ours = award(school_id="school-a", award_id="same-id")
    await store.append("award-same-id", [ours], expected_version=None)
    decided_on: list[list[Event]] = []

    def decide(state: list[Event]) -> list[Event]:
        decided_on.append(state)
        return [award(school_id="school-b").event]

    with pytest.raises(IdTaken) as caught:
        await execute(
            store,
            "award-same-id",
            initial=list,
            evolve=lambda state, event: [*state, event],
            decide=decide,
            metadata=metadata("school-b"),
            expect_new=expect_new,
        )
    assert caught.value.status == 409
    assert all(state == [] for state in decided_on)  # school A's award was never decided on
    assert [r.event for r in await store.read_stream("award-same-id")] == [ours.event]
    await store.close()


async def test_the_owning_school_goes_on_as_before(tmp_path: Path) -> None:
    store = await SqliteEventStore.open(tmp_path / "e.db", clock=ManualClock())
    await store.append("award-x", [award(school_id="school-a")], expected_version=None)
    decided = await execute(
        store,
        "award-x",
        initial=lambda: 0,
        evolve=lambda count, event: count + 1,
        decide=lambda count: [award(school_id="school-a").event],
        metadata=metadata("school-a"),
    )
    assert decided.state == 2
    await store.close()


def test_keys_are_unique_and_say_what_they_name() -> None:
    keys = {new_key("pup") for _ in range(10_000)}
    assert len(keys) == 10_000
    assert all(k.startswith("pup_") and len(k) == 30 and k.isascii() for k in keys)
