"""freshness: how long after an award is sent its weekly total shows it, under steady load.

The embedded composition runs as `make run` starts it (uvicorn on loopback), in a process of
its own; awards go through its gateway as the browser sends them (POST
/api/points/schools/{s}/awards as a signed-in teacher, the only way in from outside) over
real HTTP from a load process of its own, at a fixed rate (open loop: latency counts from
when each award was due, so a load generator that falls behind shows up instead of hiding),
at a lower CPU priority than the server (``LOAD_NICENESS``), as clients on other machines
would be. A watcher process records when the weekly-totals checkpoint moves; each award's
position in the log then says when it became visible. Baseline: the same latency at a light
load, in the same run.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import multiprocessing
import os
import random
import shutil
import sqlite3
import time
import uuid
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp
from schoolgate_contracts.points import PointAwarded
from schoolgate_contracts.roster import StaffAssignedToClass, StaffMemberAdded, StaffRole
from schoolgate_gateway.accounts import Accounts, Kind
from schoolgate_gateway.bootstrap import SESSION_COOKIE
from schoolgate_gateway.projections import STAFF as GATEWAY_STAFF
from schoolgate_gateway.settings import GatewaySettings
from schoolgate_kit.clock import utc_now
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.testing.roster import school_facts, seed_school
from schoolgate_points.projections import PUPILS as PUPILS_READ_MODEL
from schoolgate_points.projections import WEEKLY_TOTALS

from bench.common import Detail, Result, award_request
from bench.serving import LoadProcess, ms, serving
from bench.watch import QUERY, Samples, watch

NAME = "freshness"
SCHOOL = "bench-school"
PUPILS = 500
RATE = 500.0
LIGHT_RATE = 10.0
MID_RATE = 200.0
"""A load between the two, to show where the knee is when 500/s is past capacity."""
TEACHER = "bench-teacher"
"""The class's teacher, who gives every award."""
CLASS = "class-1"
WAYS = ("kindness", "courage", "curiosity")
CLIENTS = 32


@dataclass(frozen=True)
class Sent:
    award_id: str
    due: float
    sent: float
    answered: float
    status: int


@dataclass(frozen=True)
class Phase:
    rate: float
    sent: list[Sent]
    latencies: list[float]
    """Seconds from due to visible, for every award that was answered 201."""

    @property
    def failed(self) -> int:
        return sum(1 for s in self.sent if s.status != 201)

    @property
    def achieved_rate(self) -> float:
        span = self.sent[-1].sent - self.sent[0].sent if len(self.sent) > 1 else 0.0
        return (len(self.sent) - 1) / span if span > 0 else float("nan")


async def _post(client: aiohttp.ClientSession, due: float, pupil: str, way: str) -> Sent:
    award_id = uuid.uuid4()
    path, body = award_request(SCHOOL, CLASS, pupil, way, award_id)
    sent = time.monotonic()
    try:
        async with client.post(path, json=body) as response:
            await response.read()
            status = response.status
    except aiohttp.ClientError:
        status = 0
    return Sent(award_id.hex, due, sent, time.monotonic(), status)


def _client(base: str, session: str) -> aiohttp.ClientSession:
    """aiohttp, not httpx, for the load: httpx's pool scans every connection on every
    request, and at these rates the load process then needed most of a core."""
    return aiohttp.ClientSession(
        base_url=base,
        headers={"cookie": f"{SESSION_COOKIE}={session}"},
        connector=aiohttp.TCPConnector(limit=CLIENTS * 2),
        timeout=aiohttp.ClientTimeout(total=60),
    )


async def _open_connections(client: aiohttp.ClientSession) -> None:
    """This load process is new: open its connections before the clock starts, so the
    figure is the service's steady state, not this process's first TCP handshakes."""

    async def one() -> None:
        async with client.get("/healthz") as response:
            await response.read()

    await asyncio.gather(*(one() for _ in range(CLIENTS)))


async def _drive(base: str, session: str, rate: float, seconds: float, seed: int) -> list[Sent]:
    """Open loop, in the load process: one award every 1/rate s, whatever the answers."""
    rng = random.Random(seed)
    async with _client(base, session) as client:
        await _open_connections(client)
        count = max(2, round(rate * seconds))
        start = time.monotonic() + 0.01
        tasks: list[asyncio.Task[Sent]] = []
        for i in range(count):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            pupil = f"pupil-{rng.randrange(PUPILS):04d}"
            tasks.append(asyncio.create_task(_post(client, due, pupil, rng.choice(WAYS))))
        return list(await asyncio.gather(*tasks))


