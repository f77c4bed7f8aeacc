"""A real school, opened as a head teacher would: `make run` on a fresh data directory prints
a one-time link; it opens the school and makes its first leader, once; nothing of a service
is reachable on the public port; and the demo can never start on the school's data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import ROOT, Process, start_embedded  # type: ignore[import-not-found]
from .conftest import client_for  # type: ignore[import-not-found]

LINK = re.compile(r"(http://\S+)/#open=(\S+)")
SCHOOL = {
    "name": "Elm Road Primary School",
    "timezone": "Europe/London",
    "working_days": [0, 1, 2, 3, 4],
    "day_starts": "08:30",
    "day_ends": "15:30",
}
HEAD = {
    "display_name": "Mrs Okafor",
    "email": "head@elmroad.example",
    "password": "a long pass phrase",
}


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[tuple[str, Process, Path]]:
    base, proc = start_embedded(tmp_path, demo=False)
    yield base, proc, tmp_path
    proc.stop()


def printed_token(proc: Process) -> str:
    found = LINK.findall(proc.log())
    assert found, proc.log()
    return str(found[-1][1])


def test_the_printed_link_opens_the_school_once(fresh: tuple[str, Process, Path]) -> None:
    base, proc, _ = fresh
    assert "Demo accounts" not in proc.log()
    token = printed_token(proc)
    client = client_for(base)
    assert client.get("/api/me").status_code == 401  # nobody can sign in yet

    wrong = client.post("/api/opening", json={"token": "x" * 40, "school": SCHOOL, "leader": HEAD})
    assert wrong.status_code == 401, wrong.text
    bad = client.post(
        "/api/opening",
        json={"token": token, "school": {**SCHOOL, "timezone": "Mars/Olympus"}, "leader": HEAD},
    )
    assert bad.status_code == 422, bad.text  # refused before the link is used up

    opened = client.post("/api/opening", json={"token": token, "school": SCHOOL, "leader": HEAD})
    assert opened.status_code == 201, opened.text
    me = opened.json()
    assert (me["role"], me["school_name"], me["display_name"]) == (
        "leader",
        "Elm Road Primary School",
        "Mrs Okafor",
    )
    assert me["school_id"].startswith("sch_")
    again = client_for(base).post(
        "/api/opening",
        json={"token": token, "school": SCHOOL, "leader": {**HEAD, "email": "x@y.z"}},
    )
    assert again.status_code == 401, again.text  # one school per link

    # the head teacher signs in again later, and builds the school from there
    head = client_for(base)
    signed = head.post("/api/session", json={"email": HEAD["email"], "password": HEAD["password"]})
    assert signed.status_code == 200, signed.text
    roster = f"/api/roster/schools/{me['school_id']}"
    school = head.get(roster).json()
    assert (school["day_starts"], school["day_ends"]) == ("08:30:00", "15:30:00")
    year = head.post(f"{roster}/year-groups", json={"name": "Year 3"}).json()
    klass = head.post(
        f"{roster}/classes", json={"name": "Oak", "year_group_id": year["year_group_id"]}
    ).json()
    way = head.post(f"{roster}/school-ways", json={"name": "Kindness"}).json()
    ada = head.post(
        f"{roster}/pupils",
        json={"first_name": "Ada", "surname": "Lovelace", "class_id": klass["class_id"]},
    ).json()
    award = head.post(
        "/api/awards",
        json={
            "pupil_id": ada["pupil_id"],
            "school_way_id": way["school_way_id"],
            "class_id": klass["class_id"],
        },
    )
    assert award.status_code == 201, award.text


def test_no_service_api_answers_on_the_public_port(fresh: tuple[str, Process, Path]) -> None:
    """The services trust the identity they are shown: a forged one must never reach them."""
    base, _, _ = fresh
    client = client_for(base)
    for path in (
        "/services/roster/schools/x/pupils",
        "/services/points/healthz",
        "/services/consent/schools/x/pupils/y/consent",
    ):
        answer = client.get(path, headers={"authorization": "Bearer forged"})
        assert answer.status_code == 404, (path, answer.text)


def test_a_restart_of_an_open_school_prints_no_link_and_the_demo_keeps_away(
    tmp_path: Path,
) -> None:
    base, proc = start_embedded(tmp_path, demo=False)
    try:
        token = printed_token(proc)
        opened = client_for(base).post(
            "/api/opening", json={"token": token, "school": SCHOOL, "leader": HEAD}
        )
        assert opened.status_code == 201, opened.text
    finally:
        proc.stop()
    base, proc = start_embedded(tmp_path, demo=False)
    try:
        log = proc.log_path.read_text(errors="replace")
        assert log.count("#open=") == 1, log[-3000:]  # only the first start's
        assert (
            client_for(base)
            .post("/api/opening", json={"token": token, "school": SCHOOL, "leader": HEAD})
            .status_code
            == 401
        )
    finally:
        proc.stop()
    demo = subprocess.run(
        [sys.executable, "-m", "schoolgate_embedded"],
        env={**os.environ, "SCHOOLGATE_DATA_DIR": str(tmp_path), "SCHOOLGATE_DEMO": "1"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert demo.returncode != 0
    assert "demo runs in a directory of its own" in demo.stderr
