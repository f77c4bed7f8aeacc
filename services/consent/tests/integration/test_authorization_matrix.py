"""Who may do what: every endpoint x every kind of caller x own / other-class / foreign /
unknown target.

The expectations are the rules of deps.py written out once more, independently:

- staff act only in their own school, with the roles the endpoint names; a pupil, parent or
  invite that is not in that school is "not found", exactly as one that does not exist;
- where an endpoint is class-bound (invites, a pupil's guardians), teachers and assistants
  act only on pupils of their own classes; the office, leaders and admin on every pupil;
- parents act only on their own links (or read their own school's code of conduct), and
  only once they accepted the school's code of conduct, except to read and accept it, list
  their links and redeem a code;
- pupils, callers without a token and callers with a forged one get nothing.

Any other answer, and any difference between a foreign id and an unknown one, is a leak.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from schoolgate_kit.app import POSITION_HEADER
from schoolgate_kit.identity import Identity, Role, sign
from schoolgate_kit.testing.waiting import until_projected_sync

from .conftest import ConsentService, auth, enrolled, token

# schools of their own: this suite publishes codes of conduct, which bind their parents
S1, S2 = "mx-school-1", "mx-school-2"
OWN, OTHER, FOREIGN, GHOST = "mx-own", "mx-other", "mx-foreign", "mx-ghost"
"""In S1 class mx-c1, in S1 class mx-c2, in S2 class mx-c9, nowhere."""
CLASS_OF = {OWN: "mx-c1", OTHER: "mx-c2", FOREIGN: "mx-c9"}
PUPIL_SCHOOL = {OWN: S1, OTHER: S1, FOREIGN: S2}
STAFF = frozenset(
    {Role.teacher, Role.teaching_assistant, Role.leader, Role.office, Role.school_admin}
)
CLASSROOM = frozenset({Role.teacher, Role.teaching_assistant})
INVITERS = STAFF
OFFICE = frozenset({Role.leader, Role.office, Role.school_admin})
GUARDIAN_READERS = OFFICE | {Role.teacher}
LEADER = frozenset({Role.leader})
POLICY = frozenset({Role.leader, Role.school_admin})


@dataclass(frozen=True)
class Caller:
    name: str
    role: Role | None
    school: str = S1
    linked: frozenset[str] = frozenset()
    headers: dict[str, str] = field(default_factory=dict, hash=False)
    classes: frozenset[str] = frozenset()
    accepted: bool = True
    """A parent who accepted the code of conduct of their school."""

    @property
    def subject(self) -> str:
        return f"mx-{self.name}"


def _caller(
    name: str,
    role: Role,
    school: str = S1,
    linked: frozenset[str] = frozenset(),
    classes: tuple[str, ...] = (),
    accepted: bool = True,
) -> Caller:
    headers = auth(role, f"mx-{name}", school, classes=classes)
    return Caller(name, role, school, linked, headers, frozenset(classes), accepted)


FORGED = sign(
    Identity(subject="mx-leader", role=Role.leader, school_id=S1),
    secret="not-the-secret-" + "z" * 30,
    now=datetime.now(UTC),
    ttl=timedelta(minutes=30),
)
CALLERS = [
    _caller("teacher", Role.teacher, classes=("mx-c1",)),
    _caller("ta", Role.teaching_assistant, classes=("mx-c1",)),
    _caller("teacher-c2", Role.teacher, classes=("mx-c2",)),
    _caller("ta-c2", Role.teaching_assistant, classes=("mx-c2",)),
    _caller("leader", Role.leader),
    _caller("office", Role.office),
    _caller("admin", Role.school_admin),
    _caller("parent", Role.parent, linked=frozenset({OWN})),
    _caller("unaccepted", Role.parent, linked=frozenset({OTHER}), accepted=False),
    _caller("stranger", Role.parent, accepted=False),
    _caller("pupil", Role.pupil),
    _caller("leader2", Role.leader, S2),
    _caller("teacher2", Role.teacher, S2, classes=("mx-c9",)),
    _caller("parent2", Role.parent, S2, linked=frozenset({FOREIGN})),
    Caller("anonymous", None),
    Caller("forged", None, headers={"authorization": f"Bearer {FORGED}"}),
]
# parents the school knows: through a link to one of its pupils
KNOWN_PARENTS = {S1: {"mx-parent", "mx-victim", "mx-unaccepted"}, S2: {"mx-parent2"}}


@dataclass
class World:
    consent: ConsentService
    invites: dict[str, str]  # purpose -> invite id


@pytest.fixture(scope="module")
def world(consent: ConsentService) -> Iterator[World]:
    consent.seed(S1, enrolled(OWN, class_id=CLASS_OF[OWN]), enrolled(OTHER, class_id="mx-c2"))
    consent.seed(S2, enrolled(FOREIGN, class_id=CLASS_OF[FOREIGN]))
    with httpx.Client(base_url=consent.url, timeout=20) as http:
        _projected(http, consent)
        for school, pupil in ((S1, OWN), (S1, OTHER), (S2, FOREIGN)):
            path = f"/schools/{school}/pupils/{pupil}/media"
            assert _get(http, path, school).status_code == 200, path

        def invite(school: str, pupil: str) -> dict[str, Any]:
            answer = http.post(
                f"/schools/{school}/pupils/{pupil}/invites",
                headers=auth(Role.office, "mx-setup", school),
            )
            assert answer.status_code == 201, answer.text
            body: dict[str, Any] = answer.json()
            return body

        for parent, school, pupil in (
            ("mx-parent", S1, OWN),
            ("mx-victim", S1, OWN),
            ("mx-unaccepted", S1, OTHER),
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
        _projected(http, consent)
        assert _get(http, f"/schools/{S1}/code-of-conduct", S1).status_code == 200
        assert _get(http, f"/schools/{S2}/code-of-conduct", S2).status_code == 200
        for parent, school in (("mx-parent", S1), ("mx-parent2", S2)):
            answer = http.post(
                f"/schools/{school}/code-of-conduct/acceptances",
                headers=auth(Role.parent, parent, school),
                json={"version": 1},
            )
            assert answer.status_code == 200, answer.text
        invites = {
            "letter-own": invite(S1, OWN)["invite_id"],
            "letter-other": invite(S1, OTHER)["invite_id"],
            "revoke-own": invite(S1, OWN)["invite_id"],
            "revoke-other": invite(S1, OTHER)["invite_id"],
            "letter-foreign": invite(S2, FOREIGN)["invite_id"],
        }
        _projected(http, consent)
        own = _get(http, f"/schools/{S1}/pupils/{OWN}/consent", S1).json()
        assert len(own["guardians"]) == 2
        for parent, school in (("mx-parent", S1), ("mx-parent2", S2)):
            path = f"/schools/{school}/parents/{parent}/code-of-conduct"
            assert _get(http, path, school).json()["accepted"], path
    yield World(consent, invites)


def _get(http: httpx.Client, path: str, school: str) -> httpx.Response:
    return http.get(path, headers=auth(Role.leader, "mx-setup", school))


def _projected(http: httpx.Client, consent: ConsentService) -> None:
    """Wait until the worker has projected everything the store holds: the roster facts
    seeded, and every write of the world so far."""
    until_projected_sync(http, consent.newest_position())


# -- the endpoints and who each lets in --------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str
    kind: str  # "pupil", "school", "parent", "invite", "me"
    staff: frozenset[Role] = frozenset()
    own_class: bool = False  # teachers and assistants only for their classes' pupils
    guardians: bool = False  # a parent linked to the pupil
    school_parents: bool = False  # a parent of the school
    parent_self: bool = False  # the parent the path names
    before_conduct: bool = False  # open to a parent who has not accepted the code yet
    body: dict[str, Any] | None = None
    ok: int = 200
    ok_type: str | None = None


ENDPOINTS = [
    Endpoint(
        "issue-invite",
        "POST",
        "/schools/{s}/pupils/{p}/invites",
        "pupil",
        INVITERS,
        own_class=True,
        ok=201,
    ),
    Endpoint(
        "list-invites", "GET", "/schools/{s}/pupils/{p}/invites", "pupil", INVITERS, own_class=True
    ),
    Endpoint(
        "pupil-consent",
        "GET",
        "/schools/{s}/pupils/{p}/consent",
        "pupil",
        GUARDIAN_READERS,
        own_class=True,
    ),
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
    Endpoint("invite-activity", "GET", "/schools/{s}/invite-activity", "school", POLICY),
    Endpoint("school-notices", "GET", "/schools/{s}/notices", "school", POLICY),
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
        "read-conduct",
        "GET",
        "/schools/{s}/code-of-conduct",
        "school",
        STAFF,
        school_parents=True,
        before_conduct=True,
    ),
    Endpoint(
        # an outdated version, so that no caller's acceptance changes the world
        "accept-conduct",
        "POST",
        "/schools/{s}/code-of-conduct/acceptances",
        "school",
        school_parents=True,
        before_conduct=True,
        body={"version": 2},
        ok=409,
        ok_type="code-of-conduct-changed",
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
        before_conduct=True,
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
    Endpoint(
        "letter", "GET", "/schools/{s}/invites/{i}/letter", "invite", INVITERS, own_class=True
    ),
    Endpoint(
        "revoke", "POST", "/schools/{s}/invites/{i}/revoke", "invite", INVITERS, own_class=True
    ),
    Endpoint(
        "my-children",
        "GET",
        "/parents/me/children",
        "me",
        school_parents=True,
        before_conduct=True,
    ),
    Endpoint("my-notices", "GET", "/parents/me/notices", "me", school_parents=True),
    Endpoint(
        "redeem",
        "POST",
        "/invites/redeem",
        "me",
        school_parents=True,
        before_conduct=True,
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
    pupil: str | None = None
    """The pupil an invite is for."""

    @property
    def pupil_id(self) -> str | None:
        return self.path.get("p", self.pupil)


def targets(endpoint: Endpoint, world: World) -> list[Target]:
    if endpoint.kind == "pupil":
        return [
            Target("own", S1, {"p": OWN}, True),
            Target("other-class", S1, {"p": OTHER}, True),
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
        own = world.invites[f"{endpoint.name}-own"]
        other = world.invites[f"{endpoint.name}-other"]
        return [
            Target("own", S1, {"i": own}, True, pupil=OWN),
            Target("other-class", S1, {"i": other}, True, pupil=OTHER),
            Target("foreign", S1, {"i": world.invites["letter-foreign"]}, False, "ghost"),
            Target("ghost", S1, {"i": "mx-no-invite"}, False),
            Target("other-school", S2, {"i": world.invites["letter-foreign"]}, True, pupil=FOREIGN),
        ]
    return [Target("me", S1, {}, True)]


def let_in(endpoint: Endpoint, caller: Caller, target: Target) -> bool | int:
    """True when the rules let this caller in, else the status that refuses them."""
    if caller.role is None:
        return 401
    if caller.role is Role.pupil:
        return 403
    if caller.role is Role.parent:
        if not caller.accepted and not endpoint.before_conduct:
            return 403
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
    if not target.exists_in_school:
        return 404
    if endpoint.own_class and caller.role in CLASSROOM:
        return CLASS_OF.get(target.pupil_id or "") in caller.classes or 403
    return True


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
                if POSITION_HEADER in answer.headers:
                    # the next case reads what this one wrote (a suspension, its lift)
                    until_projected_sync(http, answer)
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
