"""messages: how soon a message a parent sends shows in the class's open inbox, with 1,000
live streams open, and what an inbox page costs beside a trivial call.

A fresh event store holds one school's roster, written straight into its SQLite schema
before the server starts: ``CLASSES`` classes of ``PUPILS_PER_CLASS``, two parents per
child, a teacher per class and a head of year who teaches every class. The embedded app
then runs as `make run` starts it (uvicorn on loopback) in a process of its own; sessions
are made in the gateway's store beforehand (400 sign-ins would meet the per-address
sign-in limit). Each child's first parent starts one conversation with the class, so the
head of year's inbox holds one per child.

(a) Sent -> shown: ``STREAMS`` live message streams (GET /api/live/messages) stay open all
    run, ``PARENT_STREAMS`` of them as parents and the rest as staff, from a process of
    their own that only reads them. From another process, one stream per class teacher
    (the recipients measured), while parents write into their child's conversation
    (POST .../conversations/{c}/messages, each class alike) at a fixed rate, open loop:
    from when each message was due, until the teacher's stream has carried its "messages"
    event AND the page's follow-up GET .../conversations?after=POSITION has answered with
    it, previewing its text (or a later one's). Baseline: the same at ``LIGHT_RATE`` with
    the same streams open, in the same run, as the freshness benchmark's is: the figure is
    what the rate costs, on whatever this machine is doing that minute. ``MID_RATES`` show
    where the knee is. Only the measured pages refetch; the other 990 only hear the news
    (each message reaches about a dozen of them: its class's staff, its sender's tabs).
(b) Inbox pages: the head of year's inbox (GET .../conversations, its first page of 30 of
    ``CLASSES * PUPILS_PER_CLASS``) with ``CLIENTS`` clients always waiting on an answer,
    beside the same clients asking GET /api/me as her for as long, in the same run, with
    the streams still open.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import multiprocessing
import os
import pstats
import random
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.synchronize import Event as Signal
from pathlib import Path

import aiohttp
import httpx
from schoolgate_contracts import Event
from schoolgate_contracts.consent import GuardianLinked
from schoolgate_contracts.roster import (
    ClassAdded,
    PupilEnrolled,
    SchoolDetails,
    SchoolRegistered,
    StaffAssignedToClass,
    StaffMemberAdded,
    StaffRole,
    YearGroupAdded,
)
from schoolgate_gateway.accounts import Accounts, Kind
from schoolgate_gateway.settings import GatewaySettings
from schoolgate_kit.clock import utc_now

from bench.common import Detail, Result
from bench.feed import SCHOOL, Log, _write
from bench.serving import Load, LoadProcess, ms, serving

NAME = "messages"
CLASSES = 10
PUPILS_PER_CLASS = 20
PARENTS_PER_CHILD = 2
STREAMS = 1_000
STAFF_STREAMS = 100
"""Ten per class, its teacher's measured one among them: a class's staff with a few tabs."""
PARENT_STREAMS = STREAMS - STAFF_STREAMS
RATE = 100.0
LIGHT_RATE = 5.0
MID_RATES = (25.0, 50.0)
"""Rates between the two, to show where the knee is when 100/s is past capacity."""
CLIENTS = 16
HEAD = "staff-head"
"""The head of year: every class's conversations are in her inbox."""
COOKIE = "schoolgate_session"
MESSAGES = "/api/messaging/schools/" + SCHOOL
WAIT = 30.0
POSITION = "x-schoolgate-position"


def _teacher(class_no: int) -> str:
    return f"staff-{class_no:02d}"


def _class(class_no: int) -> str:
    return f"class-{class_no:02d}"


def _pupil(class_no: int, n: int) -> str:
    return f"pupil-{class_no:02d}-{n:02d}"


def _parent(class_no: int, n: int, which: int) -> str:
    return f"parent-{class_no:02d}-{n:02d}-{which}"


