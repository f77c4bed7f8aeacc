"""Harness for cross-service tests: real processes, real RabbitMQ, real SQLite files."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from schoolgate_kit.crypto import Keyring
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.identity import Identity, Role, sign
from schoolgate_kit.keys import random_token
from schoolgate_kit.keystores import SqliteKeyStore
from schoolgate_kit.testing.infrastructure import free_port_pair, rabbitmq_url
from schoolgate_kit.testing.roster import school_facts, seed_school
from schoolgate_kit.testing.waiting import until

__all__ = ["until"]  # the cross-service tests import it from here
ROOT = Path(__file__).resolve().parents[1]
SECRET = "test-identity-secret-" + "x" * 20
MASTER_KEY = random_token()
"""The master key of the cluster processes a test starts: made per run, never a constant."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Process:
    """One Schoolgate process: ``python -m MODULE ARGS`` with its own log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.args = args
        self.env = env
        self.log_path = logs / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Process:
        with self.log_path.open("ab") as log:  # the child keeps its own copy of the handle
            self.proc = subprocess.Popen(
                [sys.executable, "-m", *self.args],
                env=self.env,
                stdout=log,
                stderr=log,
                cwd=ROOT,
            )
        return self

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye, as a crashed machine would leave it."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def assert_alive(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, (
            f"{self.name} exited:\n{self.log()}"
        )


class Cluster:
    """Services as separate processes sharing SQLite files and one RabbitMQ vhost."""

    def __init__(self, tmp: Path, amqp_url: str) -> None:
        self.tmp = tmp
        self.processes: list[Process] = []
        self.env = {
            **os.environ,
            "SCHOOLGATE_ENVIRONMENT": "test",
            "SCHOOLGATE_IDENTITY_SECRET": SECRET,
            "SCHOOLGATE_MASTER_KEY": MASTER_KEY,
            "SCHOOLGATE_DATA_DIR": str(tmp),
            "SCHOOLGATE_BUS_URL": amqp_url,
            "SCHOOLGATE_CONSUMER_MAX_DELIVERIES": "3",
            "SCHOOLGATE_PUBLISH_TIMEOUT_SECONDS": "3",
            "SCHOOLGATE_LOG_LEVEL": "INFO",
        }
        self.points_port = free_port()

    def process(self, name: str, *args: str, **env: str) -> Process:
        proc = Process(name, list(args), {**self.env, **env}, self.tmp)
        self.processes.append(proc)
        return proc.start()

    def start_points_api(self) -> Process:
        """The points API and its worker, once the worker knows the seeded schools."""
        # tests call this from inside their event loop: seed from a thread with its own
        with ThreadPoolExecutor(1) as seeder:
            seeder.submit(asyncio.run, _seed(self.tmp, self.env["SCHOOLGATE_MASTER_KEY"])).result()
        worker = self.process("points-worker", "schoolgate_points", "work")
        proc = self.process(
            "points-api", "schoolgate_points", "serve", "--port", str(self.points_port)
        )
        wait_for_http(f"http://127.0.0.1:{self.points_port}/readyz", proc)
        deadline = time.monotonic() + 30
        while _pupils_known(self.tmp / "readmodels.db") < SEEDED_PUPILS:
            worker.assert_alive()
            assert time.monotonic() < deadline, (
                f"the points worker did not catch up:\n{worker.log()}"
            )
            time.sleep(0.05)
        return proc

    def stop(self) -> None:
        for proc in self.processes:
            proc.stop()


PUPILS = {"school-1": {"class-1": ["p1", "p3"], "class-2": ["p2"]}, "school-2": {"class-9": ["p9"]}}
"""The schools every cluster starts with: pupil p1 is in class-1, p2 in class-2."""
SEEDED_PUPILS = sum(len(p) for classes in PUPILS.values() for p in classes.values())


async def _seed(data_dir: Path, master_key: str) -> None:
    """The schools, written as the cluster's own processes write: personal data sealed."""
    keyring = Keyring(master_key, SqliteKeyStore(data_dir / "private.db"))
    store = await SqliteEventStore.open(
        data_dir / "events.db", clock=lambda: datetime.now(UTC), keyring=keyring
    )
    try:
        for school_id, classes in PUPILS.items():
            await seed_school(store, school_id, school_facts(school_id, classes))
    finally:
        await store.close()
        keyring.store.close()


def _pupils_known(readmodels_db: Path) -> int:
    conn = sqlite3.connect(readmodels_db)
    try:
        row = conn.execute(
            "SELECT count(*) FROM documents WHERE projection = 'points.pupils'"
        ).fetchone()
        return int(row[0]) if row else 0
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def wait_for_http(url: str, proc: Process, within: float = 120) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        proc.assert_alive()
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer:\n{proc.log()}")


def token(
    role: Role = Role.teacher,
    *,
    school: str = "school-1",
    subject: str = "staff-1",
    classes: frozenset[str] = frozenset({"class-1"}),
    pupils: frozenset[str] = frozenset(),
) -> str:
    return sign(
        Identity(subject=subject, role=role, school_id=school, class_ids=classes, pupil_ids=pupils),
        secret=SECRET,
        now=datetime.now(UTC),
        ttl=timedelta(hours=3),  # made when tests are collected; the suite may run long
    )


@pytest.fixture
def amqp_url() -> str:
    return rabbitmq_url()


