"""Importing whole schools through the real service: an API process and a projection worker
over real SQLite files, called over real HTTP."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from schoolgate_kit.identity import Role
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore

ZIP = {"content-type": "application/zip"}
CSV = {"content-type": "text/csv"}
Files = dict[str, str]
SETTLED = {"previewed", "done", "failed", "expired"}


def start(
    service: Any,
    school_id: str,
    who: str,
    data: bytes,
    headers: dict[str, str],
    **params: Any,
) -> str:
    answer = service.call(
        "POST", f"/schools/{school_id}/imports", who, content=data, headers=headers, params=params
    )
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert answer.headers["location"] == f"/schools/{school_id}/imports/{job['import_id']}"
    assert job["status"] == "validating"
    return str(answer.headers["location"])


def settle(service: Any, location: str, who: str, within: float = 60) -> dict[str, Any]:
    """Poll an import job until it waits for a leader or has finished; its last answer."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        answer = service.call("GET", location, who)
        assert answer.status_code == 200, answer.text
        job: dict[str, Any] = answer.json()
        if job["status"] in SETTLED:
            return job
        time.sleep(0.05)
    raise AssertionError(f"import {location} did not settle:\n{service.log('api')}")


def previewed(
    service: Any,
    school_id: str,
    who: str,
    data: bytes,
    headers: dict[str, str] = ZIP,
    **params: Any,
) -> tuple[str, dict[str, Any]]:
    """Start an import and wait for its dry run, which must have written nothing."""
    before = service.events(school_id)
    location = start(service, school_id, who, data, headers, **params)
    job = settle(service, location, who)
    assert job["status"] == "previewed", job
    assert job["report"]["dry_run"] is True
    assert service.events(school_id) == before
    return location, job


def applied(service: Any, location: str, who: str) -> dict[str, Any]:
    answer = service.call("POST", f"{location}/apply", who)
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "applying"
    job = settle(service, location, who)
    assert job["status"] == "done", job
    assert job["report"]["dry_run"] is False
    service.projected(job["position"])  # the job appended in the background
    return job


def imported(
    service: Any,
    school_id: str,
    who: str,
    data: bytes,
    headers: dict[str, str] = ZIP,
    **params: Any,
) -> dict[str, Any]:
    """Preview, then apply: the report of what was applied, which the preview foretold."""
    location, preview = previewed(service, school_id, who, data, headers, **params)
    report: dict[str, Any] = applied(service, location, who)["report"]
    assert {**report, "dry_run": True} == preview["report"]
    return report


def pupils(service: Any, school_id: str, who: str, **params: Any) -> list[dict[str, Any]]:
    answer = service.call("GET", f"/schools/{school_id}/pupils", who, params=params)
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()
    return found


def settled(service: Any, school_id: str, who: str, on_roll: int, left: int = 0) -> None:
    """The pupils' read model, once the worker has projected what the store holds, is
    what the store holds."""
    service.projected()
    assert len(pupils(service, school_id, who)) == on_roll
    assert len(pupils(service, school_id, who, include_left=True)) == on_roll + left


def test_the_oneroster_sample_becomes_the_whole_school(
    roster_service: Any, school_id: str, leader: str, oneroster: Callable[..., bytes]
) -> None:
    report = imported(roster_service, school_id, leader, oneroster())
    assert (report["added"], report["moved"], report["left"], report["unchanged"]) == (20, 0, 0, 0)
    assert report["classes"]["added"] == ["ash", "birch", "cedar", "damson"]
    assert report["year_groups"]["added"] == ["grade-03", "grade-04"]
    assert len(report["staff"]["added"]) == 6
    assert report["school"]["registered"] is True
    settled(roster_service, school_id, leader, on_roll=20)

    school = roster_service.call("GET", f"/schools/{school_id}", leader).json()
    assert school["name"] == "Oakfield Primary School"
    assert (school["working_days"], school["day_starts"], school["day_ends"]) == (
        [0, 1, 2, 3, 4],
        "08:00:00",
        "17:00:00",
    )
    assert [t["name"] for t in school["terms"]] == ["Autumn term", "Spring term", "Summer term"]
    classes = roster_service.call("GET", f"/schools/{school_id}/classes", leader).json()
    ids = roster_service.ids(school_id, leader)
    assert [(c["name"], c["year_group_id"], c["source_id"]) for c in classes] == [
        ("Ash", ids["grade-03"], "ash"),
        ("Birch", ids["grade-03"], "birch"),
        ("Cedar", ids["grade-04"], "cedar"),
        ("Damson", ids["grade-04"], "damson"),
    ]
    assert all(c["class_id"].startswith("cls_") for c in classes)
    years = roster_service.call("GET", f"/schools/{school_id}/year-groups", leader).json()
    assert [g["name"] for g in years] == ["Year 3", "Year 4"]
    ash = roster_service.call(
        "GET", f"/schools/{school_id}/classes/{ids['ash']}/pupils", leader
    ).json()
    shown = {p["source_id"]: p["display_name"] for p in ash}
    assert shown["stu-0001"] == "Sam Kh." and shown["stu-0002"] == "Sam Ke."
    assert shown["stu-0003"] == "Ada"
    staff = roster_service.call("GET", f"/schools/{school_id}/staff", leader).json()
    by_id = {s["source_id"]: s for s in staff}
    assert by_id["aide-patel"]["role"] == "teaching_assistant"
    assert by_id["aide-patel"]["class_ids"] == sorted([ids["ash"], ids["birch"]])
    assert by_id["adm-price"]["role"] == "school_admin"


