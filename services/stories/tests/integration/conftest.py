"""The stories service as real processes: its API and its projection worker, over SQLite
files and a media directory.

Roster and consent facts are seeded the way those services would leave them: events
appended to the same event store file, in their own streams. Each test builds its own
school (``new_school``), so tests never see each other's posts.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from pypdf import PdfWriter
from schoolgate_contracts import Event
from schoolgate_contracts.consent import (
    MediaConsentExceptionRecorded,
    MediaConsentGranted,
    MediaConsentWithdrawn,
    PupilCareStatusRecorded,
)
from schoolgate_contracts.roster import ClassAdded, PupilEnrolled, YearGroupAdded
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.identity import Role
from schoolgate_kit.keys import random_token
from schoolgate_kit.testing.processes import ServiceProcesses, bearer, free_port
from schoolgate_kit.testing.roster import school_facts

SECRET = "stories-test-identity-secret-" + "z" * 24
UPLOAD_LIMIT = 2_000_000


def auth(
    role: Role,
    subject: str,
    school: str,
    *,
    classes: tuple[str, ...] = (),
    pupils: tuple[str, ...] = (),
) -> dict[str, str]:
    return bearer(role, subject, school, secret=SECRET, classes=classes, pupils=pupils)


class StoriesService(ServiceProcesses):
    package = "schoolgate_stories"
    name = "stories"

    async def caught_up(self) -> None:
        """Wait until every projection stories reads has followed the log to where it is
        now (what tests seeded, and what the service appended)."""
        await self.projected()

    async def head(self) -> int:
        """How many events the log holds (SQLite positions count 1, 2, 3...)."""
        store = await SqliteEventStore.open(self.events_db, clock=lambda: datetime.now(UTC))
        try:
            return await store.head()
        finally:
            await store.close()


def start_service(data_dir: Path, **settings: str) -> StoriesService:
    env = {
        **os.environ,
        "SCHOOLGATE_ENVIRONMENT": "test",
        "SCHOOLGATE_IDENTITY_SECRET": SECRET,
        "SCHOOLGATE_MASTER_KEY": random_token(),
        "SCHOOLGATE_DATA_DIR": str(data_dir),
        "SCHOOLGATE_BUS_URL": "memory://",
        "SCHOOLGATE_LOG_LEVEL": "WARNING",
        "SCHOOLGATE_STORIES_UPLOAD_MAX_BYTES": str(UPLOAD_LIMIT),
        **{f"SCHOOLGATE_{k.upper()}": v for k, v in settings.items()},
    }
    service = StoriesService(data_dir=data_dir, port=free_port(), env=env)
    service.start()
    return service


@pytest.fixture(scope="session")
def stories(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoriesService]:
    """One stories service for the suite; tests keep apart by using their own schools."""
    service = start_service(tmp_path_factory.mktemp("stories"))
    yield service
    service.stop()


@pytest.fixture
async def client(stories: StoriesService) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stories.url, timeout=20) as http:
        yield http


# -- media to upload ---------------------------------------------------------------------


def png(width: int = 64, height: int = 48, colour: str = "orange") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# -- a school to test in -----------------------------------------------------------------


@dataclass
class School:
    """Year 1 has classes oak (ada, ben, kit) and ash (cal); year 2 has elm (dot).

    Media consent: ada, cal and dot have it; ben has none; kit has it but is in care
    without an exception. ``other`` is a second school with a class of its own, also called
    oak, and its pupil zed (with consent). Pupil ids are global, so ``p("ada")`` is this
    school's ada.
    """

    id: str
    other: str
    stories: StoriesService

    def p(self, name: str) -> str:
        return f"{name}-{self.id}"

    def staff_of(self, *classes: str, role: Role = Role.teacher) -> dict[str, str]:
        return auth(role, f"{role.value}-{'-'.join(classes)}", self.id, classes=classes)

    @property
    def teacher(self) -> dict[str, str]:
        return auth(Role.teacher, "teacher-oak", self.id, classes=("oak",))

    @property
    def assistant(self) -> dict[str, str]:
        return auth(Role.teaching_assistant, "ta-oak", self.id, classes=("oak",))

    @property
    def ash_teacher(self) -> dict[str, str]:
        return auth(Role.teacher, "teacher-ash", self.id, classes=("ash",))

    @property
    def leader(self) -> dict[str, str]:
        return auth(Role.leader, "leader", self.id)

    @property
    def office(self) -> dict[str, str]:
        return auth(Role.office, "office", self.id)

    def parent(self, *children: str, who: str | None = None) -> dict[str, str]:
        return auth(
            Role.parent,
            who or f"parent-of-{'-'.join(children)}",
            self.id,
            pupils=tuple(self.p(c) for c in children),
        )

    def pupil(self, name: str) -> dict[str, str]:
        return auth(Role.pupil, self.p(name), self.id)

    @property
    def other_leader(self) -> dict[str, str]:
        return auth(Role.leader, "leader", self.other)

    @property
    def other_teacher(self) -> dict[str, str]:
        return auth(Role.teacher, "teacher-oak", self.other, classes=("oak",))

    @property
    def other_parent(self) -> dict[str, str]:
        """A parent of the other school, whose token names this school's pupils too."""
        return auth(
            Role.parent,
            "parent-elsewhere",
            self.other,
            pupils=(f"zed-{self.other}", self.p("ada")),
        )

    def path(self, rest: str) -> str:
        return f"/schools/{self.id}{rest}"

    async def consent(self, name: str, *events: Event) -> None:
        await self.stories.append(f"guardianship-{self.p(name)}", self.id, *events)

    async def grant(self, name: str) -> None:
        await self.consent(name, MediaConsentGranted(pupil_id=self.p(name), granted_by="p"))

    async def withdraw(self, name: str) -> None:
        await self.consent(name, MediaConsentWithdrawn(pupil_id=self.p(name), withdrawn_by="p"))

    async def exception(self, name: str) -> None:
        await self.consent(
            name,
            MediaConsentExceptionRecorded(
                pupil_id=self.p(name), recorded_by="l", reason="LA agreed"
            ),
        )


