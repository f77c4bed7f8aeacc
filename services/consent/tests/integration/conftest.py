"""The consent service as real processes: its API and its projection worker, over SQLite files.

Roster facts are seeded the way the roster service would leave them: events appended to the
same event store file, in the school's roster stream.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from schoolgate_contracts import Event, Metadata, NewEvent
from schoolgate_contracts.roster import PupilEnrolled
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.identity import Identity, Role, sign
from schoolgate_kit.keys import random_token
from schoolgate_kit.testing.processes import ServiceProcesses, free_port

SECRET = "consent-test-identity-secret-" + "y" * 24
HERE = Path(__file__).resolve()


def token(
    role: Role,
    subject: str,
    school: str = "school-1",
    secret: str = SECRET,
    *,
    classes: tuple[str, ...] = (),
    also_staff: bool = False,
) -> str:
    identity = Identity(
        subject=subject,
        role=role,
        school_id=school,
        class_ids=frozenset(classes),
        also_staff=also_staff,
    )
    return sign(identity, secret=secret, now=datetime.now(UTC), ttl=timedelta(hours=3))


def auth(
    role: Role,
    subject: str,
    school: str = "school-1",
    *,
    classes: tuple[str, ...] = (),
    also_staff: bool = False,
) -> dict[str, str]:
    bearer = token(role, subject, school, classes=classes, also_staff=also_staff)
    return {"authorization": f"Bearer {bearer}"}


class ConsentService(ServiceProcesses):
    package = "schoolgate_consent"
    name = "consent"

    def seed(self, school_id: str, *events: Event) -> None:
        """Append roster facts as the roster service would (from outside any event loop)."""
        asyncio.run(_append(self.events_db, f"roster-{school_id}", school_id, events))

    async def seed_async(self, school_id: str, *events: Event) -> None:
        await _append(self.events_db, f"roster-{school_id}", school_id, events)

    def log_bytes(self) -> bytes:
        """Everything the event store file holds on disk, write-ahead log included."""
        return b"".join(p.read_bytes() for p in self.data_dir.glob("events.db*") if p.is_file())


async def _append(db: Path, stream: str, school_id: str, events: tuple[Event, ...]) -> None:
    store = await SqliteEventStore.open(db, clock=lambda: datetime.now(UTC))
    try:
        metadata = Metadata(
            occurred_at=datetime.now(UTC),
            school_id=school_id,
            actor="roster-import",
            correlation_id="seed",
        )
        await store.append(
            stream,
            [NewEvent(event_id=uuid.uuid4(), event=e, metadata=metadata) for e in events],
            expected_version=None,
        )
    finally:
        await store.close()


def enrolled(pupil_id: str, first_name: str = "Ada", class_id: str = "class-1") -> PupilEnrolled:
    return PupilEnrolled(
        pupil_id=pupil_id,
        first_name=first_name,
        surname="Lovelace",
        year_group_id="y1",
        class_id=class_id,
    )


def start_service(data_dir: Path, **settings: str) -> ConsentService:
    env = {
        **os.environ,
        "SCHOOLGATE_ENVIRONMENT": "test",
        "SCHOOLGATE_IDENTITY_SECRET": SECRET,
        "SCHOOLGATE_MASTER_KEY": random_token(),
        "SCHOOLGATE_DATA_DIR": str(data_dir),
        "SCHOOLGATE_BUS_URL": "memory://",
        "SCHOOLGATE_LOG_LEVEL": "WARNING",
        "SCHOOLGATE_PUBLIC_BASE_URL": "https://schoolgate.test",
        **{f"SCHOOLGATE_{k.upper()}": v for k, v in settings.items()},
    }
    service = ConsentService(data_dir=data_dir, port=free_port(), env=env)
    service.start()
    return service


@pytest.fixture(scope="session")
def consent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsentService]:
    """One consent service for the suite; tests keep apart by using their own pupils."""
    service = start_service(tmp_path_factory.mktemp("consent"), redeem_attempts_per_address="1000")
    yield service
    service.stop()


@pytest.fixture
async def client(consent: ConsentService) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=consent.url, timeout=20) as http:
        yield http


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def holds(check: Callable[[], Any]) -> bool:
    """A plain or async predicate's answer, for asserting once what a wait has settled."""
    result = check()
    if inspect.isawaitable(result):
        result = await result
    return bool(result)


async def pupil_known(
    consent: ConsentService, client: httpx.AsyncClient, school_id: str, pupil_id: str
) -> None:
    """Wait until the worker has projected the roster fact of a seeded pupil."""
    await consent.projected()
    leader = auth(Role.leader, f"leader-of-{school_id}", school_id)
    answer = await client.get(f"/schools/{school_id}/pupils/{pupil_id}/media", headers=leader)
    assert answer.status_code == 200, f"pupil {pupil_id} projected: {answer.text}"