# -- the school ------------------------------------------------------------------------------


def _roster() -> Log:
    log = Log()
    at = datetime(2025, 8, 20, 9, tzinfo=UTC)
    facts: list[Event] = [
        SchoolRegistered(school_id=SCHOOL, details=SchoolDetails(name="Bench Primary")),
        YearGroupAdded(year_group_id="year-1", name="Year 1"),
        StaffMemberAdded(
            staff_id=HEAD, display_name="Ms Head", email="head@b", role=StaffRole.teacher
        ),
    ]
    for c in range(CLASSES):
        facts += [
            ClassAdded(class_id=_class(c), name=f"Class {c}", year_group_id="year-1"),
            StaffMemberAdded(
                staff_id=_teacher(c),
                display_name=f"Mx T{c}",
                email=f"t{c}@b",
                role=StaffRole.teacher,
            ),
            StaffAssignedToClass(staff_id=_teacher(c), class_id=_class(c)),
            StaffAssignedToClass(staff_id=HEAD, class_id=_class(c)),
        ]
        facts += [
            PupilEnrolled(
                pupil_id=_pupil(c, n),
                first_name=f"Pupil{n}",
                surname=f"Class{c}",
                class_id=_class(c),
                year_group_id="year-1",
            )
            for n in range(PUPILS_PER_CLASS)
        ]
    for fact in facts:
        log.add(f"roster-{SCHOOL}", fact, at)
    for c in range(CLASSES):
        for n in range(PUPILS_PER_CLASS):
            for which in range(PARENTS_PER_CHILD):
                linked = GuardianLinked(
                    pupil_id=_pupil(c, n),
                    parent_id=_parent(c, n, which),
                    invite_id=f"i-{c}-{n}-{which}",
                )
                log.add(f"guardians-{_pupil(c, n)}", linked, at)
    return log


@dataclass
class Sessions:
    parents: dict[str, str] = field(default_factory=dict)
    """parent id -> session"""
    teachers: list[str] = field(default_factory=list)
    """class number -> its teacher's session"""
    head: str = ""


async def _sessions(private_store: str) -> Sessions:
    accounts = await Accounts.open(private_store)
    sessions = Sessions()
    try:
        now = utc_now()
        for c in range(CLASSES):
            for n in range(PUPILS_PER_CLASS):
                for which in range(PARENTS_PER_CHILD):
                    parent = _parent(c, n, which)
                    account = await accounts.ensure(Kind.parent, parent, display_name=parent)
                    sessions.parents[parent] = await accounts.start_session(account, now)
            account = await accounts.ensure(Kind.staff, _teacher(c), display_name=_teacher(c))
            sessions.teachers.append(await accounts.start_session(account, now))
        account = await accounts.ensure(Kind.staff, HEAD, display_name="Ms Head")
        sessions.head = await accounts.start_session(account, now)
        return sessions
    finally:
        await accounts.close()


def _embedded(here: Path, profile: Path | None) -> contextlib.AbstractContextManager[str]:
    """``python -m schoolgate_embedded`` on loopback over the log just written, under
    cProfile into ``profile`` when given (it writes when the server stops); its URL."""
    env = {
        **os.environ,
        "SCHOOLGATE_DATA_DIR": str(here),
        "SCHOOLGATE_ENVIRONMENT": "test",
        "SCHOOLGATE_LOG_LEVEL": "WARNING",
    }
    args = ["schoolgate_embedded"]
    if profile is not None:
        args = ["bench.profiled", str(profile), *args]
    return serving("embedded", args, env, here)


