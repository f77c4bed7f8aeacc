"""A service as real processes for its own tests: its API and its worker, over the SQLite
files in one data directory."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import httpx
from schoolgate_contracts import Event, Metadata, NewEvent

from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.identity import Identity, Role, sign
from schoolgate_kit.testing.roster import seed_school
from schoolgate_kit.testing.waiting import Written, until_projected


def bearer(
    role: Role,
    subject: str,
    school: str,
    *,
    secret: str,
    classes: Sequence[str] = (),
    pupils: Sequence[str] = (),
) -> dict[str, str]:
    """Headers carrying the identity a gateway would vouch for, signed with ``secret``."""
    identity = Identity(
        subject=subject,
        role=role,
        school_id=school,
        class_ids=frozenset(classes),
        pupil_ids=frozenset(pupils),
    )
    token = sign(identity, secret=secret, now=datetime.now(UTC), ttl=timedelta(minutes=30))
    return {"authorization": f"Bearer {token}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServiceProcesses:
    """``python -m <package> serve`` and ``work``; subclasses name the package."""

    package: ClassVar[str]
    name: ClassVar[str]

    data_dir: Path
    port: int
    env: dict[str, str]
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_db(self) -> Path:
        return self.data_dir / "events.db"

    def newest_position(self) -> int:
        """The global position of the newest event in the store (0 before the first)."""
        conn = sqlite3.connect(self.events_db)
        try:
            row = conn.execute("SELECT max(position) FROM events").fetchone()
            return int(row[0] or 0)
        except sqlite3.OperationalError:
            return 0  # no table before the first append
        finally:
            conn.close()

    async def append(self, stream: str, school_id: str, *events: Event) -> None:
        """Append facts of another service to the store, as that service would."""
        store = await SqliteEventStore.open(self.events_db, clock=lambda: datetime.now(UTC))
        try:
            metadata = Metadata(
                occurred_at=datetime.now(UTC),
                school_id=school_id,
                actor="seed",
                correlation_id="seed",
            )
            await store.append(
                stream,
                [NewEvent(event_id=uuid.uuid4(), event=e, metadata=metadata) for e in events],
                expected_version=None,
            )
        finally:
            await store.close()

    async def seed_roster(self, school_id: str, facts: Sequence[Event]) -> None:
        """A school's roster facts in its roster stream, as the roster service keeps them."""
        store = await SqliteEventStore.open(self.events_db, clock=lambda: datetime.now(UTC))
        try:
            await seed_school(store, school_id, facts)
        finally:
            await store.close()

    async def projected(self, written: Written | None = None) -> None:
        """Wait until the worker has projected what ``written`` (a write's answer, an
        append's result or a position) appended; without it, everything the store holds
        now, such as facts a test seeded in another service's streams."""
        await until_projected(self.url, self.newest_position() if written is None else written)

    def start(self) -> None:
        for role, args in (("api", ["serve", "--port", str(self.port)]), ("worker", ["work"])):
            with (self.data_dir / f"{self.name}-{role}.log").open("ab") as log:
                self.procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", self.package, *args],
                        env=self.env,
                        stdout=log,
                        stderr=log,
                    )
                )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            self.assert_alive()
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"{self.name} did not start:\n{self.logs()}")

    def assert_alive(self) -> None:
        for proc in self.procs:
            assert proc.poll() is None, f"a {self.name} process exited:\n{self.logs()}"

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in self.data_dir.glob(f"{self.name}-*.log")
        )

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
