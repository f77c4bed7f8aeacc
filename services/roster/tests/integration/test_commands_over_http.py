"""Changing a school's roster one command at a time, over real HTTP: each answer, each
problem, and that a refused request writes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from schoolgate_kit.identity import Role

Call = Any


def problem(answer: Any, status: int, slug: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = answer.json()
    assert body["type"].endswith(f"/{slug}"), body
    return body


@pytest.fixture
def call(roster_service: Any, school_id: str, leader: str) -> Call:
    def send(method: str, path: str = "", **kwargs: Any) -> Any:
        return roster_service.call(method, f"/schools/{school_id}{path}", leader, **kwargs)

    return send


def test_a_school_is_registered_then_changed(
    roster_service: Any, school_id: str, call: Call
) -> None:
    answer = call("PUT", json={"name": "Elm Road Primary"})
    assert answer.status_code == 201, answer.text
    assert answer.json() == {
        "school_id": school_id,
        "name": "Elm Road Primary",
        "timezone": "Europe/London",
        "working_days": [0, 1, 2, 3, 4],
        "day_starts": "08:00:00",
        "day_ends": "17:00:00",
        "week_start": 0,
        "terms": [],
        "holidays": [],
    }
    assert call("PUT", json={"name": "Elm Road Primary"}).status_code == 200
    assert roster_service.events(school_id) == 1  # the same details again: nothing new
    changed = call(
        "PUT",
        json={
            "name": "Elm Road Primary",
            "timezone": "Europe/Dublin",
            "day_starts": "08:30",
            "day_ends": "15:30",
            "week_start": 6,
            "terms": [{"name": "Autumn", "starts": "2026-09-01", "ends": "2026-12-18"}],
            "holidays": [{"name": "Half term", "starts": "2026-10-26", "ends": "2026-10-30"}],
        },
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["day_ends"] == "15:30:00"
    assert changed.json()["holidays"] == [
        {"name": "Half term", "starts": "2026-10-26", "ends": "2026-10-30"}
    ]
    assert roster_service.events(school_id) == 2
    roster_service.projected(changed)
    assert call("GET").json()["timezone"] == "Europe/Dublin"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "Elm", "timezone": "Mars/Olympus"},
        {"name": "Elm", "day_starts": "17:00", "day_ends": "08:00"},
        {"name": "Elm", "working_days": [0, 0]},
        {"name": "Elm", "working_days": [7]},
        {"name": "Elm", "week_start": 9},
        {"name": "Elm", "terms": [{"name": "T", "starts": "2026-12-01", "ends": "2026-09-01"}]},
        {"name": "Elm", "holidays": [{"name": "H", "starts": "2026-12-01", "ends": "2026-11-30"}]},
        {"name": "Elm", "district": "somewhere"},
    ],
    ids=[
        "no-name",
        "empty-name",
        "timezone",
        "hours",
        "days-twice",
        "day-7",
        "week-start",
        "term",
        "holiday",
        "extra-field",
    ],
)
def test_bad_school_details_are_422_and_write_nothing(
    roster_service: Any, school_id: str, call: Call, body: dict[str, Any]
) -> None:
    problem(call("PUT", json=body), 422, "validation-error")
    assert roster_service.events(school_id) == 0


def test_a_school_is_built_up_command_by_command(
    roster_service: Any, school_id: str, call: Call
) -> None:
    problem(
        call("POST", "/year-groups", json={"name": "Year 3"}),
        404,
        "school-not-found",
    )
    assert call("PUT", json={"name": "Elm Road Primary"}).status_code == 201

    year = {"name": "Year 3", "source_id": "Y3"}
    made = call("POST", "/year-groups", json=year)
    assert made.status_code == 201, made.text
    y3 = made.json()["year_group_id"]
    assert made.json() == {**year, "year_group_id": y3}
    assert y3.startswith("yg_")  # Schoolgate's own id, not the school's
    assert call("POST", "/year-groups", json=year).json()["year_group_id"] == y3  # a safe retry
    # no second Year 3, by whatever spelling
    assert call("POST", "/year-groups", json={"name": "year 3"}).json()["year_group_id"] == y3
    problem(call("POST", "/year-groups", json={**year, "name": "Year Four"}), 409, "id-taken")

    problem(
        call("POST", "/classes", json={"name": "Ash", "year_group_id": "yg_nowhere"}),
        422,
        "unknown-reference",
    )
    classes = {}
    for klass in ("ash", "birch"):
        body = {"source_id": klass, "name": klass.title(), "year_group_id": y3}
        answer = call("POST", "/classes", json=body)
        assert answer.status_code == 201, answer.text
        classes[klass] = answer.json()["class_id"]
    ash_id, birch_id = classes["ash"], classes["birch"]

    sam_khan = {"source_id": "p1", "first_name": "Sam", "surname": "Khan", "class_id": ash_id}
    answer = call("POST", "/pupils", json=sam_khan)
    assert answer.status_code == 201, answer.text
    assert answer.json()["display_name"] == "Sam" and answer.json()["year_group_id"] == y3
    p1 = answer.json()["pupil_id"]
    assert call("POST", "/pupils", json=sam_khan).json()["pupil_id"] == p1  # a safe retry
    sam_kelly = {**sam_khan, "source_id": "p2", "surname": "Kelly"}
    kelly = call("POST", "/pupils", json=sam_kelly).json()
    assert kelly["display_name"] == "Sam Ke."
    p2 = kelly["pupil_id"]
    problem(call("POST", "/pupils", json={**sam_khan, "surname": "Other"}), 409, "id-taken")

    moved = call("POST", f"/pupils/{p2}/move", json={"class_id": birch_id})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["class_id"], moved.json()["display_name"]) == (birch_id, "Sam")
    left = call("POST", f"/pupils/{p2}/leave")
    assert left.status_code == 200 and left.json()["status"] == "left"
    assert call("POST", f"/pupils/{p2}/leave").status_code == 200
    problem(call("POST", f"/pupils/{p2}/move", json={"class_id": ash_id}), 409, "pupil-left")
    problem(call("POST", "/pupils/p9/leave"), 404, "roster-entry-not-found")

    teacher = {
        "source_id": "t1",
        "display_name": "Grace Okafor",
        "email": "g.okafor@elm.example",
        "role": "teacher",
        "class_ids": [ash_id, birch_id],
    }
    answer = call("POST", "/staff", json=teacher)
    assert answer.status_code == 201, answer.text
    assert answer.json()["class_ids"] == sorted([ash_id, birch_id])
    problem(
        call("POST", "/staff", json={**teacher, "source_id": "t2", "class_ids": ["oak"]}),
        422,
        "unknown-reference",
    )

    way = {"name": "Kindness", "description": "We look after each other"}
    kindness = call("POST", "/school-ways", json=way).json()
    assert kindness["status"] == "active"
    assert call("POST", "/school-ways", json=way).json() == kindness  # a safe retry
    retiring = call("POST", f"/school-ways/{kindness['school_way_id']}/retire")
    assert retiring.json()["status"] == "retired"
    problem(call("POST", "/school-ways/courage/retire"), 404, "roster-entry-not-found")

    roster_service.projected(retiring)  # the last write: every earlier one is before it
    assert len(call("GET", "/pupils", params={"include_left": "true"}).json()) == 2
    ash = call("GET", f"/classes/{ash_id}/pupils")
    assert [(p["pupil_id"], p["display_name"]) for p in ash.json()] == [(p1, "Sam")]
    assert len(call("GET", "/staff").json()) == 1
    assert [w["status"] for w in call("GET", "/school-ways").json()] == ["retired"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/year-groups", {"year_group_id": "y3", "name": "Year 3"}),  # ids are ours
        ("POST", "/year-groups", {"source_id": "y\n3", "name": "Year 3"}),
        ("POST", "/year-groups", {"source_id": "y3", "name": "   "}),
        ("POST", "/classes", {"source_id": "ash", "name": "Ash"}),
        (
            "POST",
            "/pupils",
            {"source_id": "p1", "first_name": "Sam", "surname": "K", "class_id": "x" * 65},
        ),
        (
            "POST",
            "/pupils",
            {"pupil_id": "p1", "first_name": "Sam", "surname": "K", "class_id": "a"},
        ),
        ("POST", "/pupils", {"source_id": "p1", "first_name": "Sam", "class_id": "ash"}),
        (
            "POST",
            "/pupils",
            {"source_id": "x" * 201, "first_name": "S", "surname": "K", "class_id": "a"},
        ),
        ("POST", "/pupils/p1/move", {"class_id": "ash", "extra": True}),
        ("POST", "/pupils/p!1/leave", None),
        ("POST", "/staff", {"source_id": "t1", "display_name": "G", "role": "wizard"}),
        (
            "POST",
            "/staff",
            {"source_id": "t1", "display_name": "G", "role": "teacher", "email": "no"},
        ),
        ("POST", "/school-ways", {"name": "K", "description": "x" * 501}),
        ("POST", "/school-ways", {"school_way_id": "k", "name": "K"}),
        ("POST", "/school-ways", {"name": "K", "icon": "unicorn"}),
        ("PUT", "/school-ways/k", {"name": "K", "colour": "#ff0000"}),
        ("PUT", "/staff/t1", {"role": "wizard"}),
        ("PUT", "/staff/t1", {"role": "teacher", "class_ids": ["a b"]}),
        ("PUT", "/year-groups/y3", {"name": ""}),
        ("PUT", "/classes/ash", {"name": "Ash"}),
    ],
)
def test_bad_requests_are_422_and_write_nothing(
    roster_service: Any, school_id: str, call: Call, method: str, path: str, body: Any
) -> None:
    assert call("PUT", json={"name": "Elm Road Primary"}).status_code == 201
    problem(call(method, path, json=body), 422, "validation-error")
    assert roster_service.events(school_id) == 1


def test_reads_of_what_is_not_there_are_404(
    roster_service: Any, school_id: str, call: Call
) -> None:
    problem(call("GET"), 404, "school-not-found")
    assert call("PUT", json={"name": "Elm Road Primary"}).status_code == 201
    problem(call("GET", "/pupils/nobody"), 404, "roster-entry-not-found")
    problem(call("GET", "/classes/nowhere"), 404, "roster-entry-not-found")
    problem(call("GET", "/classes/nowhere/pupils"), 404, "roster-entry-not-found")


def test_a_leader_changes_staff_classes_year_groups_and_values_by_hand(
    roster_service: Any, school_id: str, call: Call, sign: Any
) -> None:
    assert call("PUT", json={"name": "Elm Road Primary"}).status_code == 201
    y3 = call("POST", "/year-groups", json={"name": "Year 3"}).json()["year_group_id"]
    y4 = call("POST", "/year-groups", json={"name": "Year 4"}).json()["year_group_id"]
    ash = call("POST", "/classes", json={"name": "Ash", "year_group_id": y3}).json()
    head = {"display_name": "Mrs Okafor", "email": "head@elm.example", "role": "leader"}
    me = call("POST", "/staff", json=head).json()["staff_id"]
    teacher = {"display_name": "Mr Price", "email": "price@elm.example", "role": "office"}
    price = call("POST", "/staff", json=teacher).json()["staff_id"]
    way = {"name": "Kindness", "icon": "heart", "colour": "red"}
    kindness = call("POST", "/school-ways", json=way).json()
    assert (kindness["icon"], kindness["colour"]) == ("heart", "red")

    made_teacher = call(
        "PUT", f"/staff/{price}", json={"role": "teacher", "class_ids": [ash["class_id"]]}
    )
    assert made_teacher.status_code == 200, made_teacher.text
    assert (made_teacher.json()["role"], made_teacher.json()["class_ids"]) == (
        "teacher",
        [ash["class_id"]],
    )
    # the head teaches too, but stays a leader: nobody changes their own role
    myself = sign(Role.leader, school=school_id, subject=me)
    path = f"/schools/{school_id}/staff/{me}"
    mine = roster_service.call(
        "PUT", path, myself, json={"role": "leader", "class_ids": [ash["class_id"]]}
    )
    assert mine.json()["class_ids"] == [ash["class_id"]]
    before = roster_service.events(school_id)
    problem(roster_service.call("PUT", path, myself, json={"role": "teacher"}), 409, "own-role")
    problem(call("PUT", "/year-groups/" + y3, json={"name": "year 4"}), 409, "name-taken")
    problem(call("PUT", "/staff/nobody", json={"role": "teacher"}), 404, "roster-entry-not-found")
    assert roster_service.events(school_id) == before

    renamed = call("PUT", f"/year-groups/{y4}", json={"name": "Year Four"})
    assert renamed.json()["name"] == "Year Four"
    moved = call("PUT", f"/classes/{ash['class_id']}", json={"name": "Ash", "year_group_id": y4})
    assert moved.json()["year_group_id"] == y4
    changed = call(
        "PUT",
        f"/school-ways/{kindness['school_way_id']}",
        json={"name": "Being kind", "icon": "smile", "colour": "teal"},
    )
    assert changed.status_code == 200, changed.text

    roster_service.projected(changed)
    staff = {s["staff_id"]: s for s in call("GET", "/staff").json()}
    assert staff[price]["role"] == "teacher"
    assert staff[price]["class_ids"] == staff[me]["class_ids"] == [ash["class_id"]]
    groups = {g["year_group_id"]: g["name"] for g in call("GET", "/year-groups").json()}
    assert groups == {y3: "Year 3", y4: "Year Four"}
    assert call("GET", "/classes").json()[0]["year_group_id"] == y4
    [value] = call("GET", "/school-ways").json()
    assert (value["name"], value["icon"], value["colour"]) == ("Being kind", "smile", "teal")
