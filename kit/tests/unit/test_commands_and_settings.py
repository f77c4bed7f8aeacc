"""A version conflict is decided again once, then answered 409; default secrets stay in dev."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from schoolgate_contracts import Event, Metadata, NewEvent
from schoolgate_contracts.points import PointAwarded
from schoolgate_kit.commands import execute
from schoolgate_kit.eventstore import NO_STREAM, AppendResult
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.problems import Conflict
from schoolgate_kit.settings import Settings
from schoolgate_kit.testing.events import ManualClock, award

META = Metadata(
    occurred_at=datetime(2026, 11, 16, tzinfo=UTC), school_id="s1", actor="t1", correlation_id="c1"
)


class RacingStore(SqliteEventStore):
    """Another writer slips in before each of our first ``races`` appends."""

    races = 0

    async def append(
        self, stream: str, events: Sequence[NewEvent], *, expected_version: int | None
    ) -> AppendResult:
        if self.races:
            self.races -= 1
            await super().append(stream, [award(school_id=META.school_id)], expected_version=None)
        return await super().append(stream, events, expected_version=expected_version)


def count_events(count: int, event: Event) -> int:
    return count + 1


def one_more(count: int) -> list[Event]:
    return [
        PointAwarded(
            award_id=f"a{count}",
            pupil_id="p1",
            class_id=None,
            school_way_id="kindness",
            awarded_by="t1",
            school_date=date(2026, 11, 16),
            week_start=date(2026, 11, 16),
            awarded_at=datetime(2026, 11, 16, 10, tzinfo=UTC),
        )
    ]


async def run(store: SqliteEventStore) -> Any:
    return await execute(
        store, "tally-1", initial=lambda: 0, evolve=count_events, decide=one_more, metadata=META
    )


async def test_one_conflict_is_decided_again_on_the_new_state(tmp_path: Path) -> None:
    store = await RacingStore.open(tmp_path / "e.db", clock=ManualClock())
    store.races = 1
    decided = await run(store)
    assert decided.state == 2  # decided on the state that included the other writer's event
    assert len(await store.read_stream("tally-1")) == 2
    await store.close()


async def test_a_second_conflict_is_a_409_and_writes_nothing_of_ours(tmp_path: Path) -> None:
    store = await RacingStore.open(tmp_path / "e.db", clock=ManualClock())
    store.races = 2
    with pytest.raises(Conflict) as caught:
        await run(store)
    assert caught.value.status == 409
    assert len(await store.read_stream("tally-1")) == 2  # only the other writer's two
    await store.close()


async def test_nothing_to_decide_appends_nothing(tmp_path: Path) -> None:
    store = await SqliteEventStore.open(tmp_path / "e.db", clock=ManualClock())
    decided = await execute(
        store,
        "tally-1",
        initial=lambda: 0,
        evolve=count_events,
        decide=lambda state: [],
        metadata=META,
    )
    assert decided.events == []
    assert await store.head() == 0
    await store.append("other", [award()], expected_version=NO_STREAM)
    await store.close()


async def test_a_stream_expected_new_that_exists_is_read_and_decided_again(
    tmp_path: Path,
) -> None:
    """``expect_new`` skips the first read; a retry into an existing stream conflicts and is
    decided on what is really there, never appended blind."""
    store = await SqliteEventStore.open(tmp_path / "e.db", clock=ManualClock())

    def once(count: int) -> list[Event]:
        return one_more(count) if count == 0 else []  # the award is given once

    for _ in range(2):
        decided = await execute(
            store,
            "award-1",
            initial=lambda: 0,
            evolve=count_events,
            decide=once,
            metadata=META,
            expect_new=True,
        )
        assert decided.state == 1
    assert len(await store.read_stream("award-1")) == 1
    await store.close()


def test_the_default_identity_secret_is_refused_outside_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCHOOLGATE_ENVIRONMENT", "production")
    monkeypatch.delenv("SCHOOLGATE_IDENTITY_SECRET", raising=False)
    with pytest.raises(ValidationError, match="SCHOOLGATE_IDENTITY_SECRET"):
        Settings()
    monkeypatch.setenv("SCHOOLGATE_IDENTITY_SECRET", "a-real-secret-from-the-vault-0123456789")
    assert Settings().environment.value == "production"


def test_development_may_use_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCHOOLGATE_ENVIRONMENT", raising=False)
    monkeypatch.delenv("SCHOOLGATE_IDENTITY_SECRET", raising=False)
    assert Settings().is_development
