"""The messaging service as real processes: its API and its projection worker, over SQLite
files, a media directory and a private store.

Roster and consent facts are seeded the way those services would leave them: events
appended to the same event store file, in their own streams. Each test builds its own
school (``new_school``), with a second school whose class and pupil ids are the same.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from schoolgate_contracts import Event
from schoolgate_contracts.consent import GuardianLinked, MediaConsentGranted
from schoolgate_contracts.roster import (
    PupilEnrolled,
    SchoolDetails,
    SchoolDetailsChanged,
    StaffAssignedToClass,
    StaffMemberAdded,
    StaffRole,
)
from schoolgate_kit.identity import Role
from schoolgate_kit.keys import random_token
from schoolgate_kit.testing.processes import ServiceProcesses, bearer, free_port
from schoolgate_kit.testing.roster import school_facts

SECRET = "messaging-test-identity-secret-" + "z" * 24
FAMILY_LIMIT = 12
"""Messages a parent may send in ten minutes in these tests: low, so reaching it is cheap."""


def auth(
    role: Role,
    subject: str,
    school: str,
    *,
    classes: tuple[str, ...] = (),
    pupils: tuple[str, ...] = (),
) -> dict[str, str]:
    return bearer(role, subject, school, secret=SECRET, classes=classes, pupils=pupils)


class MessagingService(ServiceProcesses):
    package = "schoolgate_messaging"
    name = "messaging"


def start_service(data_dir: Path, **settings: str) -> MessagingService:
    env = {
        **os.environ,
        "SCHOOLGATE_ENVIRONMENT": "test",
        "SCHOOLGATE_IDENTITY_SECRET": SECRET,
        "SCHOOLGATE_MASTER_KEY": random_token(),
        "SCHOOLGATE_DATA_DIR": str(data_dir),
        "SCHOOLGATE_BUS_URL": "memory://",
        "SCHOOLGATE_LOG_LEVEL": "WARNING",
        "SCHOOLGATE_MESSAGING_UPLOAD_MAX_BYTES": "2000000",
        **{f"SCHOOLGATE_{k.upper()}": v for k, v in settings.items()},
    }
    service = MessagingService(data_dir=data_dir, port=free_port(), env=env)
    service.start()
    return service


@pytest.fixture(scope="session")
def messaging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MessagingService]:
    """One messaging service for the suite; tests keep apart by using their own schools."""
    service = start_service(
        tmp_path_factory.mktemp("messaging"), messaging_family_limit=str(FAMILY_LIMIT)
    )
    yield service
    service.stop()


@pytest.fixture
async def client(messaging: MessagingService) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=messaging.url, timeout=20) as http:
        yield http


def hours_around_now(*, inside: bool) -> SchoolDetails:
    """A school whose working day does (or does not) hold this moment, whatever the time
    the suite runs at: its timezone is chosen so that it is 12:00 (or 03:00) there now."""
    now = datetime.now(UTC)
    wanted = 12 if inside else 3
    offset = (wanted - now.hour) % 24
    if offset > 12:
        offset -= 24
    zone = "Etc/GMT" + (f"-{offset}" if offset > 0 else f"+{-offset}" if offset < 0 else "")
    local = now.astimezone(ZoneInfo(zone))
    return SchoolDetails(
        name="Test school",
        timezone=zone,
        working_days=(0, 1, 2, 3, 4, 5, 6) if inside else (local.weekday(),),
        day_starts=time(8, 0),
        day_ends=time(17, 0),
    )


@dataclass
class School:
    """Class oak (ada, ben with two guardians), class ash (cal), and staff: teacher-oak
    (Ms Oak), ta-oak, teacher-ash, office, leader. ``other`` is a second school whose class
    id is also oak and whose staff ids are this school's (``teacher-oak``): ids a school's
    own systems chose must not let the schools meet. Pupil ids are the platform's own and
    never repeat, as in production."""

    id: str
    other: str
    service: MessagingService

    def p(self, name: str) -> str:
        return f"{name}-{self.id}"

    def path(self, rest: str) -> str:
        return f"/schools/{self.id}{rest}"

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
    def office(self) -> dict[str, str]:
        return auth(Role.office, "office", self.id)

    @property
    def leader(self) -> dict[str, str]:
        return auth(Role.leader, "leader", self.id)

    @property
    def admin(self) -> dict[str, str]:
        return auth(Role.school_admin, "admin", self.id)

    def parent(self, child: str = "ada", who: str | None = None) -> dict[str, str]:
        return auth(Role.parent, who or f"parent-of-{child}", self.id, pupils=(self.p(child),))

    def pupil(self, name: str = "ada") -> dict[str, str]:
        return auth(Role.pupil, self.p(name), self.id)

    @property
    def other_teacher(self) -> dict[str, str]:
        return auth(Role.teacher, "teacher-oak", self.other, classes=("oak",))

    @property
    def other_parent(self) -> dict[str, str]:
        """A parent at the other school whose token also names this school's ada."""
        return auth(
            Role.parent, "parent-of-ada", self.other, pupils=(self.p("ada"), f"zed-{self.other}")
        )

    async def caught_up(self) -> None:
        await self.service.projected()


