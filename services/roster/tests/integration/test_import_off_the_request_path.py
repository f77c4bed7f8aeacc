"""A large or broken roster file is read in a process of its own: the API's memory stays
where it was, the upload answers before a row is read, and a job keeps only the first of
its file's problems.

Before, a 400 KB zip was unpacked and parsed in the API process (1.4 GB more, never given
back), and a failed 10 MB CSV left a 75 MB job record that was served back whole.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from schoolgate_kit.identity import Role

from ..conftest import sample_files  # type: ignore[import-not-found]

EXTRA_PUPILS = 120_000
"""Rows that take hundreds of MB as parsed Python, in a zip of about 2 MB."""


def vm_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def huge_broken_export() -> bytes:
    """The sample export with many more pupils, none in any class: every one a problem."""
    files = sample_files()
    header, *rows = files["users.csv"].splitlines()
    extra = (
        f"ghost-{n:06d},,2026-08-28T09:00:00.000Z,true,ghost{n},,Ghost,Number{n},,G{n},,,,,03,,,,,,,"
        "oakfield,"
        for n in range(EXTRA_PUPILS)
    )
    files["users.csv"] = "\n".join([header, *rows, *extra]) + "\n"
    roles = files["roles.csv"].splitlines()
    files["roles.csv"] = "\n".join(
        [
            *roles,
            *(
                f"role-g{n},,2026-08-28T09:00:00.000Z,ghost-{n:06d},primary,student,,,oakfield,"
                for n in range(EXTRA_PUPILS)
            ),
        ]
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_a_huge_broken_file_costs_the_api_nothing_and_its_job_stays_small(
    tmp_path: Path, sign: Callable[..., str], new_roster_service: Callable[[Path], Any]
) -> None:
    data = huge_broken_export()
    assert len(data) < 10 * 1024 * 1024  # under the upload limit
    service = new_roster_service(tmp_path).start(worker=False)
    try:
        api = service.processes["api"].pid
        school = "huge"
        leader = sign(Role.leader, school=school, subject="head")
        assert service.call("PUT", f"/schools/{school}", leader, json={"name": "Huge"}).is_success
        before = vm_rss_mb(api)
        started = service.call(
            "POST",
            f"/schools/{school}/imports",
            leader,
            content=data,
            headers={"content-type": "application/zip"},
            params={"full": "false"},
        )
        assert started.status_code == 202, started.text
        assert started.json()["status"] == "validating"  # answered before any row was read
        location = started.headers["location"]
        job = service.wait_import(school, location, leader, within=240)
        after = vm_rss_mb(api)
        assert job["status"] == "failed", job
        problem = job["problem"]
        assert len(problem["errors"]) == 200
        assert problem["errors_not_shown"] >= EXTRA_PUPILS - 200
        assert job["total"] > EXTRA_PUPILS  # every row was counted, in the reading process
        answer = service.call("GET", location, leader)
        assert len(answer.content) < 64 * 1024  # the job record is bounded, whatever the file
        # the API process did not read the file: its memory is where it was
        assert after - before < 60, (before, after)
        assert service.events(school) == 1  # nothing imported
    finally:
        service.close()


async def test_the_reading_process_reports_its_own_peak_memory_not_its_parents() -> None:
    """A spawned process's ``ru_maxrss`` starts at its parent's size; a web process far
    larger than a small file's reader must not be reported as the reader's peak."""
    from schoolgate_roster.reading import Reader

    ballast = bytearray(400 * 1024 * 1024)  # this process, as a web process grown large
    ballast[::4096] = b"\1" * len(ballast[::4096])  # touched, so it is resident
    data = "pupil_id,first_name,surname,year_group,class\np1,Ada,Lovelace,Year 3,Oak\n"
    result = await Reader().read(
        "text/csv", data.encode(), school_id="sch_a", progress=lambda done, total: None
    )
    assert result.total == 1
    assert 1024 * 1024 < result.peak_bytes < 300 * 1024 * 1024, result.peak_bytes
    del ballast
