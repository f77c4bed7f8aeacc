"""A version conflict is decided again once, then answered 409; no secret has a default, and a
cluster process does not start without the one all its processes share."""

from __future__ import annotations

import os
import subprocess
import sys
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


def test_no_identity_secret_is_a_constant_of_the_source(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not given one, each settings object holds a secret of its own that no other process
    shares: whatever it signs is accepted nowhere else."""
    monkeypatch.delenv("SCHOOLGATE_IDENTITY_SECRET", raising=False)
    for environment in ("development", "test", "production"):
        monkeypatch.setenv("SCHOOLGATE_ENVIRONMENT", environment)
        first, second = Settings(), Settings()
        assert first.identity_secret != second.identity_secret
        assert "identity_secret" not in first.model_fields_set


def test_a_short_identity_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHOOLGATE_IDENTITY_SECRET", "short")
    with pytest.raises(ValidationError, match="at least 32"):
        Settings()


@pytest.mark.parametrize(
    "command",
    [["schoolgate_kit", "relay"], ["schoolgate_points", "serve"], ["schoolgate_points", "work"]],
)
def test_a_cluster_process_does_not_start_without_its_shared_secrets(
    command: list[str], tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCHOOLGATE_")}
    env |= {"SCHOOLGATE_ENVIRONMENT": "production", "SCHOOLGATE_DATA_DIR": str(tmp_path)}
    ran = subprocess.run(
        [sys.executable, "-m", *command], env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 1
    assert ran.stderr.strip().splitlines() == [ran.stderr.strip()], ran.stderr
    assert ran.stderr.startswith("SCHOOLGATE_IDENTITY_SECRET, SCHOOLGATE_MASTER_KEY not set")
    assert not list(tmp_path.iterdir()), "it opened its stores before refusing"