def _profile(path: Path) -> str:
    """The server's profile over the whole run, its heaviest functions first."""
    if not path.exists():
        return "(the server wrote no profile)"
    out = io.StringIO()
    stats = pstats.Stats(str(path), stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    return out.getvalue()


async def _conversations(base: str, sessions: Sessions) -> dict[str, str]:
    """Each child's first parent starts a conversation with the class: parent -> its id.
    The first waits until the services know the school (they catch up as they start)."""
    started: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=base, timeout=WAIT) as client:
        for c in range(CLASSES):
            for n in range(PUPILS_PER_CLASS):
                parent = _parent(c, n, 0)
                headers = {"cookie": f"{COOKIE}={sessions.parents[parent]}"}
                body = {"pupil_id": _pupil(c, n), "to": "class", "text": "Hello from home"}
                for _ in range(600):
                    answer = await client.post(
                        f"{MESSAGES}/conversations", json=body, headers=headers
                    )
                    if answer.status_code == 201:
                        break
                    await asyncio.sleep(0.1)  # the school is not projected yet
                else:
                    raise RuntimeError(f"a conversation was refused: {answer.text}")
                started[parent] = answer.json()["conversation_id"]
    return started


# -- server-sent events, read with aiohttp -----------------------------------------------------


def _client(limit: int) -> aiohttp.ClientSession:
    """aiohttp, not httpx, for the load: at these rates httpx's pool needed most of a core
    (see bench/freshness.py)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=limit),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=WAIT),
    )


async def _follow(
    client: aiohttp.ClientSession,
    base: str,
    session: str,
    ready: asyncio.Event | None,
    heard: Heard | None,
) -> int:
    """One open inbox page's live stream, until cancelled; the news it carried."""
    count = 0
    url = f"{base}/api/live/messages"
    headers = {"cookie": f"{COOKIE}={session}", "accept": "text/event-stream"}
    async with client.get(url, params={"school": SCHOOL}, headers=headers) as response:
        response.raise_for_status()
        name = ""
        try:
            async for raw in response.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    if name == "ready" and ready is not None:
                        ready.set()
                    elif name == "messages":
                        count += 1
                        if heard is not None:
                            heard.arrived(json.loads(line.removeprefix("data: ")))
        except asyncio.CancelledError:
            pass
    return count


async def _crowd(base: str, sessions: list[str], up: Signal, stop: Signal) -> tuple[int, int]:
    """In a process of its own: open a stream for each session, set ``up``, read them until
    ``stop`` (at most ten minutes); how many opened, and the news they carried."""
    readies = [asyncio.Event() for _ in sessions]
    async with _client(len(sessions) + 8) as client:
        tasks = [
            asyncio.create_task(_follow(client, base, s, r, None))
            for s, r in zip(sessions, readies, strict=True)
        ]
        async with asyncio.timeout(120):
            await asyncio.gather(*(r.wait() for r in readies))
        up.set()
        await asyncio.to_thread(stop.wait, 600)
        for task in tasks:
            task.cancel()
        counts = await asyncio.gather(*tasks, return_exceptions=True)
    return sum(1 for r in readies if r.is_set()), sum(c for c in counts if isinstance(c, int))


# -- (a) sent -> shown, in the load process ---------------------------------------------------


class Heard:
    """What the measured teachers' streams carried: when each conversation's news came;
    and the texts sent into each conversation, in order."""

    def __init__(self) -> None:
        self.texts: dict[str, list[str]] = {}
        self._seen: dict[tuple[str, int], float] = {}
        self._waiting: dict[tuple[str, int], asyncio.Future[float]] = {}

    def arrived(self, data: dict[str, object]) -> None:
        key = (str(data["conversation_id"]), int(str(data["position"])))
        now = time.monotonic()
        waiting = self._waiting.pop(key, None)
        if waiting is not None and not waiting.done():
            waiting.set_result(now)
        else:
            self._seen[key] = now

    async def wait(self, conversation_id: str, position: int) -> float:
        key = (conversation_id, position)
        if key in self._seen:
            return self._seen.pop(key)
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[key] = future
        async with asyncio.timeout(WAIT):
            return await future