@pytest.fixture
def vhost_url(amqp_url: str) -> Iterator[str]:
    """A fresh RabbitMQ vhost per test, so queues and dead letters never leak between tests."""
    vhost = f"t-{uuid.uuid4().hex[:8]}"
    node = os.environ.get("SCHOOLGATE_TEST_RABBITMQ_NODE", "")
    home = os.environ.get("SCHOOLGATE_TEST_RABBITMQ_HOME", "")
    if not node:
        yield amqp_url
        return
    ctl = ["/usr/lib/rabbitmq/bin/rabbitmqctl", "-n", node]
    env = {**os.environ, "HOME": home}
    subprocess.run([*ctl, "add_vhost", vhost], check=True, env=env, capture_output=True)
    subprocess.run(
        [*ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        check=True,
        env=env,
        capture_output=True,
    )
    yield amqp_url.rstrip("/") + "/" + vhost
    subprocess.run([*ctl, "delete_vhost", vhost], env=env, capture_output=True)


@pytest.fixture
def cluster(tmp_path: Path, vhost_url: str) -> Iterator[Cluster]:
    running = Cluster(tmp_path, vhost_url)
    yield running
    running.stop()


class PrivateBroker:
    """A RabbitMQ node of the test's own, which the test may stop and start again."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.port = free_port_pair(57100)
        self.url = ""

    def start(self) -> str:
        out = subprocess.run(
            [str(ROOT / "scripts/rabbitmq.sh"), "start", str(self.state), str(self.port)],
            check=True,
            capture_output=True,
            text=True,
        )
        self.url = out.stdout.strip().splitlines()[-1]
        return self.url

    def stop(self) -> None:
        subprocess.run(
            [str(ROOT / "scripts/rabbitmq.sh"), "stop", str(self.state)], capture_output=True
        )


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[PrivateBroker]:
    rabbitmq_url()  # the same requirement as every RabbitMQ test
    broker = PrivateBroker(tmp_path / "rabbitmq")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
async def points_client(cluster: Cluster) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


_DEMO_SEEDED: list[Path] = []
"""This test process's demo data directory as its first start left it (see ``start_demo``)."""


def start_demo(tmp: Path, *, env: dict[str, str] | None = None) -> tuple[str, Process]:
    """Schoolgate as `make demo` starts it, on a data directory of the test's own (``tmp``,
    empty), seeded as a first start seeds it: a copy of one seeded directory per test
    process. Seeding through the APIs took half of each demo's start; tests of the first
    start itself (its secrets, its printed accounts) call ``start_embedded``."""
    if not _DEMO_SEEDED:
        seeded = tmp.with_name(f"{tmp.name}-seeded")
        seeded.mkdir(mode=0o700)
        _, first = start_embedded(seeded)
        first.stop()
        assert "Demo accounts" in first.log_path.read_text(errors="replace")
        _DEMO_SEEDED.append(seeded)
    shutil.copytree(
        _DEMO_SEEDED[0], tmp, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.log")
    )
    return start_embedded(tmp, env=env)


def start_embedded(
    tmp: Path, *, demo: bool = True, env: dict[str, str] | None = None
) -> tuple[str, Process]:
    """Schoolgate as `make demo` (or, not ``demo``, `make run`) starts it, on data directory
    ``tmp``: its URL, once ready. ``env``: more SCHOOLGATE_* settings (a mail server; a
    public address of ``"this server"`` for links in emails that lead back to it)."""
    port = free_port()
    if env and env.get("SCHOOLGATE_PUBLIC_BASE_URL") == "this server":
        env = {**env, "SCHOOLGATE_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    proc = Process(
        "embedded",
        ["schoolgate_embedded"],
        {
            **os.environ,
            "SCHOOLGATE_DATA_DIR": str(tmp),
            "SCHOOLGATE_PORT": str(port),
            "SCHOOLGATE_ENVIRONMENT": "development",
            "SCHOOLGATE_DEMO": "1" if demo else "0",
            **(env or {}),
        },
        tmp,
    ).start()
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{base}/readyz", proc)
    except BaseException:
        proc.stop()  # never leave a server the test gave up on running behind the suite
        raise
    return base, proc


DEMO_LEADER = {"email": "leader@demo.school", "password": "demo-leader-pass"}


def demo_ids(base: str) -> dict[str, str]:
    """The demo school's ids by the ids its seed filed them under ("ada", "oak", "staff-oak")
    and its values by name ("kindness"): Schoolgate makes its own ids for everything."""
    with httpx.Client(base_url=base, timeout=20) as leader:
        assert leader.post("/api/session", json=DEMO_LEADER).status_code == 200
        roster = "/api/roster/schools/demo-school"
        found: dict[str, str] = {}
        for kind, key in (
            ("pupils?include_left=true", "pupil_id"),
            ("classes", "class_id"),
            ("year-groups", "year_group_id"),
            ("staff?include_left=true", "staff_id"),
        ):
            answer = leader.get(f"{roster}/{kind}")
            assert answer.status_code == 200, answer.text
            found |= {d["source_id"]: d[key] for d in answer.json() if d.get("source_id")}
        ways = leader.get(f"{roster}/school-ways").json()
        found |= {w["name"].lower(): w["school_way_id"] for w in ways}
    return found


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Schoolgate as `make run` starts it (a fresh data directory), at the returned URL."""
    base, proc = start_demo(tmp_path_factory.mktemp("embedded"))
    yield base
    proc.stop()


@pytest.fixture(scope="module")
def ids(embedded: str) -> dict[str, str]:
    """The demo school's ids by the names its seed gave (``ids["ada"]``)."""
    return demo_ids(embedded)
