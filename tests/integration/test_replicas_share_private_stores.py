"""Two gateways and two consent services, each its own process, behind round-robin proxies:
what one replica knows of sessions, limits and invite codes, the other knows too.

Every process shares the data directory's event store, read models and private store
(``private.db``). The proxies hand each new connection to the next replica in turn, and the
test's clients open a new connection for every request, so consecutive requests alternate.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.identity import Role
from schoolgate_kit.testing.roster import school_facts, seed_school
from schoolgate_kit.testing.waiting import until_projected

from ..conftest import (  # type: ignore[import-not-found]
    MASTER_KEY,
    SECRET,
    Process,
    free_port,
    token,
    wait_for_http,
)

SCHOOL = "school-1"
LEADER = {"authorization": f"Bearer {token(Role.leader, classes=frozenset())}"}
WRONG_TRIES = 4


class RoundRobin:
    """A loopback TCP proxy: each connection goes to the next backend in turn."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.served: Counter[int] = Counter()
        self._turn = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._connect, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}"

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = self.ports[self._turn % len(self.ports)]
        self._turn += 1
        self.served[port] += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        # development: the session cookie is not "secure", so it travels over plain HTTP
        "SCHOOLGATE_ENVIRONMENT": "development",
        "SCHOOLGATE_IDENTITY_SECRET": SECRET,
        "SCHOOLGATE_MASTER_KEY": MASTER_KEY,
        "SCHOOLGATE_DATA_DIR": str(tmp_path),
        "SCHOOLGATE_BUS_URL": "memory://",
        "SCHOOLGATE_PRIVATE_STORE_URL": f"sqlite:///{tmp_path / 'private.db'}",
        "SCHOOLGATE_SIGN_IN_ATTEMPTS_PER_DEVICE": str(WRONG_TRIES),
    }


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    yield started
    for proc in started:
        proc.stop()


class Replicas:
    def __init__(
        self, gateways: list[str], consents: list[str], front: RoundRobin, back: RoundRobin
    ) -> None:
        self.gateways = gateways
        self.consents = consents
        self.front = front
        self.back = back


@pytest.fixture
async def replicas(
    tmp_path: Path, env: dict[str, str], processes: list[Process]
) -> AsyncIterator[Replicas]:
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=lambda: datetime.now(UTC))
    try:
        await seed_school(store, SCHOOL, school_facts(SCHOOL, {"class-1": ["p1", "p2"]}))
        seeded = await store.head()
    finally:
        await store.close()

    def start(name: str, *args: str, **extra: str) -> Process:
        proc = Process(name, list(args), {**env, **extra}, tmp_path).start()
        processes.append(proc)
        return proc

    consent_ports = [free_port(), free_port()]
    back = RoundRobin(consent_ports)
    consent_url = await back.start()
    gateway_ports = [free_port(), free_port()]
    front = RoundRobin(gateway_ports)
    await front.start()
    start("consent-worker", "schoolgate_consent", "work")
    start("gateway-worker", "schoolgate_gateway", "work")
    for n, port in enumerate(consent_ports):
        start(f"consent-{n}", "schoolgate_consent", "serve", "--port", str(port))
    for n, port in enumerate(gateway_ports):
        start(
            f"gateway-{n}",
            "schoolgate_gateway",
            "serve",
            "--port",
            str(port),
            SCHOOLGATE_CONSENT_URL=consent_url,
        )
    urls = [f"http://127.0.0.1:{p}" for p in gateway_ports]
    consents = [f"http://127.0.0.1:{p}" for p in consent_ports]
    for url, proc in zip(consents + urls, processes[2:], strict=True):
        # blocking, but nothing runs through the proxies yet; six processes start at once
        # on a machine that may be busy: wait for readiness, however long it takes to come
        wait_for_http(f"{url}/readyz", proc, within=180)
    # both consent replicas read one read-model file: once caught up, each knows the pupils
    await until_projected(consent_url, seeded)
    try:
        yield Replicas(urls, consents, front, back)
    finally:
        await front.stop()
        await back.stop()