def enrolled(pupil_id: str, name: str, class_id: str, year: str = "y1") -> PupilEnrolled:
    return PupilEnrolled(
        pupil_id=pupil_id, first_name=name, surname="Test", year_group_id=year, class_id=class_id
    )


async def new_school(stories: StoriesService) -> School:
    sid = f"school-{uuid.uuid4().hex[:8]}"
    other = f"other-{uuid.uuid4().hex[:8]}"
    school = School(id=sid, other=other, stories=stories)
    facts = school_facts(sid, {"oak": [], "ash": []})
    facts += [
        YearGroupAdded(year_group_id="y2", name="Year 2"),
        ClassAdded(class_id="elm", name="Elm", year_group_id="y2"),
        enrolled(school.p("ada"), "Ada", "oak"),
        enrolled(school.p("ben"), "Ben", "oak"),
        enrolled(school.p("kit"), "Kit", "oak"),
        enrolled(school.p("cal"), "Cal", "ash"),
        enrolled(school.p("dot"), "Dot", "elm", "y2"),
    ]
    await stories.seed_roster(sid, facts)
    await stories.seed_roster(
        other, [*school_facts(other, {"oak": []}), enrolled(f"zed-{other}", "Zed", "oak")]
    )
    for pupil in ("ada", "cal", "dot", "kit"):
        await school.grant(pupil)
    await school.consent(
        "kit", PupilCareStatusRecorded(pupil_id=school.p("kit"), in_care=True, recorded_by="l")
    )
    await stories.append(
        f"guardianship-zed-{other}",
        other,
        MediaConsentGranted(pupil_id=f"zed-{other}", granted_by="p"),
    )
    await stories.caught_up()
    return school


async def upload(
    client: httpx.AsyncClient,
    school: School,
    headers: dict[str, str],
    data: bytes | None = None,
    content_type: str = "image/png",
) -> str:
    answer = await client.post(
        school.path("/media"),
        headers={**headers, "content-type": content_type},
        content=data if data is not None else png(),
    )
    assert answer.status_code == 201, answer.text
    media_id: str = answer.json()["media_id"]
    return media_id


def photo(media_id: str, *tagged: str, kind: str = "image") -> dict[str, Any]:
    """A photo naming the pupils in it; naming none, it says no child can be recognised."""
    return {
        "media_id": media_id,
        "kind": kind,
        "alt_text": "a photo",
        "tagged_pupil_ids": list(tagged),
        "no_child_recognisable": not tagged and kind != "document",
    }


async def post(
    client: httpx.AsyncClient,
    school: School,
    headers: dict[str, str],
    *,
    classes: tuple[str, ...] = ("oak",),
    attachments: list[dict[str, Any]] | None = None,
    text: str = "Our week",
    **extra: Any,
) -> dict[str, Any]:
    answer = await client.post(
        school.path("/posts"),
        headers=headers,
        json={
            "audience": {"kind": "classes", "class_ids": list(classes)},
            "text": text,
            "attachments": attachments or [],
            **extra,
        },
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body
