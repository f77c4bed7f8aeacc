"""import_me: how soon GET /api/me answers while a large roster import runs.

The embedded app runs as `make demo` starts it, in a process of its own. A leader uploads a
OneRoster export of ``PUPILS`` pupils in 60 classes (a large primary school, as a partial
import); while the job reads and applies it, one client asks GET /api/me back to back, as a
signed-in page would. Baseline: the same client with no import, in the same run, just before.

The import is read in a process of its own (``schoolgate_roster.reading``): before, it was
unpacked and parsed in the web process, which held every request up for seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import time
import zipfile
from pathlib import Path

import httpx

from bench.common import Result
from bench.serving import ms, serving

NAME = "import_me"
PUPILS = 2_000
CLASSES = 60
SCHOOL = "demo-school"
LEADER = {"email": "leader@demo.school", "password": "demo-leader-pass"}
STAMP = "2026-08-28T09:00:00.000Z"


def export(pupils: int = PUPILS, classes: int = CLASSES) -> bytes:
    """A OneRoster 1.2 export of one school: ``classes`` classes, a teacher each, ``pupils``
    pupils spread over them."""
    files: dict[str, list[str]] = {
        "manifest.csv": ["propertyName,value", "manifest.version,1.0", "oneroster.version,1.2"],
        "orgs.csv": [
            "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
            f"bench-school,,{STAMP},Bench Primary School,school,URN 1,",
        ],
        "academicSessions.csv": [
            "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,"
            "schoolYear",
            f"sy,,{STAMP},2026/27,schoolYear,2026-09-01,2027-07-21,,2027",
        ],
        "classes.csv": [
            "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,"
            "location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods"
        ],
        "users.csv": [
            "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,"
            "middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,"
            "userMasterIdentifier,resourceSourcedIds,preferredGivenName,preferredMiddleName,"
            "preferredFamilyName,primaryOrgSourcedId,pronouns"
        ],
        "roles.csv": [
            "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,"
            "orgSourcedId,userProfileSourcedId"
        ],
        "enrollments.csv": [
            "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,"
            "primary,beginDate,endDate"
        ],
    }
    for c in range(classes):
        grade = f"{1 + c % 6:02d}"
        files["classes.csv"].append(
            f"class-{c},,{STAMP},Class {c},{grade},course,C{c},homeroom,,bench-school,sy,,,"
        )
        files["users.csv"].append(
            f"teacher-{c},,{STAMP},true,t{c},,Teacher,Number{c},,T{c},t{c}@bench.example,,,,,"
            ",,,,,,bench-school,"
        )
        files["roles.csv"].append(f"role-t{c},,{STAMP},teacher-{c},primary,teacher,,,bench-school,")
        files["enrollments.csv"].append(
            f"enr-t{c},,{STAMP},class-{c},bench-school,teacher-{c},teacher,true,,"
        )
    for p in range(pupils):
        c = p % classes
        grade = f"{1 + c % 6:02d}"
        files["users.csv"].append(
            f"pupil-{p},,{STAMP},true,p{p},,Pupil{p},Family{p},,P{p},,,,,{grade},"
            ",,,,,,bench-school,"
        )
        files["roles.csv"].append(f"role-p{p},,{STAMP},pupil-{p},primary,student,,,bench-school,")
        files["enrollments.csv"].append(
            f"enr-p{p},,{STAMP},class-{c},bench-school,pupil-{p},student,,,"
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, lines in files.items():
            archive.writestr(name, "\n".join(lines) + "\n")
    return buffer.getvalue()


async def _ask_me(client: httpx.AsyncClient, until: asyncio.Event | float) -> list[float]:
    """GET /api/me back to back until ``until`` is set (or that many seconds have passed)."""
    latencies: list[float] = []
    deadline = time.monotonic() + until if isinstance(until, float) else None
    while True:
        if isinstance(until, asyncio.Event) and until.is_set():
            return latencies
        if deadline is not None and time.monotonic() > deadline:
            return latencies
        started = time.perf_counter()
        answer = await client.get("/api/me")
        answer.raise_for_status()
        latencies.append(time.perf_counter() - started)


async def run(work: Path, *, quick: bool = False) -> list[Result]:
    pupils = 500 if quick else PUPILS
    data = export(pupils)
    env = {
        **os.environ,
        "SCHOOLGATE_DATA_DIR": str(work / "embedded"),
        "SCHOOLGATE_ENVIRONMENT": "development",
        "SCHOOLGATE_DEMO": "1",
        "SCHOOLGATE_LOG_LEVEL": "WARNING",
    }
    (work / "embedded").mkdir(parents=True, exist_ok=True)
    with serving("embedded", ["schoolgate_embedded"], env, work / "embedded") as base:
        async with httpx.AsyncClient(base_url=base, timeout=60) as leader:
            (await leader.post("/api/session", json=LEADER)).raise_for_status()
            await _ask_me(leader, 2.0)  # warm up
            idle = await _ask_me(leader, 5.0 if quick else 10.0)

            done = asyncio.Event()
            importing = asyncio.create_task(_import(leader, data, done))
            try:
                busy = await _ask_me(leader, done)
                seconds, status = await importing
            finally:
                if not importing.done():
                    importing.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await importing
    return [
        Result(
            name="GET /api/me p99 while a roster import runs",
            unit="ms",
            figure=ms(busy, 99),
            baseline=ms(idle, 99),
            baseline_label="p99 with no import, same run",
            target="none set: beside its idle baseline",
            met=None,
            higher_is_better=False,
            details={
                "pupils in the file": pupils,
                "zip size (KB)": round(len(data) / 1024),
                "import seconds (upload to done)": round(seconds, 1),
                "import status": status,
                "p50 while importing (ms)": round(ms(busy, 50), 1),
                "p50 idle (ms)": round(ms(idle, 50), 1),
                "max while importing (ms)": round(max(busy) * 1000, 1),
                "requests while importing": len(busy),
            },
        )
    ]


async def _import(client: httpx.AsyncClient, data: bytes, done: asyncio.Event) -> tuple[float, str]:
    started = time.perf_counter()
    try:
        answer = await client.post(
            f"/api/roster/schools/{SCHOOL}/imports",
            content=data,
            headers={"content-type": "application/zip"},
            params={"full": "false"},
        )
        answer.raise_for_status()
        location = f"/api/roster/schools/{SCHOOL}/imports/{answer.json()['import_id']}"
        while True:
            job = (await client.get(location)).json()
            if job["status"] in {"done", "failed"}:
                return time.perf_counter() - started, str(job["status"])
            await asyncio.sleep(0.1)
    finally:
        done.set()
