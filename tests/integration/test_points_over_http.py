"""The points service as real processes over real HTTP and SQLite files: awarding to groups
and classes, undo, targets, class totals, reports and settings, and who may do each.

One points API and worker serve the module (no broker needed: points has no reactors);
tests keep apart by their own pupils, or say what state they leave.
"""

from __future__ import annotations

import csv
import io
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from schoolgate_kit.app import POSITION_HEADER
from schoolgate_kit.identity import Role
from schoolgate_kit.testing.waiting import Written, until_projected

from ..conftest import Cluster, token  # type: ignore[import-not-found]

TEACHER = token(Role.teacher, subject="teacher-1", classes=frozenset({"class-1"}))
OTHER_TEACHER = token(Role.teacher, subject="teacher-2", classes=frozenset({"class-1"}))
TA = token(Role.teaching_assistant, subject="ta-1", classes=frozenset({"class-1"}))
LEADER = token(Role.leader, subject="leader-1", classes=frozenset())
PARENT_OF_P1 = token(Role.parent, subject="parent-1", classes=frozenset(), pupils=frozenset({"p1"}))
PUPIL_P1 = token(Role.pupil, subject="p1", classes=frozenset())
OFFICE = token(Role.office, subject="office-1", classes=frozenset())
OTHER_SCHOOL = token(Role.leader, school="school-2", subject="leader-9", classes=frozenset())
BOARD = token(Role.board, subject="board-1", classes=frozenset({"class-1"}))
"""Class 1's board on the classroom screen: its class total, nothing else."""
OTHER_BOARD = token(
    Role.board, school="school-2", subject="board-9", classes=frozenset({"class-9"})
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    running = Cluster(tmp_path_factory.mktemp("points"), "memory://")
    running.start_points_api()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def points(cluster: Cluster) -> str:
    return f"http://127.0.0.1:{cluster.points_port}/schools/school-1"


def head(cluster: Cluster) -> int:
    conn = sqlite3.connect(cluster.tmp / "events.db")
    try:
        return int(conn.execute("SELECT max(position) FROM events").fetchone()[0])
    finally:
        conn.close()


Projected = Callable[..., Awaitable[None]]


@pytest.fixture
def projected(cluster: Cluster) -> Projected:
    """Wait until the points worker has projected a write (its answer), or everything the
    store holds now: the module's tests share pupils, so a test's first read waits for
    the writes of the tests before it."""
    base = f"http://127.0.0.1:{cluster.points_port}"

    async def wait(written: Written | None = None) -> None:
        await until_projected(base, head(cluster) if written is None else written)

    return wait


@pytest.fixture
async def client() -> Any:
    async with httpx.AsyncClient(timeout=10) as http:
        yield http


def as_(who: str) -> dict[str, str]:
    return {"authorization": f"Bearer {who}"}


async def summary(client: httpx.AsyncClient, base: str, pupil: str) -> dict[str, Any]:
    answer = await client.get(f"{base}/pupils/{pupil}/summary", headers=as_(LEADER))
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_one_action_awards_a_group_and_the_whole_class(
    points: str, client: httpx.AsyncClient, projected: Projected
) -> None:
    await projected()
    before = (await client.get(f"{points}/classes/class-1/total", headers=as_(TEACHER))).json()
    group = await client.post(
        f"{points}/awards",
        headers=as_(TEACHER),
        json={"pupil_ids": ["p1", "p3"], "class_id": "class-1", "school_way_id": "effort"},
    )
    assert group.status_code == 201, group.text
    assert group.json()["pupil_ids"] == ["p1", "p3"]
    everyone = await client.post(
        f"{points}/awards",
        headers=as_(TA),
        json={"whole_class": True, "class_id": "class-1", "school_way_id": "kindness"},
    )
    assert everyone.status_code == 201, everyone.text
    assert sorted(everyone.json()["pupil_ids"]) == ["p1", "p3"]  # class-1 only, not p2

    await projected(everyone)
    after = await client.get(f"{points}/classes/class-1/total", headers=as_(TEACHER))
    assert after.json()["total"] == before["total"] + 4, "the class total counts all four"


async def test_a_live_reader_waits_for_the_award_it_was_told_about(
    cluster: Cluster, points: str, client: httpx.AsyncClient, projected: Projected
) -> None:
    """The worker is another process, polling the store: without ``after`` a read straight
    after an award would often miss it."""
    await projected()
    for _ in range(3):
        before = await summary(client, points, "p3")
        answer = await client.post(
            f"{points}/awards",
            headers=as_(TEACHER),
            json={"pupil_id": "p3", "class_id": "class-1", "school_way_id": "kindness"},
        )
        assert answer.status_code == 201
        read = await client.get(
            f"{points}/pupils/p3/summary", params={"after": head(cluster)}, headers=as_(LEADER)
        )
        assert read.json()["today"]["total"] == before["today"]["total"] + 1
        total = await client.get(
            f"{points}/classes/class-1/total", params={"after": head(cluster)}, headers=as_(TA)
        )
        assert total.status_code == 200
    never = await client.get(
        f"{points}/pupils/p3/summary", params={"after": 10**9}, headers=as_(LEADER)
    )
    assert never.status_code == 200  # a position never reached answers what there is


async def test_an_award_is_undone_within_the_window_and_both_stay_in_history(
    points: str, client: httpx.AsyncClient, projected: Projected
) -> None:
    await projected()
    start = (await summary(client, points, "p1"))["week"]["total"]
    given = await client.post(
        f"{points}/awards",
        headers=as_(TEACHER),
        json={"pupil_id": "p1", "class_id": "class-1", "school_way_id": "kindness"},
    )
    assert given.status_code == 201
    award_id = given.json()["award_id"]
    refused = await client.post(f"{points}/awards/{award_id}/undo", headers=as_(OTHER_TEACHER))
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/not-your-award")
    undone = await client.post(f"{points}/awards/{award_id}/undo", headers=as_(TEACHER))
    assert undone.status_code == 200, undone.text
    assert undone.json() == {"award_id": award_id, "pupil_ids": ["p1"], "undone": True}
    again = await client.post(f"{points}/awards/{award_id}/undo", headers=as_(TEACHER))
    assert again.status_code == 200
    missing = await client.post(f"{points}/awards/{uuid.uuid4().hex}/undo", headers=as_(TEACHER))
    assert missing.status_code == 404
    await projected(undone)
    assert (await summary(client, points, "p1"))["week"]["total"] == start, "taken off"


async def test_targets_are_set_by_parents_and_teachers_and_shown_as_progress(
    points: str, client: httpx.AsyncClient, projected: Projected
) -> None:
    last_set = None
    for who, status in [
        (PARENT_OF_P1, 200),
        (TEACHER, 200),
        (TA, 200),
        (LEADER, 200),
        (PUPIL_P1, 403),
        (OFFICE, 403),
        (OTHER_SCHOOL, 403),
        (
            token(Role.parent, subject="parent-2", classes=frozenset(), pupils=frozenset({"p2"})),
            403,
        ),
    ]:
        answer = await client.put(
            f"{points}/pupils/p1/target", headers=as_(who), json={"points_per_day": 3}
        )
        assert answer.status_code == status, (who, answer.text)
        if POSITION_HEADER in answer.headers:  # the same target again appends nothing
            last_set = answer
    bad = await client.put(
        f"{points}/pupils/p1/target", headers=as_(TEACHER), json={"points_per_day": 0}
    )
    assert bad.status_code == 422
    assert last_set is not None
    await projected(last_set)
    body = await summary(client, points, "p1")
    assert body["target"]["points_per_day"] == 3, "the target shows"
    assert body["target"]["reached"] == (body["today"]["total"] >= 3)
    assert body["history"][0]["week_start"] == body["week"]["week_start"]


async def test_needs_work_points_only_once_a_leader_turns_them_on(
    points: str, client: httpx.AsyncClient, projected: Projected
) -> None:
    award = {"pupil_id": "p3", "class_id": "class-1", "school_way_id": "effort"}
    refused = await client.post(
        f"{points}/awards", headers=as_(TEACHER), json={**award, "kind": "needs_work"}
    )
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/needs-work-points-off")
    settings = {"needs_work_enabled": True, "undo_window_seconds": 60}
    answer = await client.put(f"{points}/settings", headers=as_(TEACHER), json=settings)
    assert answer.status_code == 403
    answer = await client.put(f"{points}/settings", headers=as_(LEADER), json=settings)
    assert answer.status_code == 200 and answer.json() == settings
    allowed = await client.post(
        f"{points}/awards", headers=as_(TEACHER), json={**award, "kind": "needs_work"}
    )
    assert allowed.status_code == 201, allowed.text
    off = {"needs_work_enabled": False, "undo_window_seconds": 60}
    turned_off = await client.put(f"{points}/settings", headers=as_(LEADER), json=off)
    assert turned_off.status_code == 200
    await projected(turned_off)
    assert (await client.get(f"{points}/settings", headers=as_(TA))).json() == off


async def test_a_report_by_pupil_and_value_downloads_as_csv(
    points: str, client: httpx.AsyncClient, projected: Projected
) -> None:
    given = await client.post(
        f"{points}/awards",
        headers=as_(TEACHER),
        json={"pupil_id": "p1", "class_id": "class-1", "school_way_id": "effort"},
    )
    day = given.json()["school_date"]
    period = {"from": day, "to": day}

    async def report() -> dict[str, Any]:
        answer = await client.get(
            f"{points}/classes/class-1/report", params=period, headers=as_(TEACHER)
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    await projected(given)
    body = await report()
    assert body["total"], "the report counts the day"
    assert [row["name"] for row in body["pupils"]] == ["P1", "P3"]
    assert body["total"] == sum(row["total"] for row in body["pupils"])
    answer = await client.get(
        f"{points}/classes/class-1/report",
        params={**period, "format": "csv"},
        headers=as_(LEADER),
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.text)))
    assert rows[0][0] == "Pupil" and rows[0][-1] == "Total"
    assert [r[0] for r in rows[1:]] == ["P1", "P3", "Whole class"]
    assert int(rows[-1][-1]) == body["total"]
    backwards = await client.get(
        f"{points}/classes/class-1/report",
        params={"from": "2026-11-20", "to": "2026-11-01"},
        headers=as_(TEACHER),
    )
    assert backwards.status_code == 422


