"""gateway_awards: awards through the whole gateway over real HTTP, and how soon a parent's
open page shows each one.

The embedded app runs as `make run` starts it (uvicorn on loopback) in a process of its own;
the load comes from another process of its own, so neither the server nor this process's
measurements share an event loop with the load generator.

(a) Awards accepted per second, sent as the browser sends them (POST
    /api/points/schools/{s}/awards, the gateway's pass-through), with ``CLIENTS`` clients
    always waiting on an answer (closed loop), beside the same clients asking a trivial
    authenticated endpoint (GET /api/me) for as long, in the same run.
(b) Award-to-parent-page latency while (a) runs: from sending one award for the parent's
    child until the parent's live stream (/api/live/pupils/{p}) has carried it AND the page's
    follow-up GET .../summary?after=POSITION has answered with the new total. Baseline: the
    same, with no other load, in the same run.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import Detail, Result, award_request
from bench.serving import Load, LoadProcess, ms, serving

NAME = "gateway_awards"
CLIENTS = 16
SCHOOL = "demo-school"
TEACHER = {"email": "teacher@demo.school", "password": "demo-teacher-pass"}
PARENT = {"email": "parent@demo.school", "password": "demo-parent-pass"}
COOKIE = "schoolgate_session"
PROBE_GAP = 0.02
"""Seconds between one probe's end and the next one's start."""
WAIT = 30.0


# -- the server -------------------------------------------------------------------------------


def _embedded(here: Path) -> contextlib.AbstractContextManager[str]:
    """``python -m schoolgate_embedded`` on loopback with a fresh demo school; its URL."""
    env = {
        **os.environ,
        "SCHOOLGATE_DATA_DIR": str(here),
        "SCHOOLGATE_ENVIRONMENT": "development",
        "SCHOOLGATE_DEMO": "1",
        "SCHOOLGATE_LOG_LEVEL": "WARNING",
    }
    return serving("embedded", ["schoolgate_embedded"], env, here)


async def _sign_in(base: str, who: dict[str, str]) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        answer = await client.post("/api/session", json=who)
        answer.raise_for_status()
        return str(answer.cookies[COOKIE])


@dataclass(frozen=True)
class Demo:
    """Who the awards go to. Roster made the demo school's ids when it seeded it, so they
    are asked for, as the pages ask."""

    class_id: str
    """The teacher's class, which the child and her classmates are in."""
    child: str
    """The parent's child: only the latency probe awards her, so her total is known."""
    classmates: list[str]
    """Where the load's awards go: the teacher's other pupils."""
    ways: list[str]
    """The school's values."""


async def _demo(base: str, teacher_cookie: str, parent_cookie: str) -> Demo:
    async with (
        httpx.AsyncClient(base_url=base, cookies={COOKIE: teacher_cookie}, timeout=WAIT) as t,
        httpx.AsyncClient(base_url=base, cookies={COOKIE: parent_cookie}, timeout=WAIT) as p,
    ):
        parent = (await p.get("/api/me")).raise_for_status().json()
        teacher = (await t.get("/api/me")).raise_for_status().json()
        (class_id,) = teacher["classes"]
        pupils = await t.get(f"/api/roster/schools/{SCHOOL}/classes/{class_id}/pupils")
    child = str(parent["children"][0]["pupil_id"])
    classmates = sorted(str(x["pupil_id"]) for x in pupils.raise_for_status().json())
    classmates.remove(child)  # she is in the teacher's class: the probe awards her alone
    return Demo(class_id, child, classmates, sorted(teacher["school_ways"]))


# -- the load, in a process of its own ---------------------------------------------------------


async def _load(
    base: str, cookie: str, kind: str, clients: int, seconds: float, demo: Demo
) -> Load:
    result = Load()
    pupils = itertools.cycle(demo.classmates)
    ways = itertools.cycle(demo.ways)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base, cookies={COOKIE: cookie}, timeout=WAIT, limits=limits
    ) as client:
        deadline = time.monotonic() + seconds

        async def one_client() -> None:
            while time.monotonic() < deadline:
                sent = time.monotonic()
                if kind == "awards":
                    path, body = award_request(SCHOOL, demo.class_id, next(pupils), next(ways))
                    answer = await client.post(path, json=body)
                    ok = answer.status_code == 201
                else:
                    answer = await client.get("/api/me")
                    ok = answer.status_code == 200
                result.latencies.append(time.monotonic() - sent)
                result.answered += ok
                result.failed += not ok

        started = time.monotonic()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        result.seconds = time.monotonic() - started
    return result


# -- the parent's page ---------------------------------------------------------------------------


@dataclass
class Probe:
    total: float
    """Sent the award -> stream carried it -> summary?after answered with the new total."""
    stream: float
    """Sent the award -> stream carried it."""
    http: float
    """Sent the award -> the award was answered 201."""
    fresh: bool
    """The summary had the new total (it must: ``after`` waits for the position)."""


