"""Fixtures for the roster tests: the sample OneRoster files, and the service as real
processes (its HTTP API and its projection worker) over real SQLite files."""

from __future__ import annotations

import io
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from schoolgate_kit import identity
from schoolgate_kit.keys import random_token
from schoolgate_kit.testing.waiting import Written, until_projected_sync

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "roster-test-identity-secret-" + "y" * 24

Files = dict[str, str]
Edit = Callable[[Files], None]


def sample_files() -> Files:
    """The sample OneRoster 1.2 export of Oakfield Primary School, file name to text."""
    return {p.name: p.read_text() for p in sorted((FIXTURES / "oneroster").glob("*.csv"))}


def zip_files(files: Files) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture
def oneroster() -> Callable[..., bytes]:
    """The sample zip, after any edits to its files."""

    def build(*edits: Edit) -> bytes:
        files = sample_files()
        for edit in edits:
            edit(files)
        return zip_files(files)

    return build


def token(
    role: identity.Role,
    *,
    school: str,
    subject: str = "someone",
    classes: frozenset[str] = frozenset(),
    pupils: frozenset[str] = frozenset(),
) -> str:
    return identity.sign(
        identity.Identity(
            subject=subject, role=role, school_id=school, class_ids=classes, pupil_ids=pupils
        ),
        secret=SECRET,
        now=datetime.now(UTC),
        ttl=timedelta(minutes=30),
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RosterService:
    """``python -m schoolgate_roster serve`` and ``... work`` sharing one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "SCHOOLGATE_ENVIRONMENT": "test",
            "SCHOOLGATE_IDENTITY_SECRET": SECRET,
            "SCHOOLGATE_MASTER_KEY": random_token(),
            "SCHOOLGATE_DATA_DIR": str(data_dir),
            "SCHOOLGATE_BUS_URL": "memory://",
            "SCHOOLGATE_LOG_LEVEL": "WARNING",
        }
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.http = httpx.Client(base_url=self.base, timeout=10)

    def _start(self, name: str, *args: str) -> None:
        with (self.data_dir / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "schoolgate_roster", *args],
                env=self.env,
                stdout=log,
                stderr=log,
            )

    def start(self, *, worker: bool = True) -> RosterService:
        self._start("api", "serve", "--port", str(self.port))
        deadline = time.monotonic() + 30
        while not self._ready():
            if time.monotonic() > deadline:
                raise AssertionError(f"the roster API did not start:\n{self.log('api')}")
            time.sleep(0.05)
        if worker:
            # after the API has created the SQLite files: two processes creating one file
            # at once can find it locked while it is switched to WAL
            self._start("worker", "work")
        return self

    def _ready(self) -> bool:
        self.assert_alive()
        try:
            return self.http.get("/readyz").status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        self.processes.clear()

    def close(self) -> None:
        self.stop()
        self.http.close()

    def log(self, name: str) -> str:
        path = self.data_dir / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def assert_alive(self) -> None:
        for name, proc in self.processes.items():
            assert proc.poll() is None, f"{name} exited:\n{self.log(name)}"

    def call(self, method: str, path: str, who: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if who is not None:
            headers["authorization"] = f"Bearer {who}"
        return self.http.request(method, path, headers=headers, **kwargs)

    def events(self, school_id: str) -> int:
        """How many events the school's roster stream holds."""
        conn = sqlite3.connect(self.data_dir / "events.db")
        try:
            row = conn.execute(
                "SELECT count(*) FROM events WHERE stream = ?", (f"roster-{school_id}",)
            ).fetchone()
            return int(row[0])
        except sqlite3.OperationalError:
            return 0  # no table before the first append
        finally:
            conn.close()

    def head(self) -> int:
        """The global position of the newest event in the store (0 before the first)."""
        conn = sqlite3.connect(self.data_dir / "events.db")
        try:
            row = conn.execute("SELECT max(position) FROM events").fetchone()
            return int(row[0] or 0)
        except sqlite3.OperationalError:
            return 0  # no table before the first append
        finally:
            conn.close()

    def projected(self, written: Written | None = None) -> None:
        """Wait until the worker has projected what ``written`` (a write's answer or a
        position) appended; without it, everything the store holds now, such as what an
        import job appended."""
        until_projected_sync(self.http, self.head() if written is None else written)

    def wait_import(
        self, school_id: str, location: str, who: str, within: float = 60
    ) -> dict[str, Any]:
        """Poll an import job until it is previewed (waiting to be applied), done or failed;
        its last answer."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            answer = self.call("GET", location, who)
            assert answer.status_code == 200, answer.text
            job: dict[str, Any] = answer.json()
            if job["status"] in {"previewed", "done", "failed", "expired"}:
                return job
            time.sleep(0.05)
        raise AssertionError(f"import {location} did not finish:\n{self.log('api')}")

    def build(
        self, school_id: str, who: str, steps: list[tuple[str, str, dict[str, Any]]]
    ) -> dict[str, str]:
        """Set a school up command by command, naming things by ids of the test's choosing
        (``"year_group_id": "y3"``): they are sent as source ids, references to them as the
        ids the roster made. Returns the roster's ids by the test's ids."""
        made: dict[str, str] = {}
        own = {
            "/year-groups": "year_group_id",
            "/classes": "class_id",
            "/pupils": "pupil_id",
            "/staff": "staff_id",
        }
        for method, path, body in steps:
            sent = dict(body)
            own_field = own.get(path) if method == "POST" else None
            if own_field is not None and own_field in sent:
                sent["source_id"] = sent.pop(own_field)
            if path == "/school-ways":
                way = sent.pop("school_way_id", None)
            for field in ("year_group_id", "class_id"):
                if field in sent and field != own_field:
                    sent[field] = made.get(sent[field], sent[field])
            if "class_ids" in sent:
                sent["class_ids"] = [made.get(c, c) for c in sent["class_ids"]]
            answer = self.call(method, f"/schools/{school_id}{path}", who, json=sent)
            assert answer.status_code in {200, 201}, answer.text
            if own_field is not None and "source_id" in sent:
                made[sent["source_id"]] = answer.json()[own_field]
            if path == "/school-ways" and way is not None:
                made[way] = answer.json()["school_way_id"]
        return made

    def ids(self, school_id: str, who: str) -> dict[str, str]:
        """The school's ids by the source ids its file gave (values by ``way:<name>``): the
        roster makes its own ids, so tests find what they filed this way."""
        found: dict[str, str] = {}
        for kind, key in (
            ("pupils?include_left=true", "pupil_id"),
            ("classes", "class_id"),
            ("year-groups", "year_group_id"),
            ("staff?include_left=true", "staff_id"),
        ):
            answer = self.call("GET", f"/schools/{school_id}/{kind}", who)
            assert answer.status_code == 200, answer.text
            found |= {d["source_id"]: d[key] for d in answer.json() if d.get("source_id")}
        ways = self.call("GET", f"/schools/{school_id}/school-ways", who).json()
        found |= {f"way:{w['name'].lower()}": w["school_way_id"] for w in ways}
        return found

    def until(self, check: Callable[[], bool], why: str, within: float = 20) -> None:
        deadline = time.monotonic() + within
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached within {within}s: {why}")
            time.sleep(0.05)


@pytest.fixture(scope="session")
def roster_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RosterService]:
    """One API and one worker for the roster suite; each test works in its own school."""
    service = RosterService(tmp_path_factory.mktemp("roster")).start()
    yield service
    service.close()


@pytest.fixture
def school_id() -> str:
    return f"school-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def leader(school_id: str) -> str:
    return token(identity.Role.leader, school=school_id, subject="head")


@pytest.fixture(scope="session")
def sign() -> Callable[..., str]:
    """``sign(role, school=..., subject=..., classes=..., pupils=...)``: an identity token."""
    return token


@pytest.fixture
def sample() -> Callable[[], Files]:
    return sample_files


@pytest.fixture
def new_roster_service() -> Callable[[Path], RosterService]:
    """A service of a test's own, on a data directory it may have prepared."""
    return RosterService


@pytest.fixture(scope="session")
def sample_zip() -> bytes:
    return zip_files(sample_files())