def test_the_same_file_again_reports_all_unchanged_and_appends_nothing(
    roster_service: Any, school_id: str, leader: str, oneroster: Callable[..., bytes]
) -> None:
    imported(roster_service, school_id, leader, oneroster())
    before = roster_service.events(school_id)
    report = imported(roster_service, school_id, leader, oneroster())
    assert (report["added"], report["moved"], report["left"], report["unchanged"]) == (0, 0, 0, 20)
    assert report["staff"]["unchanged"] == 6
    assert report["events"] == 0
    assert roster_service.events(school_id) == before


def test_a_moved_and_a_missing_pupil_are_moved_and_marked_left(
    roster_service: Any, school_id: str, leader: str, oneroster: Callable[..., bytes]
) -> None:
    imported(roster_service, school_id, leader, oneroster())

    def move_maya_to_birch(files: Files) -> None:
        old = "enr-0005,,2026-08-28T09:00:00.000Z,ash,"
        files["enrollments.csv"] = files["enrollments.csv"].replace(
            old, "enr-0005,,2026-08-28T09:00:00.000Z,birch,"
        )

    def arlo_is_gone(files: Files) -> None:
        for name in ("users.csv", "roles.csv", "enrollments.csv"):
            files[name] = "".join(
                line for line in files[name].splitlines(keepends=True) if "stu-0020" not in line
            )

    report = imported(
        roster_service, school_id, leader, oneroster(move_maya_to_birch, arlo_is_gone), full=True
    )
    assert (report["added"], report["moved"], report["left"], report["unchanged"]) == (0, 1, 1, 18)
    assert report["pupils"]["moved"] == [
        {"pupil_id": "stu-0005", "from_class_id": "ash", "to_class_id": "birch"}
    ]
    assert report["pupils"]["left"] == ["stu-0020"]
    settled(roster_service, school_id, leader, on_roll=19, left=1)
    ids = roster_service.ids(school_id, leader)
    maya = roster_service.call(
        "GET", f"/schools/{school_id}/pupils/{ids['stu-0005']}", leader
    ).json()
    assert maya["class_id"] == ids["birch"]
    arlo = roster_service.call(
        "GET", f"/schools/{school_id}/pupils/{ids['stu-0020']}", leader
    ).json()
    assert arlo["status"] == "left" and arlo["surname"] == "Oyelaran"  # kept, not deleted
    damson = roster_service.call(
        "GET", f"/schools/{school_id}/classes/{ids['damson']}/pupils", leader
    )
    assert ids["stu-0020"] not in {p["pupil_id"] for p in damson.json()}