def fresh_connections(base: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)
    )


async def a_parent(base: str) -> tuple[httpx.AsyncClient, dict[str, str]]:
    who = {"email": f"{uuid.uuid4().hex[:8]}@family.example", "password": "a-long-password"}
    client = fresh_connections(base)
    made = await client.post("/api/join/account", json={**who, "display_name": "A parent"})
    assert made.status_code == 202, made.text
    signed = await client.post("/api/session", json=who)
    assert signed.status_code == 200, signed.text
    return client, who


async def an_invite(consent: str, pupil: str) -> str:
    async with httpx.AsyncClient(base_url=consent, timeout=30, headers=LEADER) as leader:
        answer = await leader.post(f"/schools/{SCHOOL}/pupils/{pupil}/invites", json={})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["code"])


def guardians_linked(data_dir: Path, pupil: str) -> int:
    conn = sqlite3.connect(data_dir / "events.db")
    try:
        row = conn.execute(
            "SELECT count(*) FROM events WHERE stream = ? AND type = 'GuardianLinked'",
            (f"guardianship-{pupil}",),
        ).fetchone()
        return int(row[0])
    finally:
        conn.close()


async def test_a_session_made_on_one_gateway_works_on_the_other(replicas: Replicas) -> None:
    one, other = replicas.gateways
    _, who = await a_parent(replicas.gateways[0])
    async with httpx.AsyncClient(base_url=one) as first:
        assert (await first.post("/api/session", json=who)).status_code == 200
        cookies = first.cookies
    async with httpx.AsyncClient(base_url=other, cookies=cookies) as second:
        assert (await second.get("/api/me")).status_code == 200
        assert (await second.delete("/api/session")).status_code == 204
    async with httpx.AsyncClient(base_url=one, cookies=cookies) as first_again:
        assert (await first_again.get("/api/me")).status_code == 401  # signed out on both


async def test_a_limit_counts_once_across_gateways(replicas: Replicas) -> None:
    _, who = await a_parent(replicas.gateways[0])
    wrong = {**who, "password": "a-wrong-guess"}
    answers = []
    for n in range(WRONG_TRIES):
        async with httpx.AsyncClient(base_url=replicas.gateways[n % 2]) as guesser:
            answers.append((await guesser.post("/api/session", json=wrong)).status_code)
    assert answers == [401] * WRONG_TRIES
    for gateway in replicas.gateways:
        async with httpx.AsyncClient(base_url=gateway) as guesser:
            refused = await guesser.post("/api/session", json=wrong)
            assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


async def test_concurrent_redemptions_across_replicas_link_exactly_two_guardians(
    replicas: Replicas, tmp_path: Path
) -> None:
    base = f"http://127.0.0.1:{replicas.front.port}"
    parents = [(await a_parent(base))[0] for _ in range(10)]
    try:
        # one code, ten families at once: it links one of them, on whichever replica
        code = await an_invite(replicas.consents[0], "p1")
        answers = await asyncio.gather(
            *(p.post("/api/join/redeem", json={"code": code}) for p in parents)
        )
        assert sorted(a.status_code for a in answers) == [200] + [422] * 9, [
            a.text for a in answers
        ]
        assert guardians_linked(tmp_path, "p1") == 1
        # ten codes for one pupil, redeemed at once: two guardians, the others wait
        codes = [await an_invite(replicas.consents[n % 2], "p2") for n in range(10)]
        answers = await asyncio.gather(
            *(
                p.post("/api/join/redeem", json={"code": c})
                for p, c in zip(parents, codes, strict=True)
            )
        )
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
        statuses = Counter(a.json()["status"] for a in answers)
        assert statuses == {"linked": 2, "pending": 8}
        assert guardians_linked(tmp_path, "p2") == 2
    finally:
        for parent in parents:
            await parent.aclose()
    # the requests really were spread over both gateways and both consent services
    assert all(replicas.front.served[p] > 5 for p in replicas.front.ports)
    assert all(replicas.back.served[p] > 0 for p in replicas.back.ports), replicas.back.served
