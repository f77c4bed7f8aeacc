"""A parent who has not accepted their school's current code of conduct may do nothing in
points, whatever the route; staff and other schools' parents are not held up.

The points API and its projection worker run as real processes over SQLite files; the
consent facts are appended to the same event store, as the consent service would.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest
from schoolgate_contracts.consent import CodeOfConductAccepted, CodeOfConductPublished
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.identity import Role
from schoolgate_kit.keys import random_token
from schoolgate_kit.testing.processes import ServiceProcesses, bearer, free_port
from schoolgate_kit.testing.roster import school_facts, seed_school

SECRET = "points-test-identity-secret-" + "p" * 24


class PointsService(ServiceProcesses):
    package = "schoolgate_points"
    name = "points"

    async def seed(self, school_id: str, classes: dict[str, list[str]]) -> None:
        store = await SqliteEventStore.open(self.events_db, clock=lambda: datetime.now(UTC))
        try:
            await seed_school(store, school_id, school_facts(school_id, classes))
        finally:
            await store.close()


@pytest.fixture(scope="module")
def points(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PointsService]:
    data_dir = tmp_path_factory.mktemp("points")
    env = {
        **os.environ,
        "SCHOOLGATE_ENVIRONMENT": "test",
        "SCHOOLGATE_IDENTITY_SECRET": SECRET,
        "SCHOOLGATE_MASTER_KEY": random_token(),
        "SCHOOLGATE_DATA_DIR": str(data_dir),
        "SCHOOLGATE_BUS_URL": "memory://",
        "SCHOOLGATE_LOG_LEVEL": "WARNING",
    }
    service = PointsService(data_dir=data_dir, port=free_port(), env=env)
    service.start()
    yield service
    service.stop()


@pytest.fixture
async def client(points: PointsService) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=points.url, timeout=20) as http:
        yield http


def auth(
    role: Role,
    subject: str,
    school: str,
    *,
    classes: tuple[str, ...] = (),
    pupils: tuple[str, ...] = (),
) -> dict[str, str]:
    return bearer(role, subject, school, secret=SECRET, classes=classes, pupils=pupils)


async def test_a_parent_does_nothing_in_points_until_they_accept_the_code(
    points: PointsService, client: httpx.AsyncClient
) -> None:
    school, elsewhere = f"s-{uuid.uuid4().hex[:8]}", f"s-{uuid.uuid4().hex[:8]}"
    ada, zed = f"ada-{school}", f"zed-{elsewhere}"
    await points.seed(school, {"c1": [ada]})
    await points.seed(elsewhere, {"c9": [zed]})
    parent = auth(Role.parent, "parent-of-ada", school, pupils=(ada,))
    other_parent = auth(Role.parent, "parent-of-zed", elsewhere, pupils=(zed,))
    teacher = auth(Role.teacher, "teacher-c1", school, classes=("c1",))

    def total(pupil: str, school_id: str, who: dict[str, str]) -> httpx.Request:
        return client.build_request(
            "GET", f"/schools/{school_id}/pupils/{pupil}/weekly-total", headers=who
        )

    def target(who: dict[str, str]) -> httpx.Request:
        # a route that checks its caller itself, not through a scope dependency
        return client.build_request(
            "PUT", f"/schools/{school}/pupils/{ada}/target", headers=who, json={"points_per_day": 5}
        )

    async def status(request: httpx.Request) -> int:
        return (await client.send(request)).status_code

    async def answers(code: int) -> bool:
        return await status(total(ada, school, parent)) == code

    await points.projected()
    assert await answers(200), "the school is projected"
    assert await status(target(parent)) == 200

    await points.append(
        f"consentpolicy-{school}",
        school,
        CodeOfConductPublished(version=1, text="Be kind.", published_by="leader"),
    )
    await points.projected()
    assert await answers(403), "the code of conduct reaches points"
    for request in (total(ada, school, parent), target(parent)):
        answer = await client.send(request)
        assert answer.status_code == 403, answer.text
        assert answer.json()["type"].endswith("/code-of-conduct-not-accepted")
    assert await status(total(ada, school, teacher)) == 200
    assert await status(target(teacher)) == 200
    assert await status(total(zed, elsewhere, other_parent)) == 200

    await points.append(
        "parent-parent-of-ada",
        school,
        CodeOfConductAccepted(parent_id="parent-of-ada", school_id=school, version=1),
    )
    await points.projected()
    assert await answers(200), "the acceptance reaches points"
    assert await status(target(parent)) == 200
