"""A leader erases a pupil who has left, over real HTTP: their names read "removed" from then
on, in the answer, in the read models and in the log itself; a pupil on the roll is refused
and nothing is destroyed; erasing twice records it once."""

from __future__ import annotations

import sqlite3
from typing import Any

from schoolgate_contracts import registry
from schoolgate_kit.crypto import Keyring
from schoolgate_kit.identity import Role
from schoolgate_kit.keystores import SqliteKeyStore

from ..conftest import token  # type: ignore[import-not-found]


def problem(answer: Any, status: int, slug: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.json()["type"].endswith(f"/{slug}"), answer.text


def test_a_pupil_who_left_is_erased_and_reads_as_removed_everywhere(
    roster_service: Any, school_id: str, leader: str
) -> None:
    def call(method: str, path: str = "", **kwargs: Any) -> Any:
        return roster_service.call(method, f"/schools/{school_id}{path}", leader, **kwargs)

    assert call("PUT", json={"name": "Elm Road Primary"}).status_code == 201
    y3 = call("POST", "/year-groups", json={"name": "Year 3"}).json()["year_group_id"]
    ash = call("POST", "/classes", json={"name": "Ash", "year_group_id": y3}).json()["class_id"]
    body = {"source_id": "UPN-Quillon", "first_name": "Quillon", "surname": "Vexley"}
    pupil = call("POST", "/pupils", json={**body, "class_id": ash}).json()["pupil_id"]
    enrolled = call(
        "POST", "/pupils", json={"first_name": "Maisie", "surname": "Oddbody", "class_id": ash}
    )
    other = enrolled.json()["pupil_id"]
    roster_service.projected(enrolled)

    # on the roll: refused, and nothing destroyed
    problem(call("POST", f"/pupils/{pupil}/erase"), 409, "pupil-on-roll")
    assert call("GET", f"/pupils/{pupil}").json()["first_name"] == "Quillon"
    problem(call("POST", "/pupils/pup_nobody/erase"), 404, "roster-entry-not-found")

    assert call("POST", f"/pupils/{pupil}/leave").status_code == 200
    erased = call("POST", f"/pupils/{pupil}/erase")
    assert erased.status_code == 200, erased.text
    view = erased.json()
    assert (view["first_name"], view["surname"], view["source_id"]) == ("removed", "removed", None)
    assert view["erased"] is True and view["status"] == "erased"
    again = call("POST", f"/pupils/{pupil}/erase")
    assert again.status_code == 200 and again.json() == view
    roster_service.projected(erased)

    listed = {p["pupil_id"]: p for p in call("GET", "/pupils?include_left=true").json()}
    assert (listed[pupil]["first_name"], listed[pupil]["surname"]) == ("removed", "removed")
    assert listed[other]["first_name"] == "Maisie"  # nobody else touched

    conn = sqlite3.connect(roster_service.data_dir / "events.db")
    try:
        rows = conn.execute(
            "SELECT type, schema_version, data FROM events WHERE stream = ?",
            (f"roster-{school_id}",),
        ).fetchall()
    finally:
        conn.close()
    assert [t for t, _, _ in rows].count("PupilErased") == 1
    stored = b"".join(data.encode() for _, _, data in rows)
    assert b"Quillon" not in stored and b"Vexley" not in stored and b"Maisie" not in stored
    # read as any process reads it, the log itself now says "removed": the key is gone
    keyring = Keyring(
        roster_service.env["SCHOOLGATE_MASTER_KEY"],
        SqliteKeyStore(roster_service.data_dir / "private.db"),
    )
    enrolments = [
        registry.decode(t, v, d, where="test", opener=keyring.open)
        for t, v, d in rows
        if t == "PupilEnrolled"
    ]
    assert {(e.first_name, e.surname) for e in enrolments} == {  # type: ignore[attr-defined]
        ("removed", "removed"),
        ("Maisie", "Oddbody"),
    }
    # the record of the erasure names nobody: only ids
    [record] = [registry.decode(t, v, d, where="test") for t, v, d in rows if t == "PupilErased"]
    assert record.model_dump().keys() == {"pupil_id", "class_id", "erased_by"}


def test_a_member_of_staff_who_left_is_erased_and_nobody_leaves_by_themself(
    roster_service: Any, school_id: str, leader: str
) -> None:
    def call(method: str, path: str = "", **kwargs: Any) -> Any:
        return roster_service.call(method, f"/schools/{school_id}{path}", leader, **kwargs)

    assert call("PUT", json={"name": "Elm Road Primary"}).status_code == 201
    body = {"display_name": "Persimmon Quaile", "email": "p.quaile@elm.example", "role": "teacher"}
    staff = call("POST", "/staff", json=body).json()["staff_id"]
    head = call("POST", "/staff", json={**body, "display_name": "Head", "email": "h@elm.example"})
    problem(call("POST", f"/staff/{staff}/erase"), 409, "staff-still-here")
    # the leader's token says "head": a member of staff of that id cannot mark themself left
    assert head.status_code == 201
    problem(
        roster_service.call(
            "POST",
            f"/schools/{school_id}/staff/{head.json()['staff_id']}/leave",
            token(Role.leader, school=school_id, subject=head.json()["staff_id"]),
        ),
        409,
        "leaving-yourself",
    )
    assert call("POST", f"/staff/{staff}/leave").json()["status"] == "left"
    erased = call("POST", f"/staff/{staff}/erase")
    assert erased.status_code == 200, erased.text
    assert (erased.json()["display_name"], erased.json()["email"]) == ("removed", "removed")
    assert erased.json()["erased"] is True
    assert call("POST", f"/staff/{staff}/erase").json() == erased.json()
    problem(call("POST", "/staff/stf_nobody/leave"), 404, "roster-entry-not-found")

    keyring = Keyring(
        roster_service.env["SCHOOLGATE_MASTER_KEY"],
        SqliteKeyStore(roster_service.data_dir / "private.db"),
    )
    conn = sqlite3.connect(roster_service.data_dir / "events.db")
    try:
        rows = conn.execute(
            "SELECT type, schema_version, data FROM events WHERE stream = ? AND type = ?",
            (f"roster-{school_id}", "StaffMemberAdded"),
        ).fetchall()
    finally:
        conn.close()
    names = {
        registry.decode(t, v, d, where="test", opener=keyring.open).display_name  # type: ignore[attr-defined]
        for t, v, d in rows
    }
    assert names == {"removed", "Head"}


def test_a_leaver_is_erased_when_the_schools_retention_says_so(
    roster_service: Any, school_id: str, leader: str
) -> None:
    def call(method: str, path: str = "", **kwargs: Any) -> Any:
        return roster_service.call(method, f"/schools/{school_id}{path}", leader, **kwargs)

    assert call("PUT", json={"name": "Elm Road Primary"}).status_code == 201
    y3 = call("POST", "/year-groups", json={"name": "Year 3"}).json()["year_group_id"]
    ash = call("POST", "/classes", json={"name": "Ash", "year_group_id": y3}).json()["class_id"]
    leaver, staying = (
        call("POST", "/pupils", json={"first_name": n, "surname": "Quist", "class_id": ash}).json()[
            "pupil_id"
        ]
        for n in ("Ottoline", "Wilbur")
    )
    roster_service.projected()
    defaults = call("GET", "/retention").json()
    assert defaults == {
        "leavers_kept_days": None,
        "points_kept_months": 12,
        "messages_kept_months": 24,
    }
    left = call("POST", f"/pupils/{leaver}/leave")
    roster_service.projected(left)
    nothing = {"erased": [], "points_weeks_erased": 0}
    assert call("POST", "/retention/run").json() == nothing  # kept to the next term

    problem(call("PUT", "/retention", json={"leavers_kept_days": -1}), 422, "validation-error")
    chosen = call("PUT", "/retention", json={"leavers_kept_days": 0, "points_kept_months": 6})
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["leavers_kept_days"] == 0
    roster_service.projected(chosen)
    assert call("GET", "/retention").json()["points_kept_months"] == 6
    assert call("POST", "/retention/run").json() == {"erased": [leaver], "points_weeks_erased": 0}
    assert call("POST", "/retention/run").json() == nothing  # erased once
    roster_service.projected()
    listed = {p["pupil_id"]: p for p in call("GET", "/pupils?include_left=true").json()}
    assert listed[leaver]["first_name"] == "removed" and listed[leaver]["erased"]
    assert listed[staying]["first_name"] == "Wilbur"