async def _capacity(base: str, session: str, clients: int, seconds: float, seed: int) -> float:
    """Closed loop, in the load process: awards/s answered with ``clients`` always waiting."""
    rng = random.Random(seed)
    answered = 0
    async with _client(base, session) as client:
        deadline = time.monotonic() + seconds

        async def one_client() -> None:
            nonlocal answered
            while time.monotonic() < deadline:
                pupil = f"pupil-{rng.randrange(PUPILS):04d}"
                sent = await _post(client, 0.0, pupil, rng.choice(WAYS))
                answered += sent.status == 201

        started = time.monotonic()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        return answered / (time.monotonic() - started)


async def _seed(here: Path) -> str:
    """The school, its values, its pupils and their teacher, as roster would record them,
    written to the log before the server starts; and the teacher's session, as signing in
    leaves one (its cost is not what is measured)."""
    pupils = [f"pupil-{i:04d}" for i in range(PUPILS)]
    teacher = [
        StaffMemberAdded(
            staff_id=TEACHER,
            display_name="Ms Bench",
            email="bench@example.org",
            role=StaffRole.teacher,
        ),
        StaffAssignedToClass(staff_id=TEACHER, class_id=CLASS),
    ]
    store = await SqliteEventStore.open(here / "events.db", clock=utc_now)
    try:
        facts = school_facts(SCHOOL, {CLASS: pupils}, ways=WAYS)
        await seed_school(store, SCHOOL, [*facts, *teacher])
    finally:
        await store.close()
    accounts = await Accounts.open(GatewaySettings(data_dir=here).private_store_location())
    try:
        account = await accounts.ensure(Kind.staff, TEACHER, display_name="Ms Bench")
        return await accounts.start_session(account, utc_now())
    finally:
        await accounts.close()


def _documents(path: Path, projection: str) -> list[dict[str, object]]:
    """A read model's active documents, read from its file (the server is another process);
    none while the file has no tables yet."""
    conn = sqlite3.connect(path, timeout=30)
    try:
        rows = conn.execute(
            "SELECT d.doc FROM documents d JOIN generations g ON g.projection = d.projection"
            " AND g.generation = d.generation AND g.active = 1 WHERE d.projection = ?",
            (projection,),
        ).fetchall()
    except sqlite3.OperationalError:  # not made yet
        return []
    finally:
        conn.close()
    return [json.loads(row[0]) for row in rows]


def _checkpoint(path: Path, projection: str) -> int:
    conn = sqlite3.connect(path, timeout=30)
    try:
        row = conn.execute(QUERY, (projection,)).fetchone()
        return 0 if row is None else int(row[0])
    finally:
        conn.close()


async def _known(here: Path) -> None:
    """Wait until the points service knows the pupils (it checks every award against them)
    and the gateway knows their teacher (it makes her identity from that)."""
    readmodels = here / "readmodels.db"
    for _ in range(1200):
        pupils = len(_documents(readmodels, PUPILS_READ_MODEL))
        teaches = any(
            d["staff_id"] == TEACHER
            and isinstance(d["class_ids"], list)
            and CLASS in d["class_ids"]
            for d in _documents(readmodels, GATEWAY_STAFF)
        )
        if pupils >= PUPILS and teaches:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the bench school's pupils and teacher did not reach the read models")


async def _positions(here: Path) -> dict[str, int]:
    found: dict[str, int] = {}
    store = await SqliteEventStore.open(here / "events.db", clock=utc_now)
    try:
        position = 0
        while True:
            batch = await store.read_all(after=position, limit=5000, types=["PointAwarded"])
            for recorded in batch.events:
                assert isinstance(recorded.event, PointAwarded)
                found[recorded.event.award_id] = recorded.position
            position = batch.up_to
            if batch.caught_up:
                return found
    finally:
        await store.close()


async def _settle(here: Path, position: int) -> None:
    """Wait until weekly totals hold everything up to ``position`` (at most two minutes)."""
    async with asyncio.timeout(120):
        # another process writes it: there is nothing here to wait on but the file
        while _checkpoint(here / "readmodels.db", WEEKLY_TOTALS) < position:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


def _latencies(sent: list[Sent], positions: dict[str, int], samples: Samples) -> list[float]:
    times = [t for t, _ in samples]
    checkpoints = [c for _, c in samples]
    latencies: list[float] = []
    for s in sent:
        if s.status != 201:
            continue
        i = bisect.bisect_left(checkpoints, positions[s.award_id])
        if i == len(checkpoints):
            raise RuntimeError(f"award {s.award_id} never became visible to the watcher")
        latencies.append(times[i] - s.due)
    return latencies


def _collect(receiver: Connection) -> Samples:
    try:
        samples: Samples = receiver.recv()
    except EOFError:  # the watcher died; the missing samples will say so
        return []
    return samples


