"""A district of three schools whose records reuse the same ids (the same OneRoster export
imported by each, so each has a pupil "stu-0001" in a class "ash"): each school's journeys
give the same answers as when it was alone, and no school reaches another's children.

Issue "Safe to run for a real school and a real district", part 1: before the roster made
its own ids, the second school's Sam overwrote the first's everywhere outside the roster.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from schoolgate_kit.testing.waiting import GATEWAY_CAUGHT_UP_PATH, until_projected_sync

from ..conftest import ROOT, Process, start_embedded, until  # type: ignore[import-not-found]
from .conftest import client_for  # type: ignore[import-not-found]

ONEROSTER = ROOT / "services/roster/tests/fixtures/oneroster"
LINK = re.compile(r"/#open=(\S+)")
SAM, OTHER, ASH = "stu-0001", "stu-0020", "ash"  # Sam Khan in Ash, Arlo in Damson


def export() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for csv in sorted(ONEROSTER.glob("*.csv")):
            archive.writestr(csv.name, csv.read_text())
    return buffer.getvalue()


@dataclass
class School:
    name: str
    school_id: str
    head: httpx.Client
    parent: httpx.Client
    ids: dict[str, str]
    """This school's ids by the source ids of its file."""

    @property
    def roster(self) -> str:
        return f"/api/roster/schools/{self.school_id}"

    def award(self, source: str, way: str = "kindness") -> httpx.Response:
        answer = self.head.post(
            "/api/awards",
            json={"pupil_id": self.ids[source], "school_way_id": self.ids[way]},
        )
        assert answer.status_code == 201, answer.text
        return answer

    def projected(self, written: httpx.Response) -> None:
        until_projected_sync(self.head, written, path=GATEWAY_CAUGHT_UP_PATH)


def new_link(base: str, data: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "schoolgate_gateway.open_school"],
        env={
            **os.environ,
            "SCHOOLGATE_DATA_DIR": str(data),
            "SCHOOLGATE_PUBLIC_BASE_URL": base,
        },
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return str(LINK.findall(done.stdout)[-1])


async def open_school(base: str, token: str, n: int) -> School:
    name = f"School {n}"
    head = client_for(base)
    opened = head.post(
        "/api/opening",
        json={
            "token": token,
            "school": {"name": name},
            "leader": {
                "display_name": f"Head {n}",
                "email": f"head{n}@district.example",
                "password": "a long pass phrase",
            },
        },
    )
    assert opened.status_code == 201, opened.text
    school_id = opened.json()["school_id"]
    roster = f"/api/roster/schools/{school_id}"
    started = head.post(
        f"{roster}/imports",
        content=export(),
        headers={"content-type": "application/zip"},
        params={"full": "false"},
    )
    assert started.status_code == 202, started.text
    location = f"{roster}/imports/{started.json()['import_id']}"

    def reached(wanted: str) -> Callable[[], bool]:
        def check() -> bool:
            status = head.get(location).json()["status"]
            assert status != "failed", head.get(location).text
            return bool(status == wanted)

        return check

    # a job's status, not a projection: every import is checked first, then applied
    await until(reached("previewed"), within=60, why=f"{name}'s import check")
    applied = head.post(f"{location}/apply")
    assert applied.status_code == 202, applied.text
    await until(reached("done"), within=60, why=f"{name}'s import")
    way = head.post(f"{roster}/school-ways", json={"name": "Kindness"})
    assert way.status_code == 201, way.text

    def listed() -> dict[str, str] | None:
        pupils = head.get(f"{roster}/pupils").json()
        classes = head.get(f"{roster}/classes").json()
        years = head.get(f"{roster}/year-groups").json()
        ways = head.get(f"{roster}/school-ways").json()
        if len(pupils) < 20 or len(classes) < 4 or not ways:
            return None
        found = {p["source_id"]: p["pupil_id"] for p in pupils}
        found |= {c["source_id"]: c["class_id"] for c in classes}
        found |= {y["source_id"]: y["year_group_id"] for y in years}
        return found | {w["name"].lower(): w["school_way_id"] for w in ways}

    # appended after everything the import appended: once it is projected, so is the school
    until_projected_sync(head, way, path=GATEWAY_CAUGHT_UP_PATH)
    ids = listed()
    assert ids is not None, f"{name}'s read models"
    parent = join_as_parent(base, head, school_id, ids[SAM], n)
    return School(name, school_id, head, parent, ids)