def enrolled(pupil_id: str, first: str, surname: str, class_id: str) -> PupilEnrolled:
    return PupilEnrolled(
        pupil_id=pupil_id, first_name=first, surname=surname, year_group_id="y1", class_id=class_id
    )


async def new_school(service: MessagingService, *, inside_hours: bool = True) -> School:
    sid = f"school-{uuid.uuid4().hex[:8]}"
    other = f"other-{uuid.uuid4().hex[:8]}"
    school = School(id=sid, other=other, service=service)
    facts: list[Event] = [
        *school_facts(sid, {"oak": [], "ash": []}),
        SchoolDetailsChanged(school_id=sid, details=hours_around_now(inside=inside_hours)),
        enrolled(school.p("ada"), "Ada", "Lovelace", "oak"),
        enrolled(school.p("ben"), "Ben", "Okri", "oak"),
        enrolled(school.p("cal"), "Cal", "Jones", "ash"),
        StaffMemberAdded(
            staff_id="teacher-oak",
            display_name="Ms Oak",
            email="oak@x.test",
            role=StaffRole.teacher,
        ),
        StaffAssignedToClass(staff_id="teacher-oak", class_id="oak"),
        StaffMemberAdded(
            staff_id="ta-oak",
            display_name="Mr Birch",
            email="birch@x.test",
            role=StaffRole.teaching_assistant,
        ),
        StaffAssignedToClass(staff_id="ta-oak", class_id="oak"),
    ]
    await service.seed_roster(sid, facts)
    await service.seed_roster(
        other,
        [*school_facts(other, {"oak": []}), enrolled(f"zed-{other}", "Zed", "Other", "oak")],
    )
    for child in ("ada", "ben", "cal"):
        await service.append(
            f"guardianship-{school.p(child)}",
            sid,
            GuardianLinked(
                pupil_id=school.p(child), parent_id=f"parent-of-{child}", invite_id="i1"
            ),
        )
    await service.append(
        f"guardianship-{school.p('ben')}-2",
        sid,
        GuardianLinked(pupil_id=school.p("ben"), parent_id="second-of-ben", invite_id="i2"),
    )
    for child in ("ada", "ben"):
        await service.append(
            f"consent-{school.p(child)}",
            sid,
            MediaConsentGranted(pupil_id=school.p(child), granted_by="p"),
        )
    await school.caught_up()
    return school


@pytest.fixture
async def school(messaging: MessagingService) -> School:
    return await new_school(messaging)


async def start(
    client: httpx.AsyncClient,
    school: School,
    headers: dict[str, str],
    *,
    pupil: str = "ada",
    text: str = "Ada had a rough night's sleep",
    **extra: Any,
) -> dict[str, Any]:
    answer = await client.post(
        school.path("/conversations"),
        headers=headers,
        json={"pupil_id": school.p(pupil), "text": text, **extra},
    )
    assert answer.status_code == 201, answer.text
    await school.service.projected(answer)
    body: dict[str, Any] = answer.json()
    return body