def _server(here: Path) -> contextlib.AbstractContextManager[str]:
    """``python -m schoolgate_embedded`` on loopback, as `make run` starts it; its URL."""
    env = {
        **os.environ,
        "SCHOOLGATE_DATA_DIR": str(here),
        "SCHOOLGATE_ENVIRONMENT": "test",
        "SCHOOLGATE_LOG_LEVEL": "WARNING",
    }
    return serving("embedded", ["schoolgate_embedded"], env, here)


async def run(workdir: Path, *, quick: bool) -> list[Result]:
    heavy_seconds = 5.0 if quick else 20.0
    light_seconds = 3.0 if quick else 10.0
    here = workdir / NAME
    shutil.rmtree(here, ignore_errors=True)
    here.mkdir(parents=True)
    session = await _seed(here)

    spawn = multiprocessing.get_context("spawn")
    stop = spawn.Event()
    receiver, sender = spawn.Pipe(duplex=False)
    watcher = spawn.Process(
        target=watch,
        args=(str(here / "readmodels.db"), WEEKLY_TOTALS, sender, stop, 0.0005),
        daemon=True,
    )
    phases = ((LIGHT_RATE, light_seconds), (MID_RATE, light_seconds), (RATE, heavy_seconds))
    runs: list[tuple[float, list[Sent]]] = []
    with _server(here) as base:
        await _known(here)
        watcher.start()
        sender.close()  # the watcher holds the only sending end: its death reads as EOF
        try:
            if not await asyncio.to_thread(receiver.poll, 60):
                raise TimeoutError("the checkpoint watcher did not start")
            receiver.recv()  # "ready"
            await LoadProcess(_drive, base, session, 50.0, 1.0, 1).run()  # warm up
            for seed, (rate, seconds) in enumerate(phases, start=2):
                sent = await LoadProcess(_drive, base, session, rate, seconds, seed).run()
                positions = await _positions(here)
                await _settle(here, max(positions[s.award_id] for s in sent if s.status == 201))
                runs.append((rate, sent))
            capacity = await LoadProcess(
                _capacity, base, session, CLIENTS, light_seconds, len(phases) + 2
            ).run()
            positions = await _positions(here)
            await _settle(here, max(positions.values()))
        finally:
            stop.set()
            samples = await asyncio.to_thread(_collect, receiver)
            watcher.join(timeout=10)
    docs = _documents(here / "readmodels.db", WEEKLY_TOTALS)

    light, mid, heavy = (
        Phase(rate, sent, _latencies(sent, positions, samples)) for rate, sent in runs
    )
    stored = sum(int(doc["total"]) for doc in docs)
    awarded = len(positions)
    details: dict[str, Detail] = {
        "rate_awards_per_s": RATE,
        "seconds": heavy_seconds,
        "awards": len(heavy.sent),
        "achieved_rate_awards_per_s": heavy.achieved_rate,
        "failed_requests": heavy.failed,
        "http_p50_ms": ms([s.answered - s.due for s in heavy.sent], 50),
        "http_p99_ms": ms([s.answered - s.due for s in heavy.sent], 99),
        "send_lag_p99_ms": ms([s.sent - s.due for s in heavy.sent], 99),
        f"capacity_{CLIENTS}_clients_closed_loop_awards_per_s": capacity,
        f"at_{MID_RATE:g}_per_s_p50_ms": ms(mid.latencies, 50),
        f"at_{MID_RATE:g}_per_s_p99_ms": ms(mid.latencies, 99),
        f"at_{MID_RATE:g}_per_s_failed_requests": mid.failed,
        "light_rate_awards_per_s": LIGHT_RATE,
        "light_awards": len(light.sent),
        "light_failed_requests": light.failed,
        "consistent": "yes" if stored == awarded else f"NO: totals {stored} != awards {awarded}",
    }
    p99 = ms(heavy.latencies, 99)
    return [
        Result(
            name=f"{NAME} p50",
            unit="ms",
            figure=ms(heavy.latencies, 50),
            baseline=ms(light.latencies, 50),
            baseline_label=f"same, at {LIGHT_RATE:g} awards/s",
            target="(p99 is the target)",
            met=None,
            higher_is_better=False,
            details={},
        ),
        Result(
            name=f"{NAME} p99",
            unit="ms",
            figure=p99,
            baseline=ms(light.latencies, 99),
            baseline_label=f"same, at {LIGHT_RATE:g} awards/s",
            target=f"< 100 ms at {RATE:g} awards/s",
            met=p99 < 100 and heavy.failed == 0,
            higher_is_better=False,
            details=details,
        ),
    ]
