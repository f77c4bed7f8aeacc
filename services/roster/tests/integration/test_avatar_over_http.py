"""A pupil's monster, over real HTTP: who may choose it, what a refusal writes (nothing), and
that the choice shows wherever the pupil is listed."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from schoolgate_kit.identity import Role

ASH_PUPIL, BIRCH_PUPIL = "p-ash", "p-birch"


@pytest.fixture(scope="module")
def built(roster_service: Any, sign: Callable[..., str]) -> tuple[str, dict[str, str]]:
    """A school of two classes with a pupil in each, projected and ready; the roster's ids
    by the ids this test gave as source ids."""
    school_id = f"monsters-{uuid.uuid4().hex[:8]}"
    head = sign(Role.leader, school=school_id, subject="head")
    base = f"/schools/{school_id}"
    setup: list[tuple[str, str, dict[str, Any]]] = [
        ("PUT", "", {"name": "Monster Primary"}),
        ("POST", "/year-groups", {"year_group_id": "y3", "name": "Year 3"}),
        ("POST", "/classes", {"class_id": "ash", "name": "Ash", "year_group_id": "y3"}),
        ("POST", "/classes", {"class_id": "birch", "name": "Birch", "year_group_id": "y3"}),
        (
            "POST",
            "/pupils",
            {"pupil_id": ASH_PUPIL, "first_name": "Ada", "surname": "Ash", "class_id": "ash"},
        ),
        (
            "POST",
            "/pupils",
            {"pupil_id": BIRCH_PUPIL, "first_name": "Ben", "surname": "Birch", "class_id": "birch"},
        ),
    ]
    ids = roster_service.build(school_id, head, setup)
    roster_service.projected()
    assert len(roster_service.call("GET", f"{base}/pupils", head).json()) == 2
    return school_id, ids


@pytest.fixture(scope="module")
def school(built: tuple[str, dict[str, str]]) -> str:
    return built[0]


@pytest.fixture(scope="module")
def ids(built: tuple[str, dict[str, str]]) -> dict[str, str]:
    return built[1]


def who(
    sign: Callable[..., str], role: Role, school: str, *, subject: str = "someone", **scope: Any
) -> str:
    return str(sign(role, school=school, subject=subject, **scope))


# (case, role, subject, classes, children, pupil asked about, answer)
CASES: list[tuple[str, Role, str, set[str], set[str], str, int]] = [
    ("the-pupil-themself", Role.pupil, ASH_PUPIL, set(), set(), ASH_PUPIL, 200),
    ("another-pupil", Role.pupil, BIRCH_PUPIL, set(), set(), ASH_PUPIL, 403),
    ("their-teacher", Role.teacher, "t-ash", {"ash"}, set(), ASH_PUPIL, 200),
    ("their-assistant", Role.teaching_assistant, "ta-ash", {"ash"}, set(), ASH_PUPIL, 200),
    ("another-classs-teacher", Role.teacher, "t-birch", {"birch"}, set(), ASH_PUPIL, 403),
    ("a-leader", Role.leader, "head", set(), set(), BIRCH_PUPIL, 200),
    ("a-school-admin", Role.school_admin, "admin", set(), set(), BIRCH_PUPIL, 200),
    ("the-office", Role.office, "office", set(), set(), ASH_PUPIL, 403),
    ("their-parent", Role.parent, "g-1", set(), {ASH_PUPIL}, ASH_PUPIL, 403),
]


@pytest.mark.parametrize(
    ("role", "subject", "classes", "children", "pupil", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_who_may_choose_a_pupils_monster(
    roster_service: Any,
    school: str,
    ids: dict[str, str],
    sign: Callable[..., str],
    role: Role,
    subject: str,
    classes: set[str],
    children: set[str],
    pupil: str,
    expected: int,
) -> None:
    token = who(
        sign,
        role,
        school,
        subject=ids.get(subject, subject),
        classes=frozenset(ids[c] for c in classes),
        pupils=frozenset(ids[c] for c in children),
    )
    avatar = f"m-{uuid.uuid4().hex[:6]}"
    before = roster_service.events(school)
    answer = roster_service.call(
        "PUT", f"/schools/{school}/pupils/{ids[pupil]}/avatar", token, json={"avatar": avatar}
    )
    assert answer.status_code == expected, answer.text
    if expected != 200:
        assert answer.headers["content-type"] == "application/problem+json"
        assert "Ash" not in answer.text and "Birch" not in answer.text
        assert roster_service.events(school) == before, "a refused choice wrote events"
        return
    assert answer.json()["avatar"] == avatar
    assert roster_service.events(school) == before + 1
    if role is Role.pupil:
        assert "surname" not in answer.json()


def test_another_schools_people_may_not_choose(
    roster_service: Any, school: str, ids: dict[str, str], sign: Callable[..., str]
) -> None:
    before = roster_service.events(school)
    ada = ids[ASH_PUPIL]
    for role in (Role.leader, Role.teacher):
        token = who(sign, role, "another-school", subject="x", classes=frozenset({ids["ash"]}))
        answer = roster_service.call(
            "PUT", f"/schools/{school}/pupils/{ada}/avatar", token, json={"avatar": "m-1"}
        )
        assert answer.status_code == 403, answer.text
    anonymous = roster_service.call(
        "PUT", f"/schools/{school}/pupils/{ada}/avatar", json={"avatar": "m-1"}
    )
    assert anonymous.status_code == 401
    assert roster_service.events(school) == before


@pytest.mark.parametrize(
    "body", [{}, {"avatar": ""}, {"avatar": "x" * 41}, {"avatar": "a\nb"}, {"avatar": 7}]
)
def test_a_bad_monster_is_refused(
    roster_service: Any,
    school: str,
    ids: dict[str, str],
    sign: Callable[..., str],
    body: dict[str, Any],
) -> None:
    token = who(sign, Role.pupil, school, subject=ids[ASH_PUPIL])
    before = roster_service.events(school)
    answer = roster_service.call(
        "PUT", f"/schools/{school}/pupils/{ids[ASH_PUPIL]}/avatar", token, json=body
    )
    assert answer.status_code == 422, answer.text
    assert roster_service.events(school) == before


def test_the_chosen_monster_shows_in_the_class_list_and_to_the_pupil(
    roster_service: Any, school: str, ids: dict[str, str], sign: Callable[..., str]
) -> None:
    ben, birch = ids[BIRCH_PUPIL], ids["birch"]
    pupil = who(sign, Role.pupil, school, subject=ben)
    teacher = who(sign, Role.teacher, school, subject="t-birch", classes=frozenset({birch}))
    chosen = roster_service.call(
        "PUT", f"/schools/{school}/pupils/{ben}/avatar", pupil, json={"avatar": "dragon-3"}
    )
    assert chosen.status_code == 200, chosen.text
    again = roster_service.call(
        "PUT", f"/schools/{school}/pupils/{ben}/avatar", pupil, json={"avatar": "dragon-3"}
    )
    assert again.status_code == 200  # the same choice again: nothing new

    roster_service.projected(chosen)
    found = roster_service.call("GET", f"/schools/{school}/classes/{birch}/pupils", teacher)
    assert found.json()[0]["avatar"] == "dragon-3"
    own = roster_service.call("GET", f"/schools/{school}/pupils/{ben}", pupil).json()
    assert own["avatar"] == "dragon-3"
    assert "surname" not in own


def test_a_pupil_who_left_keeps_their_monster_and_it_cannot_change(
    roster_service: Any, school: str, ids: dict[str, str], sign: Callable[..., str]
) -> None:
    head = who(sign, Role.leader, school, subject="head")
    base = f"/schools/{school}/pupils"
    body = {"source_id": "p-gone", "first_name": "Gus", "surname": "Gone", "class_id": ids["ash"]}
    enrolled = roster_service.call("POST", base, head, json=body)
    assert enrolled.status_code == 201
    gus = enrolled.json()["pupil_id"]
    assert roster_service.call(
        "PUT", f"{base}/{gus}/avatar", head, json={"avatar": "owl"}
    ).is_success
    assert roster_service.call("POST", f"{base}/{gus}/leave", head).status_code == 200
    refused = roster_service.call("PUT", f"{base}/{gus}/avatar", head, json={"avatar": "cat"})
    assert refused.status_code == 409, refused.text
    back = roster_service.call("POST", base, head, json=body)  # coming back: found by source id
    assert back.status_code == 201, back.text
    assert back.json()["avatar"] == "owl"
    assert back.json()["pupil_id"] == gus
