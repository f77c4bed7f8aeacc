"""Privacy over HTTP, as `make run` serves it, on one demo school: a parent takes away what
the school holds about them and their child, built in the background with its progress shown,
and nobody else can see the job or its archive; a leader exports a pupil's record, and nobody
else may; leaders see which member of staff read which child's record (ids only); and erasing a
pupil while their class is given points fails nothing and moves no other total."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import zipfile
from typing import Any

import httpx
import pytest
from schoolgate_kit.testing.waiting import GATEWAY_CAUGHT_UP_PATH, until, until_projected_sync

from .conftest import client_for, signed_in  # type: ignore[import-not-found]

PARENT = {"email": "parent@demo.school", "password": "demo-parent-pass"}
PARENT2 = {"email": "parent2@demo.school", "password": "demo-parent2-pass"}
TEACHER = {"email": "teacher@demo.school", "password": "demo-teacher-pass"}
LEADER = {"email": "leader@demo.school", "password": "demo-leader-pass"}
OFFICE = {"email": "office@demo.school", "password": "demo-office-pass"}
SCHOOL = "/schools/demo-school"
ROSTER = "/api/roster/schools/demo-school"
ROUNDS = 15


async def finished(client: httpx.Client, job: dict[str, Any]) -> dict[str, Any]:
    seen: list[dict[str, Any]] = []

    def done() -> bool:
        answer = client.get(f"/api/exports/{job['export_id']}")
        assert answer.status_code == 200, answer.text
        seen.append(answer.json())
        return bool(seen[-1]["status"] != "building")

    await until(done, within=60, why="the export was not built")
    progress = [j["progress"] for j in seen]
    assert progress == sorted(progress) and seen[-1]["progress"] == 1.0
    return seen[-1]


def archive_of(client: httpx.Client, job: dict[str, Any]) -> dict[str, bytes]:
    answer = client.get(job["archive"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-disposition"].startswith("attachment;")
    with zipfile.ZipFile(io.BytesIO(answer.content)) as opened:
        return {name: opened.read(name) for name in opened.namelist()}


async def test_a_parent_exports_their_data_and_nobody_else_can_fetch_it(
    embedded: str, ids: dict[str, str]
) -> None:
    parent, other, teacher = (signed_in(embedded, w) for w in (PARENT, PARENT2, TEACHER))
    award = teacher.post(
        "/api/awards", json={"pupil_id": ids["ada"], "school_way_id": ids["kindness"]}
    )
    assert award.status_code == 201, award.text

    started = parent.post("/api/exports", json={})
    assert started.status_code == 202, started.text
    job = await finished(parent, started.json())
    assert job["status"] == "ready" and job["expires_at"]
    files = archive_of(parent, job)
    data = json.loads(files["data.json"])
    assert [c["first_name"] for c in data["children"]] == ["Ada"]
    assert any(p["value"] == "Kindness" for p in data["points"])
    everything = b"".join(files.values())
    assert b"Leo" not in everything and b"Hart" not in everything  # the other family's child
    assert b"<h1>Your data from Schoolgate</h1>" in files["index.html"]

    # the other family, a teacher and a stranger: no job, no archive
    for someone in (other, teacher):
        assert someone.get(f"/api/exports/{job['export_id']}").status_code == 404
        assert someone.get(job["archive"]).status_code == 404
        assert job["export_id"] not in someone.get("/api/exports").text
    assert client_for(embedded).get(job["archive"]).status_code == 401
    assert parent.get("/api/exports/not-an-id").status_code == 422


@pytest.mark.parametrize(("who", "allowed"), [(LEADER, True), (TEACHER, False), (PARENT, False)])
async def test_only_a_leader_exports_a_pupils_record(
    embedded: str, ids: dict[str, str], who: dict[str, str], allowed: bool
) -> None:
    client = signed_in(embedded, who)
    answer = client.post("/api/exports", json={"pupil_id": ids["leo"]})
    if not allowed:
        assert answer.status_code == 403, answer.text
        assert "Leo" not in answer.text
        return
    assert answer.status_code == 202, answer.text
    job = await finished(client, answer.json())
    data = json.loads(archive_of(client, job)["data.json"])
    assert [p["first_name"] for p in data["pupil"]] == ["Leo"]
    assert (
        client.post("/api/exports", json={"pupil_id": "pup_of_another_school"}).status_code == 404
    )


def test_bad_export_requests_are_refused_and_start_nothing(embedded: str) -> None:
    parent = signed_in(embedded, PARENT2)
    for body in ({"pupil_id": "x" * 81}, {"nonsense": 1}, [1, 2]):
        answer = parent.post("/api/exports", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
    assert parent.get("/api/exports").json() == []


# -- who looked at which child's record ------------------------------------------------------


def test_staff_reads_of_a_childs_record_are_shown_to_leaders_only(
    embedded: str, ids: dict[str, str]
) -> None:
    teacher, leader, office, parent = (
        signed_in(embedded, w) for w in (TEACHER, LEADER, OFFICE, PARENT)
    )
    ada, leo = ids["ada"], ids["leo"]
    reads = {
        f"/api/consent{SCHOOL}/pupils/{ada}/consent": 200,
        f"/api/stories{SCHOOL}/pupils/{ada}/portfolio": 200,
        f"/api/points{SCHOOL}/pupils/{ada}/summary": 200,
        f"/api/points{SCHOOL}/classes/{ids['oak']}/report?from=2026-09-01&to=2026-12-31": 200,
        # another class's child: refused, and a refusal is not a read
        f"/api/consent{SCHOOL}/pupils/{leo}/consent": 403,
    }
    for path, status in reads.items():
        answer = teacher.get(path)
        assert answer.status_code == status, f"{path}: {answer.text}"
    # the office's read of a photo consent, and a parent's own look at their child
    assert office.get(f"/api/consent{SCHOOL}/pupils/{leo}/media").status_code == 200
    assert parent.get(f"/api/points{SCHOOL}/pupils/{ada}/summary").status_code in {200, 403}

    answer = leader.get("/api/audit", params={"limit": 500})
    assert answer.status_code == 200, answer.text
    seen = [(e["role"], e["pupil_id"], e["class_id"], e["what"]) for e in answer.json()]
    assert ("teacher", ada, None, "guardians and consent") in seen
    assert ("teacher", ada, None, "portfolio") in seen
    assert ("teacher", ada, None, "points") in seen
    assert ("teacher", None, ids["oak"], "class points report") in seen
    assert ("office", leo, None, "photo consent") in seen
    assert not any(role == "parent" for role, *_ in seen)
    assert ("teacher", leo, None, "guardians and consent") not in seen
    assert "Lovelace" not in answer.text and "Ada" not in answer.text

    only_leo = leader.get("/api/audit", params={"pupil_id": leo}).json()
    assert only_leo and {e["pupil_id"] for e in only_leo} == {leo}
    newest_first = [e["at"] for e in answer.json()]
    assert newest_first == sorted(newest_first, reverse=True)

    for who in (teacher, office, parent):
        refused = who.get("/api/audit")
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    assert leader.get("/api/audit", params={"limit": 0}).status_code == 422
    assert leader.get("/api/audit", params={"pupil_id": "../x"}).status_code == 422


# -- erasing under load -----------------------------------------------------------------------


async def test_erasing_a_pupil_while_their_class_is_given_points(
    embedded: str, ids: dict[str, str]
) -> None:
    teacher, leader = signed_in(embedded, TEACHER), signed_in(embedded, LEADER)
    erased, others = ids["cara"], [ids[p] for p in ("ada", "ben", "sam-k", "sam-l")]
    # the totals before: with every earlier write counted (another test's award to Ada)
    first = teacher.post(
        "/api/awards", json={"pupil_id": others[0], "school_way_id": ids["kindness"]}
    )
    assert first.status_code == 201, first.text
    until_projected_sync(teacher, first, path=GATEWAY_CAUGHT_UP_PATH)
    before = {p: teacher.get(f"/api/pupils/{p}/weekly-total").json()["total"] for p in others}
    given = dict.fromkeys(others, 0)
    statuses: list[int] = []
    last: list[httpx.Response] = []

    async def award_all(browser: httpx.AsyncClient) -> None:
        for _ in range(ROUNDS):
            for pupil in [*others, erased]:
                answer = await browser.post(
                    "/api/awards", json={"pupil_id": pupil, "school_way_id": ids["kindness"]}
                )
                statuses.append(answer.status_code)
                if answer.status_code == 201 and pupil in given:
                    given[pupil] += 1
                    last[:] = [answer]

    async def erase(browser: httpx.AsyncClient) -> None:
        await asyncio.sleep(0)  # once the awards have started
        left = await browser.post(f"{ROSTER}/pupils/{erased}/leave")
        assert left.status_code == 200, left.text
        gone = await browser.post(f"{ROSTER}/pupils/{erased}/erase")
        assert gone.status_code == 200, gone.text
        assert gone.json()["first_name"] == "removed"

    def browser(client: httpx.Client) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=embedded, cookies=client.cookies, timeout=30)

    async with browser(teacher) as awarding, browser(leader) as erasing:
        await asyncio.gather(award_all(awarding), award_all(awarding), erase(erasing))

    assert not [s for s in statuses if s >= 500], statuses
    # an award to the pupil once they have left is refused plainly; every other one lands
    assert set(statuses) <= {201, 404, 409, 422}, set(statuses)
    assert statuses.count(201) >= 2 * ROUNDS * len(others)
    until_projected_sync(teacher, last[0], path=GATEWAY_CAUGHT_UP_PATH)
    after = {p: teacher.get(f"/api/pupils/{p}/weekly-total").json()["total"] for p in others}
    assert after == {p: before[p] + given[p] for p in others}


def test_closing_an_account_is_no_place_to_guess_its_password(embedded: str) -> None:
    """A phone left signed in: its finder may try passwords only as often as signing in
    allows, and then is told to wait; the account is not closed."""
    who = {"email": f"{uuid.uuid4().hex[:8]}@family.example", "password": "a-long-password"}
    made = client_for(embedded).post("/api/join/account", json={**who, "display_name": "A parent"})
    assert made.status_code == 202, made.text
    phone = signed_in(embedded, who)
    answers = [
        phone.post("/api/me/close", json={"password": f"guess-{n}"}).status_code for n in range(11)
    ]
    assert answers[:10] == [403] * 10 and answers[10] == 429, answers
    assert phone.get("/api/me").status_code == 200  # still theirs, still signed in
