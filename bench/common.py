"""What every benchmark shares: the result shape, the machine, and a fast award-log writer."""

from __future__ import annotations

import math
import os
import platform
import random
import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from schoolgate_contracts import Metadata, NewEvent
from schoolgate_contracts.points import PointAwarded
from schoolgate_kit.crypto import Keyring
from schoolgate_kit.eventstore.sqlite import SCHEMA
from schoolgate_kit.wire import metadata_json

Detail = float | int | str


@dataclass
class Result:
    """One figure beside its baseline; ``met`` is for reading, never for asserting
    (None: the row has no target of its own)."""

    name: str
    unit: str
    figure: float
    baseline: float
    baseline_label: str
    target: str
    met: bool | None
    higher_is_better: bool = True
    details: dict[str, Detail] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.figure / self.baseline if self.baseline else float("nan")

    def as_json(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio}


CPU_CHECK_LOOP = 3_000_000


def cpu_check() -> float:
    """Milliseconds a fixed pure-Python loop takes here now, the best of three: how fast
    this machine runs Python at the moment. On the shared VM the README's figures come
    from, it moved between 48 and 90 from one run to the next, once within three seconds,
    with nothing else running here, and every figure moves with it: printed beside them,
    it says which runs compare."""
    best = math.inf
    for _ in range(3):
        started = time.perf_counter()
        sum(range(CPU_CHECK_LOOP))
        best = min(best, time.perf_counter() - started)
    return best * 1000


def load_average() -> str:
    """Other work on the machine skews every figure; the table says how busy it was."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def machine() -> dict[str, str | int]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count() or 0,
        "cpu": model,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "load_average_at_start": load_average(),
    }


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of unsorted values; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


# -- awards as the browser sends them ---------------------------------------------------------


def award_request(
    school_id: str, class_id: str, pupil_id: str, way: str, award_id: uuid.UUID | None = None
) -> tuple[str, dict[str, object]]:
    """The path and body the browser sends to award one pupil (``static/pages/award.js``:
    the gateway's pass-through to the points service), so a benchmark times the route
    teachers use, not the gateway's own ``POST /api/awards``."""
    body: dict[str, object] = {
        "class_id": class_id,
        "school_way_id": way,
        "kind": "positive",
        "award_id": str(award_id or uuid.uuid4()),
        "pupil_ids": [pupil_id],
    }
    return f"/api/points/schools/{school_id}/awards", body


# -- a realistic award log, written straight into the store's schema -------------------------

FIRST_MONDAY = date(2026, 1, 5)
WAYS = ("kindness", "courage", "curiosity", "respect", "teamwork", "perseverance")
INSERT = (
    "INSERT INTO events (event_id, stream, version, type, schema_version, data, metadata,"
    " recorded_at) VALUES (?, ?, 0, ?, ?, ?, ?, ?)"
)
Row = tuple[str, str, str, int, str, str, str]


def award_rows(
    count: int,
    *,
    pupils: int = 5000,
    weeks: int = 30,
    schools: int = 10,
    seed: int = 42,
    keyring: Keyring | None = None,
) -> Iterator[Row]:
    """``count`` PointAwarded rows in school-day order: one stream per award, as points does.

    Payloads come from the real models, sealed by ``keyring`` as the store writes them (each
    pupil's id under its week's key); metadata is shared per class and day (its content
    does not change what reading it costs).
    """
    rng = random.Random(seed)
    days = [FIRST_MONDAY + timedelta(weeks=w, days=d) for w in range(weeks) for d in range(5)]
    metadata: dict[tuple[int, int], str] = {}
    for i in range(count):
        day_index = i * len(days) // count
        day = days[day_index]
        pupil = rng.randrange(pupils)
        klass = pupil // 30
        teacher = f"teacher-{klass:04d}"
        at = datetime(day.year, day.month, day.day, 9, tzinfo=UTC) + timedelta(
            seconds=rng.randrange(6 * 3600)
        )
        meta = metadata.get((day_index, klass))
        if meta is None:
            meta = metadata_json(
                Metadata(
                    occurred_at=at,
                    school_id=f"school-{pupil % schools:02d}",
                    actor=teacher,
                    correlation_id=uuid.UUID(int=rng.getrandbits(128)).hex,
                )
            )
            metadata[(day_index, klass)] = meta
        award_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
        event = PointAwarded(
            award_id=award_id,
            pupil_id=f"pupil-{pupil:05d}",
            class_id=f"class-{klass:04d}",
            school_way_id=rng.choice(WAYS),
            awarded_by=teacher,
            school_date=day,
            week_start=day - timedelta(days=day.weekday()),
            awarded_at=at,
        )
        school_id = f"school-{pupil % schools:02d}"
        yield (
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            f"award-{award_id}",
            PointAwarded.event_type,
            PointAwarded.schema_version,
            event.model_dump_json() if keyring is None else keyring.seal_event(event, school_id),
            meta,
            at.isoformat(),
        )


def write_award_log(
    path: Path, count: int, *, chunk: int = 20_000, keyring: Keyring | None = None
) -> None:
    """Fill a fresh event-store file with ``count`` awards, fast (one bulk transaction);
    sealed with ``keyring`` when given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.executescript(SCHEMA)
        conn.execute("BEGIN")
        rows: list[Row] = []
        for row in award_rows(count, keyring=keyring):
            rows.append(row)
            if len(rows) >= chunk:
                conn.executemany(INSERT, rows)
                rows.clear()
        conn.executemany(INSERT, rows)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


COMMENT_WRITERS = 500


def comments(count: int, *, school_id: str = "school-00") -> Iterator[tuple[str, NewEvent]]:
    """``count`` comments by ``COMMENT_WRITERS`` parents (``par_0000`` ...), each holding a
    personal value (its words, sealed under its writer's key): stream and event."""
    from schoolgate_contracts.stories import CommentAdded

    meta = Metadata(
        occurred_at=datetime.now(UTC), school_id=school_id, actor="par", correlation_id="c"
    )
    for i in range(count):
        comment = CommentAdded(
            post_id=f"post-{i % 50}",
            comment_id=uuid.uuid4().hex,
            author_id=f"par_{i % COMMENT_WRITERS:04d}",
            text=f"Thank you so much, she loved the trip to the farm! ({i})",
        )
        yield (
            f"comment-{comment.comment_id}",
            NewEvent(event_id=uuid.uuid4(), event=comment, metadata=meta),
        )
