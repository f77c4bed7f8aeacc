"""No roster import locks a school out: the demo school, as `make demo` starts it, over the
gateway's public API.

Issue 18: a whole-school import of another school's file (one pupil) marked every pupil and
all seven staff of the demo school as left, and the leader, teacher and office could no
longer sign in. The school's own export did the same whenever its system knew staff under
other ids, or left out the head.
"""

from __future__ import annotations

import csv
import io
import time
import zipfile
from typing import Any

import httpx
from schoolgate_kit.testing.waiting import GATEWAY_CAUGHT_UP_PATH, until_projected_sync

from .conftest import signed_in  # type: ignore[import-not-found]

ROSTER = "/api/roster/schools/demo-school"
LEADER = {"email": "leader@demo.school", "password": "demo-leader-pass"}
TEACHER = {"email": "teacher@demo.school", "password": "demo-teacher-pass"}
OFFICE = {"email": "office@demo.school", "password": "demo-office-pass"}
Pupil = tuple[str, str, str, str, str]  # id, given name, family name, grade, class
Staff = tuple[str, str, str, str, str, list[str]]  # id, given, family, email, role, classes


def _table(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def export(org: str, name: str, pupils: list[Pupil], staff: list[Staff]) -> bytes:
    """A school information system's OneRoster 1.2 bulk export of one school."""
    classes = sorted({(klass, grade) for *_, grade, klass in pupils})
    listed = ("orgs", "classes", "users", "roles", "enrollments")
    users = [["sourcedId", "enabledUser", "givenName", "familyName", "email", "grades"]]
    roles = [["sourcedId", "userSourcedId", "roleType", "role", "orgSourcedId"]]
    enrolled = [["sourcedId", "classSourcedId", "schoolSourcedId", "userSourcedId", "role"]]
    for sid, given, family, grade, klass in pupils:
        users.append([sid, "true", given, family, "", grade])
        roles.append([f"role-{sid}", sid, "primary", "student", org])
        enrolled.append([f"enr-{sid}", klass, org, sid, "student"])
    for sid, given, family, email, role, taught in staff:
        users.append([sid, "true", given, family, email, ""])
        roles.append([f"role-{sid}", sid, "primary", role, org])
        enrolled += [[f"enr-{sid}-{c}", c, org, sid, role] for c in taught]
    files = {
        "manifest.csv": _table(
            [["propertyName", "value"], ["oneroster.version", "1.2"]]
            + [[f"file.{f}", "bulk"] for f in listed]
        ),
        "orgs.csv": _table([["sourcedId", "name", "type"], [org, name, "school"]]),
        "classes.csv": _table(
            [["sourcedId", "title", "grades", "schoolSourcedId"]]
            + [[klass, klass.title(), grade, org] for klass, grade in classes]
        ),
        "users.csv": _table(users),
        "roles.csv": _table(roles),
        "enrollments.csv": _table(enrolled),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for file_name, text in files.items():
            archive.writestr(file_name, text)
    return buffer.getvalue()


def import_job(leader: httpx.Client, data: bytes, **params: str) -> tuple[str, dict[str, Any]]:
    """Upload a file and wait until its job waits for the leader or has finished."""
    answer = leader.post(
        f"{ROSTER}/imports",
        content=data,
        headers={"content-type": "application/zip"},
        params=params,
    )
    assert answer.status_code == 202, answer.text
    return answer.json()["import_id"], settle(leader, answer.json()["import_id"])


def settle(leader: httpx.Client, import_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60  # a job's status: not a projection to wait on
    while True:
        answer = leader.get(f"{ROSTER}/imports/{import_id}")
        assert answer.status_code == 200, answer.text  # the leader is still signed in
        job: dict[str, Any] = answer.json()
        if job["status"] in {"previewed", "done", "failed"}:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)


def everyone_signs_in(embedded: str) -> None:
    for who, role in ((LEADER, "leader"), (TEACHER, "teacher"), (OFFICE, "office")):
        me = signed_in(embedded, who).get("/api/me")
        assert me.status_code == 200, (who["email"], me.text)
        assert me.json()["role"] == role


def directory(leader: httpx.Client) -> tuple[int, int]:
    pupils = leader.get(f"{ROSTER}/pupils").json()
    staff = leader.get(f"{ROSTER}/staff").json()
    return len(pupils), len(staff)


def test_a_full_import_of_another_schools_file_is_refused_and_changes_nobody(
    embedded: str, ids: dict[str, str]
) -> None:
    leader = signed_in(embedded, LEADER)
    before = directory(leader)
    theirs = export(
        "riverside-urn",
        "Riverside Primary",
        [("rp-1", "Nia", "Brook", "03", "kestrel")],
        [("rp-t1", "Tom", "Reed", "t.reed@riverside.example", "teacher", ["kestrel"])],
    )
    _, job = import_job(leader, theirs, full="true")
    assert job["status"] == "failed", job
    assert job["problem"]["status"] == 422
    assert job["problem"]["type"].endswith("/wrong-school")
    assert "Riverside Primary" in job["problem"]["detail"]
    assert job["report"] is None
    assert directory(leader) == before
    everyone_signs_in(embedded)


def test_the_schools_own_file_without_the_leader_leaves_everyone_able_to_sign_in(
    embedded: str, ids: dict[str, str]
) -> None:
    leader = signed_in(embedded, LEADER)
    pupils: list[Pupil] = [
        ("ada", "Ada", "Lovelace", "03", "oak"),
        ("ben", "Ben", "Okri", "03", "oak"),
        ("cara", "Cara", "Diaz", "03", "oak"),
        ("sam-k", "Sam", "Kay", "03", "oak"),
        ("sam-l", "Sam", "Lee", "03", "oak"),
        ("dev", "Dev", "Patel", "04", "ash"),
        ("eve", "Eve", "Jones", "04", "ash"),
        ("leo", "Leo", "Hart", "03", "willow"),
        # Isla has left the school
    ]
    # the school's system knows its staff under ids of its own, and leaves out the head
    staff: list[Staff] = [
        ("T-0117", "Olive", "Oak", "teacher@demo.school", "teacher", ["oak"]),
        ("T-0342", "Bram", "Birch", "ta@demo.school", "aide", ["oak"]),
        ("S-0009", "Ellen", "Elm", "office@demo.school", "counselor", []),
    ]
    import_id, job = import_job(
        leader, export("demo-urn", "Demo Primary School", pupils, staff), full="true"
    )
    assert job["status"] == "previewed", job
    preview = job["report"]
    assert preview["dry_run"] is True
    assert (preview["left"], preview["pupils"]["left"]) == (1, ["isla"])
    assert preview["staff"]["left"] == []
    assert preview["kept"] == [
        {"source_id": "staff-ash", "staff_id": ids["staff-ash"], "reason": "requested_import"}
    ]
    assert directory(leader) == (9, 4)  # a preview changes nothing

    applying = leader.post(f"{ROSTER}/imports/{import_id}/apply")
    assert applying.status_code == 202, applying.text
    done = settle(leader, import_id)
    assert done["status"] == "done", done
    assert done["report"]["left"] == 1 and done["report"]["staff"]["left"] == []
    until_projected_sync(leader, done["position"], path=GATEWAY_CAUGHT_UP_PATH)
    assert directory(leader) == (8, 4)
    everyone_signs_in(embedded)
