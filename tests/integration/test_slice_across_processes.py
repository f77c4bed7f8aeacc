"""The thin slice with every part in its own process, over real RabbitMQ and SQLite files.

points API (HTTP) -> events.db -> relay -> RabbitMQ -> notifications worker;
events.db -> points worker (projection) -> readmodels.db -> points API answers the total.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import httpx
import pytest
from schoolgate_kit.identity import Role
from schoolgate_kit.testing.waiting import until_projected

from ..conftest import Cluster, token, until  # type: ignore[import-not-found]

pytestmark = pytest.mark.rabbitmq


AWARDS = "SELECT count(*) FROM events WHERE type = 'PointAwarded'"


def count(db: Path, sql: str, *args: object) -> int:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(sql, args).fetchone()
        return int(row[0]) if row else 0
    except sqlite3.OperationalError:
        return 0  # the table is not there yet
    finally:
        conn.close()


async def test_an_award_reaches_the_weekly_total_and_the_family_inbox(
    cluster: Cluster, points_client: httpx.AsyncClient
) -> None:
    cluster.start_points_api()
    cluster.process("notifications-worker", "schoolgate_notifications", "work")
    cluster.process("relay", "schoolgate_kit", "relay")
    root = f"http://127.0.0.1:{cluster.points_port}"
    base = f"{root}/schools/school-1"
    teacher = {"authorization": f"Bearer {token()}"}

    for i in range(20):
        answer = await points_client.post(
            f"{base}/awards",
            headers=teacher,
            json={
                "pupil_id": "p1",
                "school_way_id": ["kindness", "effort"][i % 2],
                "class_id": "class-1",
            },
        )
        assert answer.status_code == 201, answer.text

    await until_projected(root, answer)
    answer = await points_client.get(f"{base}/pupils/p1/weekly-total", headers=teacher)
    assert answer.status_code == 200, answer.text
    assert answer.json()["total"] == 20
    assert answer.json()["by_way"] == {"kindness": 10, "effort": 10}
    # the inbox is a reactor's, fed over RabbitMQ: no position to wait for
    await until(
        lambda: (
            count(
                cluster.tmp / "readmodels.db",
                "SELECT count(*) FROM documents WHERE projection = ?",
                "notifications.handled",
            )
            == 20
        ),
        within=60,
        why="20 family notifications",
    )
    for proc in cluster.processes:
        proc.assert_alive()


async def test_events_published_before_a_consumer_first_starts_wait_for_it(
    cluster: Cluster, points_client: httpx.AsyncClient
) -> None:
    """The relay declares every consumer queue, so nothing is dropped by the exchange."""
    cluster.start_points_api()
    cluster.process("relay", "schoolgate_kit", "relay")
    base = f"http://127.0.0.1:{cluster.points_port}/schools/school-1"
    teacher = {"authorization": f"Bearer {token()}"}
    award = {"pupil_id": "p1", "school_way_id": "kindness", "class_id": "class-1"}
    for _ in range(5):
        answer = await points_client.post(f"{base}/awards", headers=teacher, json=award)
        assert answer.status_code == 201, answer.text
    head = count(cluster.tmp / "events.db", "SELECT max(position) FROM events")
    await until(
        lambda: (
            count(
                cluster.tmp / "readmodels.db",
                "SELECT checkpoint FROM generations WHERE projection = 'relay'",
            )
            == head
        ),
        why="the relay has published all five awards",
    )
    cluster.process("notifications-worker", "schoolgate_notifications", "work")
    await until(
        lambda: (
            count(
                cluster.tmp / "readmodels.db",
                "SELECT count(*) FROM documents WHERE projection = ?",
                "notifications.handled",
            )
            == 5
        ),
        within=60,
        why="five family notifications, published before the worker started",
    )


async def test_bad_input_is_a_problem_and_writes_nothing(
    cluster: Cluster, points_client: httpx.AsyncClient
) -> None:
    cluster.start_points_api()
    base = f"http://127.0.0.1:{cluster.points_port}/schools/school-1"
    teacher = {"authorization": f"Bearer {token()}"}
    for body in (
        {"pupil_id": "p1"},
        {"pupil_id": "p1; drop", "school_way_id": "kindness", "class_id": "class-1"},
        {"pupil_id": "p1", "school_way_id": "kindness", "class_id": "class-1", "extra": 1},
        {"pupil_id": "p1", "school_way_id": "kindness", "award_id": "not-a-uuid"},
    ):
        answer = await points_client.post(f"{base}/awards", headers=teacher, json=body)
        assert answer.status_code == 422, body
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["type"].endswith("/validation-error") and problem["status"] == 422
    answer = await points_client.post(f"{base}/awards", headers=teacher, content=b"{nope")
    assert answer.status_code == 422
    assert count(cluster.tmp / "events.db", AWARDS) == 0


async def test_a_retried_award_counts_once_and_a_reused_id_is_a_conflict(
    cluster: Cluster, points_client: httpx.AsyncClient
) -> None:
    cluster.start_points_api()
    base = f"http://127.0.0.1:{cluster.points_port}/schools/school-1"
    teacher = {"authorization": f"Bearer {token()}"}
    award = {
        "pupil_id": "p1",
        "school_way_id": "kindness",
        "class_id": "class-1",
        "award_id": str(uuid.uuid4()),
    }
    first = await points_client.post(f"{base}/awards", headers=teacher, json=award)
    again = await points_client.post(f"{base}/awards", headers=teacher, json=award)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    other = await points_client.post(
        f"{base}/awards", headers=teacher, json={**award, "pupil_id": "p3"}
    )
    assert other.status_code == 409
    assert other.json()["type"].endswith("/award-id-reused")
    assert count(cluster.tmp / "events.db", AWARDS) == 1


@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        # a parent reads their own child, not another
        (token(Role.parent, pupils=frozenset({"p1"})), "pupils/p1/weekly-total", 200),
        (token(Role.parent, pupils=frozenset({"p1"})), "pupils/p2/weekly-total", 403),
        # a pupil reads their own points only
        (token(Role.pupil, subject="p1", classes=frozenset()), "pupils/p1/weekly-total", 200),
        (token(Role.pupil, subject="p1", classes=frozenset()), "pupils/p2/weekly-total", 403),
        # staff of another school see nothing here
        (token(Role.leader, school="school-2"), "pupils/p1/weekly-total", 403),
        ("not-a-token", "pupils/p1/weekly-total", 401),
    ],
)
async def test_who_may_read_a_pupils_total(
    cluster: Cluster, points_client: httpx.AsyncClient, who: str, path: str, status: int
) -> None:
    cluster.start_points_api()
    answer = await points_client.get(
        f"http://127.0.0.1:{cluster.points_port}/schools/school-1/{path}",
        headers={"authorization": f"Bearer {who}"},
    )
    assert answer.status_code == status, answer.text


@pytest.mark.parametrize(
    ("who", "class_id", "status"),
    [
        (token(Role.teacher), "class-1", 201),
        (token(Role.teacher), "class-2", 403),  # not their class
        (token(Role.teaching_assistant), "class-1", 201),
        (token(Role.teaching_assistant), "class-2", 403),
        (token(Role.leader, classes=frozenset()), "class-2", 201),
        (token(Role.teacher, school="school-2"), "class-1", 403),  # another school
        (token(Role.parent, pupils=frozenset({"p1"})), "class-1", 403),
        (token(Role.pupil, subject="p1"), "class-1", 403),
        (token(Role.office), "class-1", 403),
    ],
)
async def test_who_may_award(
    cluster: Cluster, points_client: httpx.AsyncClient, who: str, class_id: str, status: int
) -> None:
    cluster.start_points_api()
    answer = await points_client.post(
        f"http://127.0.0.1:{cluster.points_port}/schools/school-1/awards",
        headers={"authorization": f"Bearer {who}"},
        json={
            "pupil_id": {"class-1": "p1", "class-2": "p2"}[class_id],
            "school_way_id": "kindness",
            "class_id": class_id,
        },
    )
    assert answer.status_code == status, answer.text
    written = count(cluster.tmp / "events.db", AWARDS)
    assert written == (1 if status == 201 else 0)
