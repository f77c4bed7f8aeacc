"""Who may do what: every endpoint x every kind of caller x own / foreign / unknown target.

The expectations are the rules of deps.py written out once more, independently:

- staff act only in their own school, with the roles the endpoint names; a pupil, parent or
  invite that is not in that school is "not found", exactly as one that does not exist;
- parents act only on their own links (or read their own school's code of conduct);
- pupils, callers without a token and callers with a forged one get nothing.

Any other answer, and any difference between a foreign id and an unknown one, is a leak.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from schoolgate_kit.identity import Identity, Role, sign

from .conftest import ConsentService, auth, enrolled, token

S1, S2 = "school-1", "school-2"
OWN, FOREIGN, GHOST = "mx-own", "mx-foreign", "mx-ghost"  # in S1, in S2, nowhere
STAFF = frozenset(
    {Role.teacher, Role.teaching_assistant, Role.leader, Role.office, Role.school_admin}
)
INVITERS = frozenset({Role.teacher, Role.leader, Role.office, Role.school_admin})
OFFICE = frozenset({Role.leader, Role.office, Role.school_admin})
LEADER = frozenset({Role.leader})
POLICY = frozenset({Role.leader, Role.school_admin})
PUPIL_SCHOOL = {OWN: S1, FOREIGN: S2}


@dataclass(frozen=True)
class Caller:
    name: str
    role: Role | None
    school: str = S1
    linked: frozenset[str] = frozenset()
    headers: dict[str, str] = field(default_factory=dict, hash=False)

    @property
    def subject(self) -> str:
        return f"mx-{self.name}"


def _caller(
    name: str, role: Role, school: str = S1, linked: frozenset[str] = frozenset()
) -> Caller:
    return Caller(name, role, school, linked, auth(role, f"mx-{name}", school))


FORGED = sign(
    Identity(subject="mx-leader", role=Role.leader, school_id=S1),
    secret="not-the-secret-" + "z" * 30,
    now=datetime.now(UTC),
    ttl=timedelta(minutes=30),
)
CALLERS = [
    _caller("teacher", Role.teacher),
    _caller("ta", Role.teaching_assistant),
    _caller("leader", Role.leader),
    _caller("office", Role.office),
    _caller("admin", Role.school_admin),
    _caller("parent", Role.parent, linked=frozenset({OWN})),
    _caller("stranger", Role.parent),
    _caller("pupil", Role.pupil),
    _caller("leader2", Role.leader, S2),
    _caller("teacher2", Role.teacher, S2),
    _caller("parent2", Role.parent, S2, linked=frozenset({FOREIGN})),
    Caller("anonymous", None),
    Caller("forged", None, headers={"authorization": f"Bearer {FORGED}"}),
]
# parents the school knows: through a link to one of its pupils
KNOWN_PARENTS = {S1: {"mx-parent", "mx-victim"}, S2: {"mx-parent2"}}


@dataclass
class World:
    consent: ConsentService
    invites: dict[str, str]  # purpose -> invite id


@pytest.fixture(scope="module")
def world(consent: ConsentService) -> Iterator[World]:
    consent.seed(S1, enrolled(OWN))
    consent.seed(S2, enrolled(FOREIGN))
    with httpx.Client(base_url=consent.url, timeout=20) as http:
        _wait(lambda: _get(http, f"/schools/{S1}/pupils/{OWN}/media", S1).status_code == 200)
        _wait(lambda: _get(http, f"/schools/{S2}/pupils/{FOREIGN}/media", S2).status_code == 200)

        def invite(school: str, pupil: str) -> dict[str, Any]:
            answer = http.post(
                f"/schools/{school}/pupils/{pupil}/invites",
                headers=auth(Role.teacher, "mx-setup", school),
            )
            assert answer.status_code == 201, answer.text
            body: dict[str, Any] = answer.json()
            return body

        for parent, school, pupil in (
            ("mx-parent", S1, OWN),
            ("mx-victim", S1, OWN),
            ("mx-parent2", S2, FOREIGN),
        ):
            code = invite(school, pupil)["code"]
            answer = http.post(
                "/invites/redeem", headers=auth(Role.parent, parent, school), json={"code": code}
            )
            assert answer.json()["status"] == "linked", answer.text
        for school in (S1, S2):
            answer = http.put(
                f"/schools/{school}/code-of-conduct",
                headers=auth(Role.leader, "mx-setup", school),
                json={"text": "Be kind."},
            )
            assert answer.status_code == 200, answer.text
        invites = {
            "letter-own": invite(S1, OWN)["invite_id"],
            "revoke-own": invite(S1, OWN)["invite_id"],
            "letter-foreign": invite(S2, FOREIGN)["invite_id"],
        }
        _wait(
            lambda: (
                _get(http, f"/schools/{S1}/pupils/{OWN}/consent", S1).json()["guardians"].__len__()
                == 2
            )
        )
        _wait(lambda: _get(http, f"/schools/{S1}/code-of-conduct", S1).status_code == 200)
        _wait(lambda: _get(http, f"/schools/{S2}/code-of-conduct", S2).status_code == 200)
    yield World(consent, invites)


def _get(http: httpx.Client, path: str, school: str) -> httpx.Response:
    return http.get(path, headers=auth(Role.leader, "mx-setup", school))


def _wait(check: Any, within: float = 15) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "the world was not projected in time"
        time.sleep(0.05)


# -- the endpoints and who each lets in --------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    kind: str  # "pupil", "school", "parent", "invite", "me"
    staff: frozenset[Role] = frozenset()
    guardians: bool = False  # a parent linked to the pupil
    school_parents: bool = False  # a parent of the school
    parent_self: bool = False  # the parent the path names
    body: dict[str, Any] | None = None
    ok: int = 200
    ok_type: str | None = None


ENDPOINTS = [
    Endpoint("issue-invite", "POST", "/schools/{s}/pupils/{p}/invites", "pupil", INVITERS, ok=201),
    Endpoint("list-invites", "GET", "/schools/{s}/pupils/{p}/invites", "pupil", INVITERS),
    Endpoint("pupil-consent", "GET", "/schools/{s}/pupils/{p}/consent", "pupil", STAFF),
    Endpoint("pupil-media", "GET", "/schools/{s}/pupils/{p}/media", "pupil", STAFF),
    Endpoint(
        "media-consent",
        "PUT",
        "/schools/{s}/pupils/{p}/media-consent",
        "pupil",
        OFFICE,
        guardians=True,
        body={"granted": False},
    ),
    Endpoint(
        "care-status",
        "PUT",
        "/schools/{s}/pupils/{p}/care-status",
        "pupil",
        LEADER,
        body={"in_care": False},
    ),
    Endpoint(
        "media-exception",
        "POST",
        "/schools/{s}/pupils/{p}/media-exception",
        "pupil",
        LEADER,
        body={"reason": "r"},
        ok=409,
        ok_type="pupil-not-in-care",
    ),
    Endpoint(
        "decide-request",
        "POST",
        "/schools/{s}/pupils/{p}/guardian-requests/nope/decision",
        "pupil",
        LEADER,
        body={"decision": "approve", "reason": "r"},
        ok=404,
        ok_type="guardian-request-not-found",
    ),
    Endpoint("guardian-requests", "GET", "/schools/{s}/guardian-requests", "school", LEADER),
    Endpoint("school-media", "GET", "/schools/{s}/media", "school", STAFF),
    Endpoint(
        "publish-conduct",
        "PUT",
        "/schools/{s}/code-of-conduct",
        "school",
        POLICY,
        body={"text": "Be kind."},
    ),
    Endpoint(
        "read-conduct", "GET", "/schools/{s}/code-of-conduct", "school", STAFF, school_parents=True
    ),
    Endpoint(
        "accept-conduct",
        "POST",
        "/schools/{s}/code-of-conduct/acceptances",
        "school",
        school_parents=True,
        body={"version": 1},
    ),
    Endpoint(
        "invite-policy",
        "PUT",
        "/schools/{s}/invite-policy",
        "school",
        POLICY,
        body={"lifetime_days": 14},
    ),
    Endpoint("read-suspension", "GET", "/schools/{s}/parents/{q}/suspension", "parent", OFFICE),
    Endpoint(
        "parent-conduct",
        "GET",
        "/schools/{s}/parents/{q}/code-of-conduct",
        "parent",
        STAFF,
        parent_self=True,
    ),
    Endpoint(
        "suspend",
        "POST",
        "/schools/{s}/parents/{q}/suspension",
        "parent",
        LEADER,
        body={"reason": "matrix"},
    ),
    Endpoint("lift", "DELETE", "/schools/{s}/parents/{q}/suspension", "parent", LEADER),
    Endpoint("letter", "GET", "/schools/{s}/invites/{i}/letter", "invite", INVITERS),
    Endpoint("revoke", "POST", "/schools/{s}/invites/{i}/revoke", "invite", INVITERS),
    Endpoint("my-children", "GET", "/parents/me/children", "me", school_parents=True),
    Endpoint(
        "redeem",
        "POST",
        "/invites/redeem",
        "me",
        school_parents=True,
        body={"code": "ZZZZZ-ZZZZZ"},
        ok=422,
        ok_type="invite-not-valid",
    ),
]


@dataclass(frozen=True)
class Target:
    label: str
    school: str
    path: dict[str, str]
    exists_in_school: bool
    """Whether the named pupil, parent or invite belongs to the school in the path."""
    leak_twin: str | None = None
    """The label of a target naming something unknown: both must answer alike."""


def targets(endpoint: Endpoint, world: World) -> list[Target]:
    if endpoint.kind == "pupil":
        return [
            Target("own", S1, {"p": OWN}, True),
            Target("foreign", S1, {"p": FOREIGN}, False, leak_twin="ghost"),
            Target("ghost", S1, {"p": GHOST}, False),
            Target("other-school", S2, {"p": FOREIGN}, True),
        ]
    if endpoint.kind == "school":
        return [Target("own", S1, {}, True), Target("other-school", S2, {}, True)]
    if endpoint.kind == "parent":
        named = "mx-victim" if endpoint.name in {"suspend", "lift"} else "mx-parent"
        return [
            Target("own", S1, {"q": named}, True),
            Target("foreign", S1, {"q": "mx-parent2"}, False, leak_twin="ghost"),
            Target("ghost", S1, {"q": "mx-nobody"}, False),
            Target("other-school", S2, {"q": "mx-parent2"}, True),
        ]
    if endpoint.kind == "invite":
        own = world.invites["revoke-own" if endpoint.name == "revoke" else "letter-own"]
        return [
            Target("own", S1, {"i": own}, True),
            Target("foreign", S1, {"i": world.invites["letter-foreign"]}, False, "ghost"),
            Target("ghost", S1, {"i": "mx-no-invite"}, False),
            Target("other-school", S2, {"i": world.invites["letter-foreign"]}, True),
        ]
    return [Target("me", S1, {}, True)]


def let_in(endpoint: Endpoint, caller: Caller, target: Target) -> bool | int:
    """True when the rules let this caller in, else the status that refuses them."""
    if caller.role is None:
        return 401
    if caller.role is Role.pupil:
        return 403
    if caller.role is Role.parent:
        if endpoint.kind == "me":
            return True
        if endpoint.guardians:
            pupil = target.path["p"]
            return (pupil in caller.linked and PUPIL_SCHOOL.get(pupil) == target.school) or 403
        school_parent = caller.school == target.school or any(
            PUPIL_SCHOOL[p] == target.school for p in caller.linked
        )
        if endpoint.school_parents and school_parent:
            return True
        if endpoint.parent_self and target.path.get("q") == caller.subject and school_parent:
            return True
        return 403
    if caller.role not in endpoint.staff or caller.school != target.school:
        return 403
    if endpoint.kind == "parent":
        return target.path["q"] in KNOWN_PARENTS[target.school] or 404
    return target.exists_in_school or 404


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
def test_every_caller_gets_exactly_what_the_rules_allow(endpoint: Endpoint, world: World) -> None:
    wrong: list[str] = []
    with httpx.Client(base_url=world.consent.url, timeout=20) as http:
        for caller in CALLERS:
            answers: dict[str, httpx.Response] = {}
            for target in targets(endpoint, world):
                path = endpoint.path.format(s=target.school, **target.path)
                answer = http.request(
                    endpoint.method, path, headers=caller.headers, json=endpoint.body
                )
                answers[target.label] = answer
                verdict = let_in(endpoint, caller, target)
                want = endpoint.ok if verdict is True else verdict
                if answer.status_code != want:
                    wrong.append(
                        f"{caller.name} {endpoint.method} {path}: {answer.status_code},"
                        f" expected {want}: {answer.text[:160]}"
                    )
                    continue
                if verdict is True and endpoint.ok_type:
                    assert answer.json()["type"].endswith("/" + endpoint.ok_type), answer.text
                if verdict is not True:
                    assert answer.headers["content-type"] == "application/problem+json"
                    assert "Lovelace" not in answer.text and "Be kind" not in answer.text
            for target in targets(endpoint, world):
                if target.leak_twin is None:
                    continue
                one, twin = answers[target.label], answers[target.leak_twin]
                if (one.status_code, _type(one)) != (twin.status_code, _type(twin)):
                    wrong.append(
                        f"LEAK {caller.name} {endpoint.name}: {target.label} answers"
                        f" {one.status_code} {_type(one)}, unknown answers"
                        f" {twin.status_code} {_type(twin)}"
                    )
    assert wrong == [], "\n".join(wrong)


def _type(answer: httpx.Response) -> str:
    try:
        return str(answer.json().get("type", ""))
    except ValueError:
        return ""


def test_a_token_for_another_audience_or_expired_is_refused(world: World) -> None:
    stale = sign(
        Identity(subject="mx-leader", role=Role.leader, school_id=S1),
        secret=_secret(),
        now=datetime.now(UTC) - timedelta(hours=2),
        ttl=timedelta(minutes=5),
    )
    with httpx.Client(base_url=world.consent.url, timeout=20) as http:
        for bearer in (stale, token(Role.leader, "mx-leader", S1)[:-4] + "AAAA"):
            answer = http.get(
                f"/schools/{S1}/pupils/{OWN}/consent", headers={"authorization": f"Bearer {bearer}"}
            )
            assert answer.status_code == 401, answer.text


def _secret() -> str:
    from .conftest import SECRET

    return SECRET