@dataclass(frozen=True)
class Shown:
    due: float
    sent: float
    answered: float
    status: int
    streamed: float = float("nan")
    shown: float = float("nan")
    fresh: bool = False
    """The inbox answered with the conversation, previewing this message (or a later one in
    the same conversation)."""


async def _one(
    client: aiohttp.ClientSession,
    base: str,
    heard: Heard,
    due: float,
    parent: str,
    conversation_id: str,
    teacher: str,
) -> Shown:
    text = f"Could you check the reading folder? {uuid.uuid4().hex[:8]}"
    texts = heard.texts.setdefault(conversation_id, [])
    texts.append(text)
    sent = time.monotonic()
    try:
        async with client.post(
            f"{base}{MESSAGES}/conversations/{conversation_id}/messages",
            json={"text": text},
            headers={"cookie": f"{COOKIE}={parent}"},
        ) as answer:
            await answer.read()
            status = answer.status
            position = int(answer.headers.get(POSITION, "0"))
    except aiohttp.ClientError:
        status, position = 0, 0
    answered = time.monotonic()
    if status != 201:
        return Shown(due, sent, answered, status)
    try:
        streamed = await heard.wait(conversation_id, position)
    except TimeoutError:
        return Shown(due, sent, answered, -1)
    async with client.get(
        f"{base}{MESSAGES}/conversations",
        params={"after": str(position)},
        headers={"cookie": f"{COOKIE}={teacher}"},
    ) as page:
        inbox = await page.json() if page.status == 200 else {"conversations": []}
    shown = time.monotonic()
    # this message, or one sent into the same conversation after it, as its preview
    later = texts[texts.index(text) :]
    fresh = any(
        c["conversation_id"] == conversation_id and c["preview"] in later
        for c in inbox["conversations"]
    )
    return Shown(due, sent, answered, status, streamed, shown, fresh)


async def _measure(
    base: str,
    teachers: list[str],
    writers: list[tuple[int, str, str]],
    rate: float,
    seconds: float,
    seed: int,
) -> list[Shown]:
    """Open loop: one message every 1/rate s from a parent of each class in turn, whatever
    the answers; each class's teacher has her inbox open."""
    rng = random.Random(seed)
    by_class: dict[int, list[tuple[str, str]]] = {}
    for class_no, parent, conversation_id in writers:
        by_class.setdefault(class_no, []).append((parent, conversation_id))
    for found in by_class.values():
        rng.shuffle(found)
    turns = itertools.cycle(sorted(by_class))
    writing = {c: itertools.cycle(found) for c, found in by_class.items()}
    heard = Heard()
    readies = [asyncio.Event() for _ in teachers]
    async with _client(CLIENTS * 8) as client:
        streams = [
            asyncio.create_task(_follow(client, base, t, r, heard))
            for t, r in zip(teachers, readies, strict=True)
        ]
        async with asyncio.timeout(WAIT):
            await asyncio.gather(*(r.wait() for r in readies))
        count = max(2, round(rate * seconds))
        start = time.monotonic() + 0.05
        tasks: list[asyncio.Task[Shown]] = []
        for i in range(count):
            due = start + i / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            class_no = next(turns)
            parent, conversation_id = next(writing[class_no])
            tasks.append(
                asyncio.create_task(
                    _one(client, base, heard, due, parent, conversation_id, teachers[class_no])
                )
            )
        shown = list(await asyncio.gather(*tasks))
        for stream in streams:
            stream.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
    return shown


# -- (b) inbox pages beside a trivial call, in the load process --------------------------------


async def _pages(base: str, session: str, kind: str, clients: int, seconds: float) -> Load:
    result = Load()
    path = f"{MESSAGES}/conversations" if kind == "inbox" else "/api/me"
    async with _client(clients * 2) as client:
        headers = {"cookie": f"{COOKIE}={session}"}
        deadline = time.monotonic() + seconds

        async def one_client() -> None:
            while time.monotonic() < deadline:
                sent = time.monotonic()
                async with client.get(f"{base}{path}", headers=headers) as answer:
                    body = await answer.read()
                    ok = answer.status == 200
                result.latencies.append(time.monotonic() - sent)
                result.answered += ok
                result.failed += not ok
                if ok and kind == "inbox":
                    result.items += len(json.loads(body)["conversations"])

        started = time.monotonic()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        result.seconds = time.monotonic() - started
    return result


