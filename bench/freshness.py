"""freshness: how long after an award is sent its weekly total shows it, under steady load.

The embedded composition runs in this process; awards go to the points app in-process over
httpx's ASGI transport at a fixed rate (open loop: latency counts from when each award was
due, so a load generator that falls behind shows up instead of hiding). A watcher process
records when the weekly-totals checkpoint moves; each award's position in the log then says
when it became visible. Baseline: the same latency at a light load, in the same run.
"""

from __future__ import annotations

import asyncio
import bisect
import multiprocessing
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

import httpx
from pydantic import SecretStr
from schoolgate_contracts.points import PointAwarded
from schoolgate_embedded.app import Embedded, run_embedded
from schoolgate_gateway.settings import GatewaySettings
from schoolgate_kit.identity import Identity, Role, sign
from schoolgate_kit.settings import Environment
from schoolgate_kit.testing.roster import school_facts, seed_school
from schoolgate_points.projections import PUPILS as PUPILS_READ_MODEL
from schoolgate_points.projections import WEEKLY_TOTALS

from bench.common import Detail, Result
from bench.serving import ms
from bench.watch import Samples, watch

NAME = "freshness"
SCHOOL = "bench-school"
PUPILS = 500
RATE = 500.0
LIGHT_RATE = 10.0
MID_RATE = 200.0
"""A load between the two, to show where the knee is when 500/s is past capacity."""
SECRET = "bench-identity-secret-not-for-production"
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


async def _post(client: httpx.AsyncClient, token: str, due: float, pupil: str, way: str) -> Sent:
    award_id = uuid.uuid4()
    sent = time.monotonic()
    response = await client.post(
        f"/schools/{SCHOOL}/awards",
        json={"pupil_id": pupil, "school_way_id": way, "award_id": str(award_id)},
        headers={"authorization": f"Bearer {token}"},
    )
    return Sent(award_id.hex, due, sent, time.monotonic(), response.status_code)


async def _drive(
    client: httpx.AsyncClient, token: str, rate: float, seconds: float, rng: random.Random
) -> list[Sent]:
    count = max(2, round(rate * seconds))
    start = time.monotonic() + 0.01
    tasks: list[asyncio.Task[Sent]] = []
    for i in range(count):
        due = start + i / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        pupil = f"pupil-{rng.randrange(PUPILS):04d}"
        tasks.append(asyncio.create_task(_post(client, token, due, pupil, rng.choice(WAYS))))
    return list(await asyncio.gather(*tasks))


async def _capacity(
    client: httpx.AsyncClient, token: str, clients: int, seconds: float, rng: random.Random
) -> float:
    """Closed loop: awards/s answered with ``clients`` always waiting on an answer."""
    deadline = time.monotonic() + seconds
    answered = 0

    async def one_client() -> None:
        nonlocal answered
        while time.monotonic() < deadline:
            pupil = f"pupil-{rng.randrange(PUPILS):04d}"
            sent = await _post(client, token, 0.0, pupil, rng.choice(WAYS))
            answered += sent.status == 201

    started = time.monotonic()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    return answered / (time.monotonic() - started)


async def _seed(embedded: Embedded) -> None:
    """The school, its values and its pupils, as roster would record them; wait until the
    points service knows them, since it checks every award against them."""
    pupils = [f"pupil-{i:04d}" for i in range(PUPILS)]
    facts = school_facts(SCHOOL, {"class-1": pupils}, ways=WAYS)
    await seed_school(embedded.parts.store, SCHOOL, facts)
    for _ in range(1200):
        known = await embedded.parts.readmodels.find(PUPILS_READ_MODEL, {"school_id": SCHOOL})
        if len(known) == PUPILS:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the points service did not learn the bench school's pupils")


async def _positions(embedded: Embedded) -> dict[str, int]:
    found: dict[str, int] = {}
    position = 0
    while True:
        batch = await embedded.parts.store.read_all(after=position, limit=5000)
        for recorded in batch.events:
            if isinstance(recorded.event, PointAwarded):
                found[recorded.event.award_id] = recorded.position
        position = batch.up_to
        if batch.caught_up:
            return found


async def _settle(embedded: Embedded, position: int) -> None:
    """Wait until weekly totals hold everything up to ``position`` (at most two minutes)."""
    readmodels = embedded.parts.readmodels
    async with asyncio.timeout(120):
        while True:
            generation = await readmodels.active_generation(WEEKLY_TOTALS)
            reached = (
                0 if generation is None else await readmodels.checkpoint(WEEKLY_TOTALS, generation)
            )
            if reached >= position:
                return
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


async def run(workdir: Path, *, quick: bool) -> list[Result]:
    heavy_seconds = 5.0 if quick else 20.0
    light_seconds = 3.0 if quick else 10.0
    here = workdir / NAME
    here.mkdir(parents=True, exist_ok=True)
    settings = GatewaySettings(
        data_dir=here,
        environment=Environment.test,
        identity_secret=SecretStr(SECRET),
        log_level="WARNING",
    )
    leader = Identity(subject="bench-leader", role=Role.leader, school_id=SCHOOL)
    token = sign(leader, secret=SECRET, now=datetime.now(UTC), ttl=timedelta(minutes=5))
    rng = random.Random(7)

    spawn = multiprocessing.get_context("spawn")
    stop = spawn.Event()
    receiver, sender = spawn.Pipe(duplex=False)
    watcher = spawn.Process(
        target=watch,
        args=(str(here / "readmodels.db"), WEEKLY_TOTALS, sender, stop, 0.0005),
        daemon=True,
    )
    runs: list[tuple[float, list[Sent]]] = []
    async with run_embedded(settings) as embedded:
        await _seed(embedded)
        watcher.start()
        sender.close()  # the watcher holds the only sending end: its death reads as EOF
        try:
            if not await asyncio.to_thread(receiver.poll, 60):
                raise TimeoutError("the checkpoint watcher did not start")
            receiver.recv()  # "ready"
            transport = httpx.ASGITransport(app=embedded.apps["points"])
            async with httpx.AsyncClient(
                transport=transport, base_url="http://points.internal"
            ) as client:
                await _drive(client, token, 50.0, 1.0, rng)  # warm up: imports, caches, files
                phases = (
                    (LIGHT_RATE, light_seconds),
                    (MID_RATE, light_seconds),
                    (RATE, heavy_seconds),
                )
                for rate, seconds in phases:
                    sent = await _drive(client, token, rate, seconds, rng)
                    positions = await _positions(embedded)
                    await _settle(embedded, max(positions[s.award_id] for s in sent))
                    runs.append((rate, sent))
                capacity = await _capacity(client, token, CLIENTS, light_seconds, rng)
            positions = await _positions(embedded)
            await _settle(embedded, max(positions.values()))
            docs = await embedded.parts.readmodels.find(WEEKLY_TOTALS, {"school_id": SCHOOL})
        finally:
            stop.set()
            samples = await asyncio.to_thread(_collect, receiver)
            watcher.join(timeout=10)

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