async def test_bad_awards_are_problems_and_write_nothing(
    points: str, client: httpx.AsyncClient
) -> None:
    for body, slug in [
        (
            {"pupil_id": "p2", "class_id": "class-1", "school_way_id": "effort"},
            "pupil-not-in-class",
        ),
        ({"pupil_id": "p9", "class_id": "class-1", "school_way_id": "effort"}, "unknown-pupil"),
        (
            {"pupil_id": "p1", "class_id": "class-1", "school_way_id": "napping"},
            "unknown-school-way",
        ),
        ({"pupil_ids": [], "class_id": "class-1", "school_way_id": "effort"}, "validation-error"),
        (
            {"pupil_id": "p1", "whole_class": True, "class_id": "class-1", "school_way_id": "x"},
            "validation-error",
        ),
        (
            {"pupil_id": "p1", "class_id": "class-1", "school_way_id": "effort", "kind": "minus"},
            "validation-error",
        ),
    ]:
        answer = await client.post(f"{points}/awards", headers=as_(TEACHER), json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["type"].endswith(f"/{slug}"), answer.json()


@pytest.mark.parametrize(
    ("who", "method", "path", "status"),
    [
        # the class screen: the class's own staff and leaders
        (TEACHER, "GET", "classes/class-1/total", 200),
        (TA, "GET", "classes/class-1/total", 200),
        (TEACHER, "GET", "classes/class-2/total", 403),
        (LEADER, "GET", "classes/class-2/total", 200),
        (PARENT_OF_P1, "GET", "classes/class-1/total", 403),
        (PUPIL_P1, "GET", "classes/class-1/total", 403),
        (OTHER_SCHOOL, "GET", "classes/class-1/total", 403),
        (LEADER, "GET", "classes/class-9/total", 404),  # another school's class, here
        (BOARD, "GET", "classes/class-1/total", 200),
        (BOARD, "GET", "classes/class-2/total", 403),
        (OTHER_BOARD, "GET", "classes/class-1/total", 403),
        (OTHER_BOARD, "GET", "classes/class-9/total", 404),  # its own class, under our path
        (BOARD, "GET", "classes/class-1/report?from=2026-11-16&to=2026-11-22", 403),
        (BOARD, "GET", "pupils/p1/summary", 403),
        (BOARD, "GET", "pupils/p1/weekly-total", 403),
        (BOARD, "GET", "settings", 403),
        (BOARD, "PUT", "settings", 403),
        (BOARD, "POST", "awards/any-award/undo", 403),
        # reports by pupil: the class's teachers and leaders only
        (TEACHER, "GET", "classes/class-1/report?from=2026-11-16&to=2026-11-22", 200),
        (TEACHER, "GET", "classes/class-2/report?from=2026-11-16&to=2026-11-22", 403),
        (TA, "GET", "classes/class-1/report?from=2026-11-16&to=2026-11-22", 403),
        (PARENT_OF_P1, "GET", "classes/class-1/report?from=2026-11-16&to=2026-11-22", 403),
        (OTHER_SCHOOL, "GET", "classes/class-1/report?from=2026-11-16&to=2026-11-22", 403),
        (LEADER, "GET", "classes/class-9/report?from=2026-11-16&to=2026-11-22", 404),
        # a child's summary: their parents, themself and staff; nobody else
        (PARENT_OF_P1, "GET", "pupils/p1/summary", 200),
        (PARENT_OF_P1, "GET", "pupils/p2/summary", 403),
        (PUPIL_P1, "GET", "pupils/p1/summary", 200),
        (PUPIL_P1, "GET", "pupils/p3/summary", 403),
        (OFFICE, "GET", "pupils/p1/summary", 200),
        (OTHER_SCHOOL, "GET", "pupils/p1/summary", 403),
        # another school's pupil, named under this school's path: not here, whoever asks
        (LEADER, "GET", "pupils/p9/summary", 404),
        (OFFICE, "GET", "pupils/p9/weekly-total", 404),
        (TEACHER, "GET", "pupils/p9/weekly-total", 404),
        ("not-a-token", "GET", "pupils/p1/summary", 401),
        # settings: staff read them, leaders change them
        (OFFICE, "GET", "settings", 200),
        (PARENT_OF_P1, "GET", "settings", 403),
    ],
)
async def test_who_may_see_what(
    points: str, client: httpx.AsyncClient, who: str, method: str, path: str, status: int
) -> None:
    answer = await client.request(method, f"{points}/{path}", headers=as_(who))
    assert answer.status_code == status, answer.text


@pytest.mark.parametrize(
    ("who", "body", "status"),
    [
        (TA, {"pupil_ids": ["p1", "p3"], "class_id": "class-1"}, 201),
        (TA, {"pupil_id": "p2", "class_id": "class-2"}, 403),  # not the TA's class
        (TA, {"whole_class": True, "class_id": "class-2"}, 403),
        (LEADER, {"whole_class": True, "class_id": "class-2"}, 201),
        (PARENT_OF_P1, {"pupil_id": "p1", "class_id": "class-1"}, 403),
        (OTHER_SCHOOL, {"pupil_id": "p1", "class_id": "class-1"}, 403),
        (BOARD, {"pupil_id": "p1", "class_id": "class-1"}, 403),
        (BOARD, {"whole_class": True, "class_id": "class-1"}, 403),
    ],
)
async def test_who_may_award_to_a_group_or_class(
    points: str, client: httpx.AsyncClient, who: str, body: dict[str, Any], status: int
) -> None:
    answer = await client.post(
        f"{points}/awards", headers=as_(who), json={**body, "school_way_id": "effort"}
    )
    assert answer.status_code == status, answer.text
