"""Invite letters for a whole class, or the whole school, in one request, over real HTTP: who
may ask, for which class, and that a refusal issues nothing.

A second school is seeded with a class of the same id and pupils of the same names: its
pupils never appear in the first school's letters, and its leader gets nothing there."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from schoolgate_contracts.roster import PupilEnrolled
from schoolgate_kit.identity import Role
from schoolgate_kit.testing.waiting import until_projected_sync

from .conftest import ConsentService, auth

RUN = uuid.uuid4().hex[:8]
S1, S2 = f"lt-one-{RUN}", f"lt-two-{RUN}"
C1, C2 = f"lt-c1-{RUN}", f"lt-c2-{RUN}"
"""Class ids; S2's class has C1's id too, as if two schools' ids had collided."""
ROLES = {
    "teacher-c1": (Role.teacher, S1, (C1,)),
    "ta-c1": (Role.teaching_assistant, S1, (C1,)),
    "teacher-c2": (Role.teacher, S1, (C2,)),
    "leader": (Role.leader, S1, ()),
    "office": (Role.office, S1, ()),
    "admin": (Role.school_admin, S1, ()),
    "parent": (Role.parent, S1, ()),
    "pupil": (Role.pupil, S1, ()),
    "leader-of-two": (Role.leader, S2, ()),
    "teacher-of-two": (Role.teacher, S2, (C1,)),
}
WHOLE_SCHOOL = {"leader", "office", "admin"}


def pupil(pupil_id: str, first: str, surname: str, class_id: str) -> PupilEnrolled:
    return PupilEnrolled(
        pupil_id=pupil_id, first_name=first, surname=surname, year_group_id="y3", class_id=class_id
    )


@pytest.fixture(scope="module")
def letters(consent: ConsentService) -> Iterator[ConsentService]:
    consent.seed(
        S1,
        pupil(f"lt-ada-{RUN}", "Ada", "Lovelace", C1),
        pupil(f"lt-ben-{RUN}", "Ben", "Okafor", C1),
        pupil(f"lt-cy-{RUN}", "Cy", "Price", C2),
    )
    consent.seed(S2, pupil(f"lt-zed-{RUN}", "Ada", "Lovelace", C1))
    with httpx.Client(base_url=consent.url, timeout=20) as http:
        until_projected_sync(http, consent.newest_position())
    yield consent


def ask(consent: ConsentService, who: str | None, body: dict[str, Any]) -> httpx.Response:
    headers = {}
    if who is not None:
        role, school, classes = ROLES[who]
        headers = auth(role, f"lt-{who}", school, classes=classes)
    return httpx.post(
        f"{consent.url}/schools/{S1}/invite-letters", json=body, headers=headers, timeout=20
    )


def expected(who: str | None, target: str) -> int:
    if who is None:
        return 401
    if who in WHOLE_SCHOOL:
        return 201
    if who in {"teacher-c1", "ta-c1"} and target == "class":
        return 201
    return 403


@pytest.mark.parametrize("target", ["class", "school"])
@pytest.mark.parametrize("who", [*ROLES, None])
def test_who_may_print_letters_for_a_class_or_the_school(
    letters: ConsentService, who: str | None, target: str
) -> None:
    body = {"class_id": C1} if target == "class" else {}
    before = letters.newest_position()
    answer = ask(letters, who, body)
    status = expected(who, target)
    assert answer.status_code == status, answer.text
    if status != 201:
        assert answer.headers["content-type"] == "application/problem+json"
        assert "Lovelace" not in answer.text
        assert letters.newest_position() == before, "a refusal issued invites"
        return
    children = [(letter["child"], letter["class_id"]) for letter in answer.json()["letters"]]
    if target == "class":
        assert children == [("Ada Lovelace", C1), ("Ben Okafor", C1)]
    else:
        assert children == [("Ada Lovelace", C1), ("Ben Okafor", C1), ("Cy Price", C2)]
    for letter in answer.json()["letters"]:
        assert letter["qr_svg"].startswith("<svg")
        assert letter["join_url"].endswith(letter["code"].replace("-", ""))
    assert answer.headers["cache-control"] == "no-store"


def test_each_letter_is_an_open_invite_recorded_as_printed(letters: ConsentService) -> None:
    answer = ask(letters, "office", {"class_id": C2})
    [letter] = answer.json()["letters"]
    with httpx.Client(base_url=letters.url, timeout=20) as http:
        until_projected_sync(http, letters.newest_position())
        office = auth(Role.office, "lt-office", S1)
        invites = http.get(f"/schools/{S1}/pupils/{letter['pupil_id']}/invites", headers=office)
        mine = [i for i in invites.json() if i["invite_id"] == letter["invite_id"]]
        assert [i["status"] for i in mine] == ["open"]
        leader = auth(Role.leader, "lt-leader", S1)
        activity = http.get(f"/schools/{S1}/invite-activity", headers=leader).json()
        printed = [
            a
            for a in activity["items"]
            if a.get("invite_id") == letter["invite_id"] and a.get("kind") == "printed"
        ]
        assert printed, activity["items"][:3]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"class_id": f"lt-ghost-{RUN}"}, 404),  # no such class here: nobody to invite
        ({"class_id": "a class"}, 422),
        ({"class_id": C1, "expires_in_days": 0}, 422),
        ({"class_id": C1, "pupils": ["x"]}, 422),
    ],
)
def test_a_class_with_nobody_or_a_bad_request_issues_nothing(
    letters: ConsentService, body: dict[str, Any], status: int
) -> None:
    before = letters.newest_position()
    answer = ask(letters, "leader", body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert letters.newest_position() == before
