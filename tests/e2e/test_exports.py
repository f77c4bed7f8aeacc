"""Exports over HTTP, as `make run` serves them: a parent takes away what the school holds
about them and their child, built in the background with its progress shown; nobody else can
see the job or its archive; a leader exports a pupil's record, and nobody else may."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import httpx
import pytest
from schoolgate_kit.testing.waiting import until

from .conftest import client_for, signed_in  # type: ignore[import-not-found]

PARENT = {"email": "parent@demo.school", "password": "demo-parent-pass"}
PARENT2 = {"email": "parent2@demo.school", "password": "demo-parent2-pass"}
TEACHER = {"email": "teacher@demo.school", "password": "demo-teacher-pass"}
LEADER = {"email": "leader@demo.school", "password": "demo-leader-pass"}


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