class ParentPage:
    """The parent's open page: its live stream, read in the background."""

    def __init__(self, client: httpx.AsyncClient, child: str, class_id: str) -> None:
        self.client = client
        self.child = child
        self.class_id = class_id
        self.ready = asyncio.Event()
        self._waiting: dict[str, asyncio.Future[tuple[float, int]]] = {}
        self._task: asyncio.Task[None] | None = None

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator[ParentPage]:
        self._task = asyncio.create_task(self._read())
        try:
            async with asyncio.timeout(WAIT):
                await self.ready.wait()
            yield self
        finally:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _read(self) -> None:
        path = f"/api/live/pupils/{self.child}"
        async with self.client.stream("GET", path, timeout=httpx.Timeout(WAIT, read=None)) as r:
            r.raise_for_status()
            name = ""
            async for line in r.aiter_lines():
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    data = json.loads(line.removeprefix("data: "))
                    if name == "ready":
                        self.ready.set()
                    elif name == "points":
                        key = uuid.UUID(data["award_id"]).hex
                        waiting = self._waiting.pop(key, None)
                        if waiting is not None and not waiting.done():
                            waiting.set_result((time.monotonic(), int(data["position"])))

    def expect(self, award_id: uuid.UUID) -> asyncio.Future[tuple[float, int]]:
        future: asyncio.Future[tuple[float, int]] = asyncio.get_running_loop().create_future()
        self._waiting[award_id.hex] = future
        return future

    async def week_total(self, after: int = 0) -> int:
        answer = await self.client.get(
            f"/api/points/schools/{SCHOOL}/pupils/{self.child}/summary", params={"after": after}
        )
        answer.raise_for_status()
        return int(answer.json()["week"]["total"])


async def _probe(page: ParentPage, teacher: httpx.AsyncClient, way: str, expected: int) -> Probe:
    award_id = uuid.uuid4()
    heard = page.expect(award_id)
    sent = time.monotonic()
    path, body = award_request(SCHOOL, page.class_id, page.child, way, award_id)
    answer = await teacher.post(path, json=body)
    answered = time.monotonic()
    if answer.status_code != 201:
        raise RuntimeError(f"the probe's award was refused: {answer.status_code} {answer.text}")
    async with asyncio.timeout(WAIT):
        streamed, position = await heard
    total = await page.week_total(after=position)
    done = time.monotonic()
    return Probe(done - sent, streamed - sent, answered - sent, total >= expected)


async def _probes(
    page: ParentPage, teacher: httpx.AsyncClient, way: str, seconds: float, total: int
) -> tuple[list[Probe], int]:
    """Probe one award at a time for ``seconds``; the probes, and the child's total after."""
    found: list[Probe] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        total += 1
        found.append(await _probe(page, teacher, way, total))
        await asyncio.sleep(PROBE_GAP)
    return found, total


async def run(workdir: Path, *, quick: bool) -> list[Result]:
    seconds = 3.0 if quick else 15.0
    settle = 0.5 if quick else 1.0
    here = workdir / NAME
    here.mkdir(parents=True, exist_ok=True)
    with _embedded(here) as base:
        teacher_cookie = await _sign_in(base, TEACHER)
        parent_cookie = await _sign_in(base, PARENT)
        demo = await _demo(base, teacher_cookie, parent_cookie)
        way = demo.ways[0]
        me_load = LoadProcess(_load, base, teacher_cookie, "me", CLIENTS, seconds, demo)
        award_load = LoadProcess(
            _load, base, teacher_cookie, "awards", CLIENTS, seconds + 2 * settle, demo
        )
        try:
            async with (
                httpx.AsyncClient(
                    base_url=base, cookies={COOKIE: teacher_cookie}, timeout=WAIT
                ) as t,
                httpx.AsyncClient(
                    base_url=base, cookies={COOKIE: parent_cookie}, timeout=WAIT
                ) as p,
                ParentPage(p, demo.child, demo.class_id).open() as page,
            ):
                total = await page.week_total()
                _, total = await _probes(page, t, way, 1.0, total)  # warm up: imports, caches
                idle, total = await _probes(page, t, way, seconds, total)
                me = await me_load.go().result()
                award_load.go()
                await asyncio.sleep(settle)  # the load is up to speed before probing starts
                loaded, total = await _probes(page, t, way, seconds, total)
                load = await award_load.result()
        finally:
            me_load.stop()
            award_load.stop()

    def totals(probes: list[Probe]) -> list[float]:
        return [x.total for x in probes]

    details: dict[str, Detail] = {
        "clients": CLIENTS,
        "seconds_per_phase": seconds,
        "awards_answered_201": load.answered,
        "awards_failed": load.failed,
        "award_http_p50_ms": ms(load.latencies, 50),
        "award_http_p99_ms": ms(load.latencies, 99),
        "me_answered_200": me.answered,
        "me_failed": me.failed,
        "me_http_p50_ms": ms(me.latencies, 50),
        "me_http_p99_ms": ms(me.latencies, 99),
    }
    latency_details: dict[str, Detail] = {
        "probes_under_load": len(loaded),
        "probes_idle": len(idle),
        "under_load_stream_only_p50_ms": ms([x.stream for x in loaded], 50),
        "under_load_stream_only_p99_ms": ms([x.stream for x in loaded], 99),
        "under_load_award_answered_p50_ms": ms([x.http for x in loaded], 50),
        "idle_stream_only_p50_ms": ms([x.stream for x in idle], 50),
        "idle_stream_only_p99_ms": ms([x.stream for x in idle], 99),
        "summaries_without_the_new_total": sum(not x.fresh for x in [*idle, *loaded]),
    }
    label = "same, with no other load"
    return [
        Result(
            name=f"{NAME} throughput",
            unit="awards/s",
            figure=load.rate,
            baseline=me.rate,
            baseline_label=f"GET /api/me/s, same {CLIENTS} clients, same run",
            target="(ratio: what an award costs over a trivial call)",
            met=None,
            details=details,
        ),
        Result(
            name=f"{NAME} to parent p50",
            unit="ms",
            figure=ms(totals(loaded), 50),
            baseline=ms(totals(idle), 50),
            baseline_label=label,
            target="(p99 is the figure to watch)",
            met=None,
            higher_is_better=False,
        ),
        Result(
            name=f"{NAME} to parent p99",
            unit="ms",
            figure=ms(totals(loaded), 99),
            baseline=ms(totals(idle), 99),
            baseline_label=label,
            target=f"(under {CLIENTS} clients' award load)",
            met=None,
            higher_is_better=False,
            details=latency_details,
        ),
    ]