# -- the run ------------------------------------------------------------------------------------


def _crowd_sessions(sessions: Sessions) -> list[str]:
    """The streams open besides the measured ones: parents' (each parent one or two tabs)
    and staff's (each class teacher's other tabs)."""
    parents = itertools.cycle(sorted(sessions.parents.values()))
    staff = itertools.cycle(sessions.teachers)
    return [next(parents) for _ in range(PARENT_STREAMS)] + [
        next(staff) for _ in range(STAFF_STREAMS - CLASSES)
    ]


def _latency(found: list[Shown], what: str) -> list[float]:
    done = [s for s in found if s.status == 201]
    return [(s.shown if what == "shown" else s.streamed) - s.due for s in done]


async def run(workdir: Path, *, quick: bool, profile: bool = False) -> list[Result]:
    heavy_seconds = 5.0 if quick else 20.0
    light_seconds = 3.0 if quick else 10.0
    page_seconds = 3.0 if quick else 10.0
    here = workdir / NAME
    shutil.rmtree(here, ignore_errors=True)
    here.mkdir(parents=True)
    _write(here / "events.db", _roster())
    sessions = await _sessions(GatewaySettings(data_dir=here).private_store_location())

    profiled = here / "server.prof" if profile else None
    with _embedded(here, profiled) as base:
        conversations = await _conversations(base, sessions)
        writers = [
            (c, sessions.parents[_parent(c, n, 0)], conversations[_parent(c, n, 0)])
            for c in range(CLASSES)
            for n in range(PUPILS_PER_CLASS)
        ]
        spawn = multiprocessing.get_context("spawn")
        up, stop = spawn.Event(), spawn.Event()
        crowd = LoadProcess(_crowd, base, _crowd_sessions(sessions), up, stop)
        warm = LoadProcess(_measure, base, sessions.teachers, writers, 20.0, 1.0, 1)
        light = LoadProcess(
            _measure, base, sessions.teachers, writers, LIGHT_RATE, light_seconds, 2
        )
        mids = [
            LoadProcess(_measure, base, sessions.teachers, writers, rate, light_seconds, seed)
            for seed, rate in enumerate(MID_RATES, start=4)
        ]
        heavy = LoadProcess(_measure, base, sessions.teachers, writers, RATE, heavy_seconds, 3)
        inbox_load = LoadProcess(_pages, base, sessions.head, "inbox", CLIENTS, page_seconds)
        me_load = LoadProcess(_pages, base, sessions.head, "me", CLIENTS, page_seconds)
        try:
            crowd.go()
            if not await asyncio.to_thread(up.wait, 180):
                raise TimeoutError(f"{STREAMS - CLASSES} streams did not open")
            await warm.run()  # imports, caches, connections
            idle = await light.run()
            middling = [await mid.run() for mid in mids]
            loaded = await heavy.run()
            inbox = await inbox_load.run()
            me = await me_load.run()
            stop.set()
            opened, carried = await crowd.result()
        finally:
            stop.set()
            for process in (crowd, warm, light, *mids, heavy, inbox_load, me_load):
                process.stop()

    sent = [s for s in loaded if s.status == 201]
    span = loaded[-1].sent - loaded[0].sent
    details: dict[str, Detail] = {
        "streams_open": opened + CLASSES,
        "parent_streams": PARENT_STREAMS,
        "staff_streams": STAFF_STREAMS,
        "classes": CLASSES,
        "rate_messages_per_s": RATE,
        "seconds": heavy_seconds,
        "messages": len(loaded),
        "achieved_rate_messages_per_s": (len(loaded) - 1) / span if span > 0 else float("nan"),
        "failed_sends": sum(1 for s in loaded if s.status not in (201, -1)),
        "never_streamed": sum(1 for s in loaded if s.status == -1),
        "inbox_without_the_message": sum(1 for s in sent if not s.fresh),
        "send_http_p50_ms": ms([s.answered - s.due for s in sent], 50),
        "send_http_p99_ms": ms([s.answered - s.due for s in sent], 99),
        "send_lag_p99_ms": ms([s.sent - s.due for s in loaded], 99),
        "sent_to_streamed_p50_ms": ms(_latency(loaded, "streamed"), 50),
        "sent_to_streamed_p99_ms": ms(_latency(loaded, "streamed"), 99),
        "light_sent_to_streamed_p50_ms": ms(_latency(idle, "streamed"), 50),
        "light_sent_to_streamed_p99_ms": ms(_latency(idle, "streamed"), 99),
        "light_rate_messages_per_s": LIGHT_RATE,
        "light_messages": len(idle),
        "light_failed": sum(1 for s in idle if s.status != 201 or not s.fresh),
        "news_carried_by_the_other_streams": carried,
    }
    page_details: dict[str, Detail] = {
        "clients": CLIENTS,
        "seconds_per_phase": page_seconds,
        "conversations_in_the_inbox": len(conversations),
        "conversations_per_page": inbox.items / inbox.answered if inbox.answered else 0.0,
        "inbox_answered_200": inbox.answered,
        "inbox_failed": inbox.failed,
        "inbox_p50_ms": ms(inbox.latencies, 50),
        "inbox_p99_ms": ms(inbox.latencies, 99),
        "me_answered_200": me.answered,
        "me_failed": me.failed,
        "me_p50_ms": ms(me.latencies, 50),
        "me_p99_ms": ms(me.latencies, 99),
    }
    for rate, found in zip(MID_RATES, middling, strict=True):
        details |= {
            f"at_{rate:g}_per_s_sent_to_shown_p50_ms": ms(_latency(found, "shown"), 50),
            f"at_{rate:g}_per_s_sent_to_shown_p99_ms": ms(_latency(found, "shown"), 99),
            f"at_{rate:g}_per_s_sent_to_streamed_p99_ms": ms(_latency(found, "streamed"), 99),
            f"at_{rate:g}_per_s_failed": sum(1 for s in found if s.status != 201 or not s.fresh),
        }
    if profiled is not None:
        details["profile"] = _profile(profiled)
    label = f"same, at {LIGHT_RATE:g} messages/s, same streams open"
    p99 = ms(_latency(loaded, "shown"), 99)
    ratio = inbox.rate / me.rate if me.rate else float("nan")
    return [
        Result(
            name=f"{NAME} sent to shown p99",
            unit="ms",
            figure=p99,
            baseline=ms(_latency(idle, "shown"), 99),
            baseline_label=label,
            target=f"< 100 ms at {RATE:g}/s, {STREAMS:,} streams",
            met=p99 < 100 and len(sent) == len(loaded) and all(s.fresh for s in sent),
            higher_is_better=False,
            details=details,
        ),
        Result(
            name=f"{NAME} sent to shown p50",
            unit="ms",
            figure=ms(_latency(loaded, "shown"), 50),
            baseline=ms(_latency(idle, "shown"), 50),
            baseline_label=label,
            target="(p99 is the target)",
            met=None,
            higher_is_better=False,
        ),
        Result(
            name=f"{NAME} inbox pages",
            unit="pages/s",
            figure=inbox.rate,
            baseline=me.rate,
            baseline_label=f"GET /api/me/s, same {CLIENTS} clients, same run",
            target=">= 0.7x GET /api/me",
            met=ratio >= 0.7 and inbox.failed == 0,
            details=page_details,
        ),
    ]
