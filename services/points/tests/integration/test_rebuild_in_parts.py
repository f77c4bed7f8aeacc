"""A rebuild of the tallies folds parts of the log in other processes and merges them.

Real SQLite files and real spawned processes: the parts must come out as one process
folding the whole log would have written them, and a broken event in another process's
part must stop the rebuild, naming where it is, with nothing swapped in.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from schoolgate_contracts import BrokenEvent, EventRegistry, NewEvent, registry
from schoolgate_kit import projections
from schoolgate_kit.eventstore import NO_STREAM
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.testing.events import ManualClock, award, target
from schoolgate_points.projections import WEEKLY_TOTALS, targets, weekly_totals

EVENTS = 1200


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteEventStore]:
    """A log of awards to a dozen pupils over five weeks, with daily targets set between."""
    opened = await SqliteEventStore.open(tmp_path / "events.db", clock=ManualClock())
    rng = random.Random(7)
    for number in range(EVENTS // 4):
        batch: list[NewEvent] = [
            award(
                f"pupil-{rng.randrange(12)}",
                way=rng.choice(["kindness", "effort", "listening"]),
                on=date(2026, 10, 5) + timedelta(days=rng.randrange(35)),
            )
            for _ in range(3)
        ]
        batch.append(target(f"pupil-{rng.randrange(12)}", points=rng.randrange(1, 9)))
        await opened.append(f"award-{number}", batch, expected_version=NO_STREAM)
    yield opened
    await opened.close()


async def _rebuilt(
    store: SqliteEventStore, path: Path, projection: projections.Projection, **options: Any
) -> tuple[list[dict[str, Any]], int | None]:
    readmodels = await SqliteReadModelStore.open(path)
    try:
        generation = await projections.rebuild(projection, store, readmodels, **options)
        docs = await readmodels.find(projection.name, {})
        return sorted(docs, key=lambda d: str(d)), await readmodels.checkpoint(
            projection.name, generation
        )
    finally:
        await readmodels.close()


@pytest.fixture
def parts_folded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the projections rebuilt in parts (the spy calls the real thing)."""
    folded: list[str] = []
    real = projections._fold_in_parts

    async def spy(projection: projections.Projection, *args: Any, **kwargs: Any) -> None:
        folded.append(projection.name)
        await real(projection, *args, **kwargs)

    monkeypatch.setattr(projections, "_fold_in_parts", spy)
    return folded


async def test_tallies_rebuilt_in_three_processes_equal_those_rebuilt_in_one(
    store: SqliteEventStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    parts_folded: list[str],
) -> None:
    monkeypatch.setattr(projections, "PART_ROUND", 500)  # three rounds, each in three parts
    alone, alone_at = await _rebuilt(store, tmp_path / "one.db", weekly_totals, workers=1)
    told: list[tuple[int, int]] = []
    in_parts, parts_at = await _rebuilt(
        store,
        tmp_path / "parts.db",
        weekly_totals,
        workers=3,
        parallel_from=1,
        batch_size=64,
        progress=lambda at, of: told.append((at, of)),
    )
    assert parts_folded == [WEEKLY_TOTALS]
    # progress as this process's part goes, page by page, never back, then done
    assert len(told) > 6 and told == sorted(told) and told[-1] == (EVENTS, EVENTS)
    assert sum(doc["total"] for doc in alone) == EVENTS * 3 // 4
    assert in_parts == alone
    assert parts_at == alone_at == EVENTS


async def test_documents_forgotten_between_rounds_are_loaded_and_merged_again(
    store: SqliteEventStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A very large log: each round's documents are written and forgotten, so the next
    round merges onto the stored ones."""
    monkeypatch.setattr(projections, "PART_ROUND", 300)
    monkeypatch.setattr(projections, "HELD_DOCUMENTS", 5)
    alone, _ = await _rebuilt(store, tmp_path / "one.db", weekly_totals, workers=1)
    in_parts, at = await _rebuilt(
        store, tmp_path / "parts.db", weekly_totals, workers=2, parallel_from=1
    )
    assert in_parts == alone
    assert at == EVENTS


async def test_a_broken_event_in_another_process_stops_the_rebuild_naming_it(
    store: SqliteEventStore, tmp_path: Path
) -> None:
    broken = EVENTS - 10  # in the last part: another process's
    with sqlite3.connect(tmp_path / "events.db") as conn:
        conn.execute("UPDATE events SET data = '{\"pupil_id\": 3}' WHERE position = ?", (broken,))
    readmodels = await SqliteReadModelStore.open(tmp_path / "parts.db")
    try:
        with pytest.raises(BrokenEvent, match=f"global position {broken}"):
            await projections.rebuild(weekly_totals, store, readmodels, workers=2, parallel_from=1)
        assert await readmodels.active_generation(WEEKLY_TOTALS) is None
    finally:
        await readmodels.close()


async def test_what_cannot_be_merged_or_read_elsewhere_is_rebuilt_in_one_process(
    store: SqliteEventStore, tmp_path: Path, parts_folded: list[str]
) -> None:
    # daily targets replace each other: no merge
    docs, _ = await _rebuilt(store, tmp_path / "t.db", targets, workers=2, parallel_from=1)
    assert len(docs) == 12
    # a registry of its own: another process, which has only the shared one, could not decode
    own = EventRegistry()
    for event_type in registry.types().values():
        own.register(event_type)
    private = SqliteEventStore(store._db, clock=ManualClock(), events=own)
    assert private.log_reader() is None
    docs, _ = await _rebuilt(private, tmp_path / "w.db", weekly_totals, workers=2, parallel_from=1)
    assert sum(doc["total"] for doc in docs) == EVENTS * 3 // 4
    assert parts_folded == []


class _NoProcesses:
    """A platform where no process pool can start (no semaphores: no writable /dev/shm)."""

    def Pool(self, processes: int) -> None:
        raise OSError(38, "Function not implemented")


async def test_where_no_other_process_can_start_the_rebuild_runs_in_this_one(
    store: SqliteEventStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    parts_folded: list[str],
) -> None:
    monkeypatch.setattr(projections.multiprocessing, "get_context", lambda _: _NoProcesses())
    docs, at = await _rebuilt(store, tmp_path / "w.db", weekly_totals, workers=4, parallel_from=1)
    assert sum(doc["total"] for doc in docs) == EVENTS * 3 // 4
    assert at == EVENTS
    assert parts_folded == []