def test_a_bad_file_applies_nothing_and_names_every_bad_row(
    roster_service: Any, school_id: str, leader: str, oneroster: Callable[..., bytes]
) -> None:
    imported(roster_service, school_id, leader, oneroster())
    settled(roster_service, school_id, leader, on_roll=20)
    before = roster_service.events(school_id)

    def break_rows(files: Files) -> None:
        files["users.csv"] = files["users.csv"].replace("ada.okonkwo,,Ada,", "ada.okonkwo,,,")
        files["enrollments.csv"] = files["enrollments.csv"].replace(
            "enr-0007,,2026-08-28T09:00:00.000Z,birch", "enr-0007,,2026-08-28T09:00:00.000Z,elm"
        )
        # and a change that would apply if the file were good
        files["enrollments.csv"] = files["enrollments.csv"].replace(
            "enr-0005,,2026-08-28T09:00:00.000Z,ash,", "enr-0005,,2026-08-28T09:00:00.000Z,birch,"
        )

    location = start(roster_service, school_id, leader, oneroster(break_rows), ZIP)
    job = settle(roster_service, location, leader)
    assert job["status"] == "failed" and job["report"] is None
    problem = job["problem"]
    assert problem["status"] == 422
    assert problem["type"].endswith("/roster-import-invalid")
    assert problem["errors"] == [
        {
            "file": "enrollments.csv",
            "line": 8,
            "reason": "classSourcedId elm is not in classes.csv",
        },
        {"file": "users.csv", "line": 4, "reason": "givenName is empty"},
    ]
    assert roster_service.events(school_id) == before
    ids = roster_service.ids(school_id, leader)
    maya = roster_service.call(
        "GET", f"/schools/{school_id}/pupils/{ids['stu-0005']}", leader
    ).json()
    assert maya["class_id"] == ids["ash"]


def test_an_unreadable_upload_is_refused_before_any_job(
    roster_service: Any, school_id: str, leader: str, oneroster: Callable[..., bytes]
) -> None:
    path = f"/schools/{school_id}/imports"
    answer = roster_service.call("POST", path, leader, content=b"PK but not really", headers=ZIP)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"] == [{"file": "upload", "line": 1, "reason": "is not a zip file"}]

    def no_users(files: Files) -> None:
        del files["users.csv"]

    # which files an export lacks is found by the job, with every other problem of the file
    answer = roster_service.call("POST", path, leader, content=oneroster(no_users), headers=ZIP)
    assert answer.status_code == 202, answer.text
    job = settle(roster_service, answer.headers["location"], leader)
    assert job["status"] == "failed" and job["problem"]["status"] == 422
    assert "users.csv" in {e["file"] for e in job["problem"]["errors"]}
    answer = roster_service.call(
        "POST", path, leader, content=b"{}", headers={"content-type": "application/json"}
    )
    assert answer.status_code == 415
    assert answer.json()["type"].endswith("/unsupported-media-type")
    assert roster_service.events(school_id) == 0


SIMPLE = (
    "pupil_id,first_name,surname,year_group,class\r\n"
    "p1,Sam,Khan,Year 3,Ash\r\n"
    "p2,Sam,Kelly,Year 3,Ash\r\n"
    "p3,Ada,Okonkwo,Year 3,Birch\r\n"
    "p4,Theo,Gallagher,Year 4,Cedar\r\n"
)


def test_a_simple_csv_imports_pupils_into_named_year_groups_and_classes(
    roster_service: Any, school_id: str, leader: str
) -> None:
    path = f"/schools/{school_id}/imports"
    answer = roster_service.call("POST", path, leader, content=SIMPLE.encode(), headers=CSV)
    job = settle(roster_service, answer.headers["location"], leader)
    assert job["status"] == "failed"  # no school yet: a pupil list does not name it
    assert job["problem"]["type"].endswith("/school-not-found")

    answer = roster_service.call("PUT", f"/schools/{school_id}", leader, json={"name": "Elm Road"})
    assert answer.status_code == 201, answer.text
    report = imported(roster_service, school_id, leader, SIMPLE.encode(), CSV)
    assert (report["added"], report["moved"], report["left"], report["unchanged"]) == (4, 0, 0, 0)
    assert report["classes"]["added"] == ["ash", "birch", "cedar"]
    assert report["year_groups"]["added"] == ["year-3", "year-4"]

    # next year: Ada moves to Ash, Theo has left, names are spelt a little differently
    again = (
        "pupil_id,first_name,surname,year_group,class\r\n"
        "p1,Sam,Khan,year 3,ASH\r\n"
        "p2,Sam,Kelly,Year 3,Ash\r\n"
        "p3,Ada,Okonkwo,Year 3,Ash\r\n"
    )
    report = imported(roster_service, school_id, leader, again.encode(), CSV, full=True)
    assert (report["added"], report["moved"], report["left"], report["unchanged"]) == (0, 1, 1, 2)
    assert report["classes"]["added"] == [] and report["year_groups"]["added"] == []
    settled(roster_service, school_id, leader, on_roll=3, left=1)
    ids = roster_service.ids(school_id, leader)
    ash = pupils(roster_service, school_id, leader, class_id=ids["ash"])
    assert sorted(p["source_id"] for p in ash) == ["p1", "p2", "p3"]