def join_as_parent(
    base: str, head: httpx.Client, school_id: str, pupil_id: str, n: int
) -> httpx.Client:
    invite = head.post(f"/api/consent/schools/{school_id}/pupils/{pupil_id}/invites", json={})
    assert invite.status_code == 201, invite.text
    parent = client_for(base)
    who = {"email": f"parent{n}@families.example", "password": "another long phrase"}
    made = parent.post("/api/join/account", json={"display_name": f"Parent {n}", **who})
    assert made.status_code in {201, 202}, made.text
    assert parent.post("/api/session", json=who).status_code == 200
    redeemed = parent.post("/api/join/redeem", json={"code": invite.json()["code"]})
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["status"] == "linked", redeemed.text
    return parent


def answers(school: School) -> dict[str, Any]:
    """What the school's own people see, with its own ids put back as the file's."""
    names = {v: k for k, v in school.ids.items()} | {school.school_id: "the school"}

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {names.get(k, k): plain(v) for k, v in value.items() if k != "position"}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return names.get(value, value) if isinstance(value, str) else value

    sam = school.ids[SAM]
    head_me = school.head.get("/api/me").json()
    parent_me = school.parent.get("/api/me").json()
    return plain(
        {
            "head": {k: head_me[k] for k in ("role", "school_name", "classes", "school_ways")},
            "parent": {k: parent_me[k] for k in ("role", "children")},
            "sam_for_parent": school.parent.get(f"/api/pupils/{sam}/weekly-total").json()["total"],
            "sam_for_head": school.head.get(f"/api/pupils/{sam}/weekly-total").json()["total"],
            "ash_names": school.parent.get(
                f"{school.roster}/classes/{school.ids[ASH]}/names"
            ).json(),
            "ash": school.head.get(f"{school.roster}/classes/{school.ids[ASH]}/pupils").json(),
        }
    )


@pytest.fixture
def district(tmp_path: Path) -> Iterator[tuple[str, Path, Process]]:
    base, proc = start_embedded(tmp_path, demo=False)
    yield base, tmp_path, proc
    proc.stop()


async def test_three_schools_with_the_same_records_never_meet(
    district: tuple[str, Path, Process],
) -> None:
    base, data, proc = district
    first_link = LINK.findall(proc.log_path.read_text())[-1]
    alone = await open_school(base, first_link, 1)
    alone.projected(alone.award(SAM))
    assert answers(alone)["sam_for_parent"] == 1, "the first award shown"
    before = answers(alone)
    assert before["parent"]["children"][0]["pupil_id"] == SAM
    assert before["parent"]["children"][0]["name"] == "Sam Kh."

    others = [await open_school(base, new_link(base, data), n) for n in (2, 3)]
    for n, school in enumerate(others, start=2):
        for _ in range(n):
            given = school.award(SAM)
        school.projected(given)
        assert answers(school)["sam_for_parent"] == n, f"school {n}'s awards shown"
    # every school's own pupils have their own ids, though their records share theirs
    every = [alone, *others]
    sams = {school.ids[SAM] for school in every}
    assert len(sams) == 3

    # the first school sees just what it saw alone
    assert answers(alone) == before
    # and each other school sees its own Sam, its own class, its own family, the same way
    for n, school in enumerate(others, start=2):
        theirs = answers(school)
        assert {**theirs, "sam_for_parent": 1, "sam_for_head": 1} == {
            **before,
            "head": {**before["head"], "school_name": school.name},
            "parent": {
                **before["parent"],
                "children": [{**before["parent"]["children"][0], "school_name": school.name}],
            },
        }
        assert theirs["sam_for_parent"] == theirs["sam_for_head"] == n

    # nobody reaches another school's child, class or live stream by its id
    for school in every:
        for other in every:
            if other is school:
                continue
            their_sam = other.ids[SAM]
            for client in (school.head, school.parent):
                total = client.get(f"/api/pupils/{their_sam}/weekly-total")
                assert total.status_code in {403, 404}, total.text
                live = client.get(f"/api/live/pupils/{their_sam}")
                assert live.status_code in {403, 404}, live.text
            pupil = school.head.get(f"{school.roster}/pupils/{their_sam}")
            assert pupil.status_code == 404, pupil.text
            award = school.head.post(
                "/api/awards",
                json={"pupil_id": their_sam, "school_way_id": school.ids["kindness"]},
            )
            assert award.status_code in {403, 404, 422}, award.text
    assert answers(alone) == before
