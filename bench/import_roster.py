"""import_roster: a 2,000-pupil OneRoster export imported as a leader does it, dry run then apply.

The embedded app runs as `make demo` starts it, in a process of its own, on loopback. A leader
uploads a OneRoster export of ``PUPILS`` pupils in 60 classes (a large primary school, as a
partial import). Every import is checked first: the job reads the file in a process of its own
(``schoolgate_roster.reading``) and decides against the roster without writing ("previewed");
the leader then applies it, and the job decides again and appends ("done").

Figures, each beside a baseline from the same run:
- seconds from upload to the dry run's report, and from "apply" to done, beside the seconds a
  fresh process takes to unzip and parse the same files with the csv module alone;
- the peak memory of the process that reads the file, beside that csv-only process's: both
  their high-water marks (VmHWM), the reader's taken outside the app (``bench.read_alone``),
  because ``ReadResult.peak_bytes`` (``ru_maxrss``) counts the size of the process that
  spawned it, in the app the whole web process; it is listed beside, as the job reports it;
- GET /api/me p99 while the import is checked and applied, beside the same client with no
  import just before (the import used to be read in the web process and stalled it).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import statistics
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import csv_alone, read_alone
from bench.common import Result
from bench.serving import ms, serving

NAME = "import_roster"
PUPILS = 2_000
CLASSES = 60
SCHOOL = "demo-school"
LEADER = {"email": "leader@demo.school", "password": "demo-leader-pass"}
STAMP = "2026-08-28T09:00:00.000Z"
JOB_TIMEOUT = 600.0
"""Seconds a job may take before the benchmark gives up on it (bounded, never a hang)."""
READS = 3
"""Reads of the file outside the app, each way, alternated: the median is reported."""
MB = 1024 * 1024


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


# -- the import through the app ---------------------------------------------------------------


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


async def _until(client: httpx.AsyncClient, location: str, ends: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        answer = await client.get(location)
        answer.raise_for_status()
        job: dict[str, Any] = answer.json()
        if job["status"] in ends:
            return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"the import was still {job['status']} after {JOB_TIMEOUT:.0f} s")
        await asyncio.sleep(0.1)


@dataclass
class Steps:
    """The job as the dry run left it and as applying left it, and how long each took."""

    preview: dict[str, Any] = field(default_factory=dict)
    done: dict[str, Any] = field(default_factory=dict)
    preview_seconds: float = float("nan")
    apply_seconds: float = float("nan")


async def _import(client: httpx.AsyncClient, data: bytes, phases: list[asyncio.Event]) -> Steps:
    """Upload, wait for the dry run's report, apply, wait for done; each phase's end is
    signalled so that /api/me's latencies can be told apart."""
    checked, applied = phases
    steps = Steps()
    try:
        started = time.perf_counter()
        answer = await client.post(
            f"/api/roster/schools/{SCHOOL}/imports",
            content=data,
            headers={"content-type": "application/zip"},
            params={"full": "false"},
        )
        answer.raise_for_status()
        location = f"/api/roster/schools/{SCHOOL}/imports/{answer.json()['import_id']}"
        steps.preview = await _until(client, location, {"previewed", "failed"})
        steps.preview_seconds = time.perf_counter() - started
        if steps.preview["status"] != "previewed":
            raise RuntimeError(f"the dry run failed: {steps.preview['problem']}")
        checked.set()
        started = time.perf_counter()
        (await client.post(f"{location}/apply")).raise_for_status()
        steps.done = await _until(client, location, {"done", "failed"})
        steps.apply_seconds = time.perf_counter() - started
        if steps.done["status"] != "done":
            raise RuntimeError(f"applying failed: {steps.done['problem']}")
        return steps
    finally:
        checked.set()
        applied.set()


async def _me_during(client: httpx.AsyncClient, phases: list[asyncio.Event]) -> list[list[float]]:
    return [await _ask_me(client, phase) for phase in phases]