def test_an_import_reports_progress_until_it_is_previewed_then_applied(
    roster_service: Any, school_id: str, leader: str, oneroster: Callable[..., bytes]
) -> None:
    location = start(roster_service, school_id, leader, oneroster(), ZIP)

    def watch(until: str) -> list[tuple[str, int, int]]:
        seen: list[tuple[str, int, int]] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            job = roster_service.call("GET", location, leader).json()
            seen.append((job["status"], job["processed"], job["total"]))
            if job["status"] in {until, "failed"}:
                break
            time.sleep(0.01)
        return seen

    seen = watch("previewed")
    statuses = [s for s, _, _ in seen]
    assert statuses[-1] == "previewed"
    assert set(statuses) <= {"validating", "previewed"}
    processed = [p for _, p, _ in seen]
    assert processed == sorted(processed)
    assert seen[-1][1] == seen[-1][2] == 114  # every row of the seven files
    job = roster_service.call("GET", location, leader).json()
    assert job["finished_at"] is None  # waiting for the leader
    assert job["reading"]["seconds"] > 0 and job["reading"]["peak_bytes"] > 1024 * 1024

    assert roster_service.call("POST", f"{location}/apply", leader).status_code == 202
    seen = watch("done")
    assert seen[-1][0] == "done" and set(s for s, _, _ in seen) <= {"applying", "done"}
    assert all(p == t == 114 for _, p, t in seen)  # the apply's read does not start over
    assert roster_service.call("GET", location, leader).json()["finished_at"] is not None


def test_only_leaders_and_admins_see_an_import(
    roster_service: Any, school_id: str, leader: str, oneroster: Callable[..., bytes], sign: Any
) -> None:
    location = start(roster_service, school_id, leader, oneroster(), ZIP)
    settle(roster_service, location, leader)
    admin = sign(Role.school_admin, school=school_id)
    assert roster_service.call("GET", location, admin).status_code == 200
    for role in (Role.teacher, Role.office, Role.parent, Role.pupil):
        assert roster_service.call("GET", location, sign(role, school=school_id)).status_code == 403
    missing = f"/schools/{school_id}/imports/0123456789abcdef"
    assert roster_service.call("GET", missing, leader).status_code == 404


async def test_after_a_restart_an_apply_resumes_a_preview_reruns_and_a_previewed_job_waits(
    tmp_path: Path, oneroster: Callable[..., bytes], sign: Any, new_roster_service: Any
) -> None:
    """Jobs the API stopped in the middle of are in the read-model store: the next start
    finishes an apply and a preview, and leaves a previewed job to its leader."""
    from schoolgate_roster.adapters import ImportJobs

    school_id = "restarted"
    job = {
        "school_id": school_id,
        "processed": 114,
        "total": 114,
        "source": "oneroster",
        "full": True,
        "report": None,
        "problem": None,
        "requested_by": "head",
        "correlation_id": "before-the-restart",
        "created_at": "2026-09-01T08:00:00+00:00",
        "finished_at": None,
    }  # as jobs were saved before previews: a job written then is taken up all the same
    store = await SqliteReadModelStore.open(tmp_path / "readmodels.db")
    try:
        jobs = ImportJobs(store)
        for import_id, status in (("a" * 16, "applying"), ("b" * 16, "validating")):
            await jobs.save_upload(school_id, import_id, "application/zip", oneroster())
            await jobs.save({**job, "import_id": import_id, "status": status})
        # were it taken up, a job without its upload would fail at once
        waiting = {**job, "school_id": "waiting", "status": "previewed", "report": {}}
        now = datetime.now(UTC)
        await jobs.save({**waiting, "import_id": "c" * 16, "previewed_at": now.isoformat()})
        stale = (now - timedelta(hours=25)).isoformat()
        await jobs.save_upload("waiting", "d" * 16, "application/zip", oneroster())
        await jobs.save({**waiting, "import_id": "d" * 16, "previewed_at": stale})
    finally:
        await store.close()
    service = new_roster_service(tmp_path).start(worker=False)
    try:
        leader = sign(Role.leader, school=school_id)
        applying = f"/schools/{school_id}/imports/{'a' * 16}"
        done = await asyncio.to_thread(settle, service, applying, leader)
        assert done["status"] == "done", done
        assert done["report"]["added"] == 20
        # the school, 2 year groups, 4 classes, 20 pupils, 6 staff in 7 classes, the summary
        assert service.events(school_id) == 1 + 2 + 4 + 20 + 6 + 7 + 1
        validating = f"/schools/{school_id}/imports/{'b' * 16}"
        preview = await asyncio.to_thread(settle, service, validating, leader)
        assert preview["status"] == "previewed", preview
        assert service.events(school_id) == 1 + 2 + 4 + 20 + 6 + 7 + 1  # it wrote nothing
        head = sign(Role.leader, school="waiting")
        still = service.call("GET", f"/schools/waiting/imports/{'c' * 16}", head).json()
        assert still["status"] == "previewed", still
        # a preview nobody applied for a day has let its upload go, and cannot be applied
        expired = f"/schools/waiting/imports/{'d' * 16}"
        assert service.call("GET", expired, head).json()["status"] == "expired"
        refused = service.call("POST", f"{expired}/apply", head)
        assert refused.status_code == 409
        assert refused.json()["type"].endswith("/import-not-previewed")
        assert service.events("waiting") == 0
    finally:
        service.close()