async def run(work: Path, *, quick: bool = False) -> list[Result]:
    pupils = 500 if quick else PUPILS
    data = export(pupils)

    csv_runs: list[tuple[float, int, int]] = []
    reader_runs: list[dict[str, float | int]] = []
    for _ in range(READS):
        csv_runs.append(await asyncio.to_thread(csv_alone.parse, data, timeout=JOB_TIMEOUT))
        reader_runs.append(await asyncio.to_thread(read_alone.measure, data, timeout=JOB_TIMEOUT))
    # the reader's own start (its process and imports) on a file of one pupil
    start_up = statistics.median(
        read_alone.measure(export(1, 1), timeout=JOB_TIMEOUT)["seconds"] for _ in range(READS)
    )
    csv_seconds = statistics.median(s for s, _, _ in csv_runs)
    csv_peak = statistics.median(p for _, _, p in csv_runs)
    reader_seconds = statistics.median(r["seconds"] for r in reader_runs)
    reader_reported = statistics.median(r["peak_bytes"] for r in reader_runs)
    reader_peak = statistics.median(r["high_water"] for r in reader_runs)

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

            phases = [asyncio.Event(), asyncio.Event()]
            importing = asyncio.create_task(_import(leader, data, phases))
            try:
                while_checked, while_applied = await _me_during(leader, phases)
                steps = await importing
            finally:
                if not importing.done():
                    importing.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await importing
    busy = while_checked + while_applied
    reading = steps.preview.get("reading") or {}
    report = steps.done.get("report") or {}
    csv_label = f"unzip + csv.reader alone in a fresh interpreter, median of {READS}, same run"
    common: dict[str, float | int | str] = {
        "pupils in the file": pupils,
        "zip size (KB)": round(len(data) / 1024),
    }

    def beside_csv(name: str, seconds: float, details: dict[str, float | int | str]) -> Result:
        return Result(
            name=name,
            unit="ms",
            figure=seconds * 1000,
            baseline=csv_seconds * 1000,
            baseline_label=csv_label,
            target="none set: beside parsing alone",
            met=None,
            higher_is_better=False,
            details={**common, **details},
        )

    return [
        beside_csv(
            "roster import dry run (upload to report)",
            steps.preview_seconds,
            {
                "reading in the app (s, from the job)": reading.get("seconds", "not reported"),
                "reader outside the app, median (s)": round(reader_seconds, 3),
                "of which its start, a one-pupil file (s)": round(start_up, 3),
                "rows read": steps.preview.get("total", 0),
            },
        ),
        beside_csv(
            "roster import apply (apply to done)",
            steps.apply_seconds,
            {
                "pupils added": report.get("added", 0),
                "events appended": report.get("events", 0),
            },
        ),
        Result(
            name="roster reading process peak memory",
            unit="MB",
            figure=reader_peak / MB,
            baseline=csv_peak / MB,
            baseline_label=f"the csv-alone process's high-water mark, median of {READS}, same run",
            target="none set: beside parsing alone",
            met=None,
            higher_is_better=False,
            details={
                **common,
                "figure": f"the reader's process's high-water mark (VmHWM), median of {READS}",
                "ReadResult.peak_bytes, same reads (MB)": round(reader_reported / MB, 1),
                "the job's reading.peak_bytes in the app (MB)": round(reading["peak_bytes"] / MB, 1)
                if reading.get("peak_bytes")
                else "not reported",
            },
        ),
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
                **common,
                "p99 during the dry run (ms)": round(ms(while_checked, 99), 1),
                "p99 while applying (ms)": round(ms(while_applied, 99), 1),
                "p50 while importing (ms)": round(ms(busy, 50), 1),
                "p50 idle (ms)": round(ms(idle, 50), 1),
                "max while importing (ms)": round(max(busy) * 1000, 1),
                "requests during the dry run": len(while_checked),
                "requests while applying": len(while_applied),
            },
        ),
    ]