def test_a_rebuilt_projection_equals_the_live_one(
    tmp_path: Path, oneroster: Callable[..., bytes], sign: Any, new_roster_service: Any
) -> None:
    service = new_roster_service(tmp_path).start()
    try:
        leader = sign(Role.leader, school="oak")
        imported(service, "oak", leader, oneroster())
        settled(service, "oak", leader, on_roll=20)
        live = pupils(service, "oak", leader, include_left=True)
        done = subprocess.run(
            [sys.executable, "-m", "schoolgate_roster", "rebuild", "roster.pupils"],
            env=service.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        assert "generation 2 is live" in done.stderr
        assert pupils(service, "oak", leader, include_left=True) == live
    finally:
        service.close()


# -- a dry run first, and no import that locks a school out ----------------------------------


def test_a_preview_writes_nothing_and_applying_it_applies_once(
    roster_service: Any, school_id: str, leader: str, oneroster: Callable[..., bytes]
) -> None:
    imported(roster_service, school_id, leader, oneroster())
    settled(roster_service, school_id, leader, on_roll=20)

    def arlo_is_gone(files: Files) -> None:
        for name in ("users.csv", "roles.csv", "enrollments.csv"):
            files[name] = "".join(
                line for line in files[name].splitlines(keepends=True) if "stu-0020" not in line
            )

    # without asking, an import is partial: nobody leaves
    _, partial = previewed(roster_service, school_id, leader, oneroster(arlo_is_gone))
    assert partial["full"] is False and partial["report"]["left"] == 0

    before = roster_service.events(school_id)
    location, job = previewed(
        roster_service, school_id, leader, oneroster(arlo_is_gone), full="true"
    )
    assert job["report"]["left"] == 1 and job["report"]["pupils"]["left"] == ["stu-0020"]
    assert job["report"]["school"]["source_id"] == "oakfield"
    assert job["report"]["skipped"].get("guardians", 0) >= 0  # counted by the reader
    settled(roster_service, school_id, leader, on_roll=20)  # Arlo is still on roll

    done = applied(roster_service, location, leader)
    assert done["report"]["left"] == 1
    after = roster_service.events(school_id)
    assert after == before + 2  # Arlo left, and the summary
    settled(roster_service, school_id, leader, on_roll=19, left=1)

    again = roster_service.call("POST", f"{location}/apply", leader)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["type"].endswith("/import-not-previewed")
    assert roster_service.events(school_id) == after
    missing = f"/schools/{school_id}/imports/0123456789abcdef/apply"
    assert roster_service.call("POST", missing, leader).status_code == 404


def test_a_full_import_keeps_the_leader_who_runs_it_and_staff_added_by_hand(
    roster_service: Any, school_id: str, oneroster: Callable[..., bytes], sign: Any
) -> None:
    admin = sign(Role.school_admin, school=school_id)
    school = {"name": "Oakfield Primary School"}
    assert roster_service.call("PUT", f"/schools/{school_id}", admin, json=school).is_success
    head = {"source_id": "head-1", "display_name": "Amara Bello", "role": "leader"}
    office = {"display_name": "Jo Reed", "email": "jo@oak.example", "role": "office"}
    made = {}
    for who, body in (("head", head), ("office", office)):
        answer = roster_service.call("POST", f"/schools/{school_id}/staff", admin, json=body)
        assert answer.status_code == 201, answer.text
        made[who] = answer.json()["staff_id"]
    leader = sign(Role.leader, school=school_id, subject=made["head"])

    report = imported(roster_service, school_id, leader, oneroster(), full="true")
    assert report["staff"]["left"] == []
    assert report["kept"] == [
        {"source_id": None, "staff_id": made["office"], "reason": "added_by_hand"},
        {"source_id": "head-1", "staff_id": made["head"], "reason": "requested_import"},
    ]
    staff = roster_service.call("GET", f"/schools/{school_id}/staff", leader).json()
    assert {made["head"], made["office"]} <= {s["staff_id"] for s in staff}
    assert len(staff) == 2 + 6


def test_another_schools_file_is_refused_unless_the_leader_says_it_is_theirs(
    roster_service: Any, school_id: str, leader: str, oneroster: Callable[..., bytes]
) -> None:
    school = {"name": "Elm Road Primary"}
    assert roster_service.call("PUT", f"/schools/{school_id}", leader, json=school).is_success
    location = start(roster_service, school_id, leader, oneroster(), ZIP, full="true")
    job = settle(roster_service, location, leader)
    assert job["status"] == "failed" and job["report"] is None
    assert job["problem"]["status"] == 422
    assert job["problem"]["type"].endswith("/wrong-school")
    assert "Oakfield Primary School" in job["problem"]["detail"]
    assert job["problem"]["schools"] == [
        {"source_id": "oakfield", "name": "Oakfield Primary School"}
    ]
    assert roster_service.events(school_id) == 1  # the school's registration alone

    # the leader says the file's school is theirs: it imports, and its id is recorded
    report = imported(roster_service, school_id, leader, oneroster(), full="true", org="oakfield")
    assert report["added"] == 20 and report["school"]["recorded"] is True

    def another_org(files: Files) -> None:
        for name in files:
            files[name] = files[name].replace("oakfield", "beechwood")

    # from now on a file of another school is refused, even one that only adds people
    location = start(roster_service, school_id, leader, oneroster(another_org), ZIP)
    job = settle(roster_service, location, leader)
    assert job["status"] == "failed", job
    assert job["problem"]["type"].endswith("/wrong-school")


def test_a_school_keeps_only_its_newest_unapplied_checks_and_checks_a_few_files_at_once(
    roster_service: Any, school_id: str, leader: str
) -> None:
    """Someone uploading file after file (a careless leader, a stolen session) cannot make
    the school keep each one for a day: the oldest unapplied checks let go of their files,
    and a school already checking several files is asked to wait, writing nothing."""
    answer = roster_service.call("PUT", f"/schools/{school_id}", leader, json={"name": "Elm Road"})
    assert answer.status_code == 201, answer.text
    locations = [previewed(roster_service, school_id, leader, SIMPLE.encode(), CSV)[0]]
    for _ in range(5):
        locations.append(previewed(roster_service, school_id, leader, SIMPLE.encode(), CSV)[0])
    statuses = [settle(roster_service, loc, leader)["status"] for loc in locations]
    assert statuses == ["expired"] + ["previewed"] * 5
    refused = roster_service.call("POST", f"{locations[0]}/apply", leader)
    assert refused.status_code == 409, refused.text

    before = roster_service.events(school_id)

    def upload(_: int) -> Any:
        path = f"/schools/{school_id}/imports"
        return roster_service.call("POST", path, leader, content=SIMPLE.encode(), headers=CSV)

    with ThreadPoolExecutor(max_workers=8) as pool:  # at once: reading one takes ~0.4 s
        answers = list(pool.map(upload, range(8)))
    codes = [a.status_code for a in answers]
    assert 429 in codes, codes  # reading is one file at a time: the rest queue, then wait
    busy = next(a for a in answers if a.status_code == 429)
    assert busy.json()["type"].endswith("/imports-busy")
    assert roster_service.events(school_id) == before
