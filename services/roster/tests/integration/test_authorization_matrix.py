"""Who may read and change what, over real HTTP: every endpoint, every role, own and other
pupil, class and school. A refusal says nothing about the children; a yes to a family says
nothing about other children beyond their class's display names; a refused change writes
nothing.

All three schools import the same file, so their records share every source id ("stu-0001"
is a pupil of each): the roster gives each its own ids, and a school's own paths never reach
the other school's pupil or class of the same source id (the "colliding" targets)."""

from __future__ import annotations

import csv
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from schoolgate_kit.identity import Role

ROLES = (
    Role.teacher,
    Role.teaching_assistant,
    Role.leader,
    Role.office,
    Role.school_admin,
    Role.parent,
    Role.pupil,
)
STAFF = frozenset(ROLES[:5])
WRITERS = frozenset({Role.leader, Role.school_admin})

# source ids in the file; each school has its own ids for them (Schools.id)
OWN_PUPIL, OTHER_PUPIL = "stu-0001", "stu-0020"  # Sam Khan in Ash; Arlo Oyelaran in Damson
OWN_CLASS, OTHER_CLASS = "ash", "damson"
USERS = Path(__file__).parents[1] / "fixtures" / "oneroster" / "users.csv"
PUPILS = [
    r for r in csv.DictReader(USERS.read_text().splitlines()) if r["sourcedId"].startswith("stu-")
]
SURNAMES = sorted({r["familyName"] for r in PUPILS})
FIRST_NAMES = sorted({r["givenName"] for r in PUPILS})
STAFF_EMAILS = ("okafor@", "patel@", "price@", "nowak@")

# who each role is: subject, classes, children
WHO = {
    Role.teacher: ("tch-okafor", {OWN_CLASS}, set()),
    Role.teaching_assistant: ("aide-patel", {OWN_CLASS, "birch"}, set()),
    Role.leader: ("head", set(), set()),
    Role.office: ("office-1", set(), set()),
    Role.school_admin: ("adm-price", set(), set()),
    Role.parent: ("gdn-0001", set(), {OWN_PUPIL}),
    Role.pupil: (OWN_PUPIL, set(), set()),
}


@dataclass(frozen=True)
class Schools:
    own: str
    other: str
    writable: str
    import_id: str
    ids: dict[str, dict[str, str]]
    """Each school's ids by source id."""

    def id(self, school: str, source: str) -> str:
        return self.ids[school][source]


def as_role(sign: Callable[..., str], role: Role, school: str, schools: Schools) -> str:
    subject, classes, pupils = WHO[role]
    return sign(
        role,
        school=school,
        subject=schools.id(school, subject) if role is Role.pupil else subject,
        classes=frozenset(schools.id(school, c) for c in classes),
        pupils=frozenset(schools.id(school, p) for p in pupils),
    )


def _prepare(
    service: Any, sign: Callable[..., str], school: str, sample_zip: bytes
) -> tuple[str, dict[str, str]]:
    leader = sign(Role.leader, school=school, subject="head")
    answer = service.call(
        "POST",
        f"/schools/{school}/imports",
        leader,
        content=sample_zip,
        headers={"content-type": "application/zip"},
    )
    assert answer.status_code == 202, answer.text
    job = service.wait_import(school, answer.headers["location"], leader)
    assert job["status"] == "previewed", job
    applied = service.call("POST", f"{answer.headers['location']}/apply", leader)
    assert applied.status_code == 202, applied.text
    job = service.wait_import(school, answer.headers["location"], leader)
    assert job["status"] == "done", job
    for way in ("kindness", "courage"):
        body = {"name": way.title()}
        answer = service.call("POST", f"/schools/{school}/school-ways", leader, json=body)
        assert answer.status_code == 201, answer.text

    service.projected(answer)  # the last write, after the import job's
    pupils = service.call("GET", f"/schools/{school}/pupils", leader).json()
    staff = service.call("GET", f"/schools/{school}/staff", leader).json()
    ways = service.call("GET", f"/schools/{school}/school-ways", leader).json()
    details = service.call("GET", f"/schools/{school}", leader).status_code
    assert (len(pupils), len(staff), len(ways), details) == (20, 6, 2, 200)
    return str(job["import_id"]), service.ids(school, leader)


@pytest.fixture(scope="module")
def schools(roster_service: Any, sign: Callable[..., str], sample_zip: bytes) -> Schools:
    run = uuid.uuid4().hex[:8]
    own, other, writable = f"own-{run}", f"other-{run}", f"writable-{run}"
    import_id, own_ids = _prepare(roster_service, sign, own, sample_zip)
    _, other_ids = _prepare(roster_service, sign, other, sample_zip)
    _, writable_ids = _prepare(roster_service, sign, writable, sample_zip)
    ids = {own: own_ids, other: other_ids, writable: writable_ids}
    # the same file, yet no id of one school is an id of another
    assert not set(own_ids.values()) & set(other_ids.values())
    return Schools(own=own, other=other, writable=writable, import_id=import_id, ids=ids)


# -- reads ------------------------------------------------------------------------------------

READS: dict[str, tuple[str, tuple[str, ...]]] = {
    # name: (path under /schools/{school}, the targets it is asked about)
    "school": ("", ("own_school", "other_school")),
    "school_ways": ("/school-ways", ("own_school", "other_school")),
    "year_groups": ("/year-groups", ("own_school", "other_school")),
    "classes": ("/classes", ("own_school", "other_school")),
    "class": ("/classes/{class_id}", ("own_class", "other_class", "colliding", "other_school")),
    "class_pupils": (
        "/classes/{class_id}/pupils",
        ("own_class", "other_class", "colliding", "other_school"),
    ),
    "class_names": (
        "/classes/{class_id}/names",
        ("own_class", "other_class", "colliding", "other_school"),
    ),
    "pupils": ("/pupils", ("own_school", "other_school")),
    "pupil": ("/pupils/{pupil_id}", ("own_pupil", "other_pupil", "colliding", "other_school")),
    "staff": ("/staff", ("own_school", "other_school")),
    "import": ("/imports/{import_id}", ("own_school", "other_school")),
}


def expected_read(role: Role, endpoint: str, target: str) -> int:
    """The rule, written out: what each role may read."""
    if target == "other_school":
        return 403
    if target == "colliding":
        # the other school's own class or pupil of the same source id, asked of our school
        return 404 if role in STAFF else 403
    if endpoint in {"school", "school_ways"}:
        return 200  # everyone of the school
    if role in STAFF:
        if endpoint == "import":
            return 200 if role in WRITERS else 403
        return 200  # the whole directory, every class
    if role is Role.parent and endpoint == "class_names":
        return 200 if target == "own_class" else 403  # the names in their child's class
    if endpoint == "pupil":
        return 200 if target == "own_pupil" else 403  # their own child, or themselves
    return 403


def read_cases() -> list[Any]:
    return [
        pytest.param(role, endpoint, target, id=f"{role.value}-{endpoint}-{target}")
        for role in ROLES
        for endpoint, (_, targets) in READS.items()
        for target in targets
    ]


def read_path(schools: Schools, endpoint: str, target: str) -> str:
    school = schools.other if target == "other_school" else schools.own
    ids_of = schools.other if target in {"other_school", "colliding"} else schools.own
    pupil = schools.id(ids_of, OTHER_PUPIL if target == "other_pupil" else OWN_PUPIL)
    klass = schools.id(ids_of, OTHER_CLASS if target == "other_class" else OWN_CLASS)
    path = READS[endpoint][0].format(class_id=klass, pupil_id=pupil, import_id=schools.import_id)
    return f"/schools/{school}{path}"


@pytest.mark.parametrize(("role", "endpoint", "target"), read_cases())
def test_who_may_read_what(
    roster_service: Any,
    schools: Schools,
    sign: Callable[..., str],
    role: Role,
    endpoint: str,
    target: str,
) -> None:
    who = as_role(sign, role, schools.own, schools)
    answer = roster_service.call("GET", read_path(schools, endpoint, target), who)
    assert answer.status_code == expected_read(role, endpoint, target), answer.text
    text = answer.text
    if answer.status_code != 200:
        assert answer.headers["content-type"] == "application/problem+json"
        for name in (*FIRST_NAMES, *SURNAMES, *STAFF_EMAILS):
            assert name not in text, f"a refusal mentions {name}"
        return
    if role in STAFF:
        return
    # a family's answer: no surname, no other child's id, no staff contact
    for surname in SURNAMES:
        assert surname not in text, f"{role.value} sees the surname {surname}"
    for n in range(2, 21):
        source = f"stu-{n:04d}"
        assert source not in text, f"{role.value} sees another child's source id"
        for ids in schools.ids.values():
            assert ids[source] not in text, f"{role.value} sees another child's id"
    for email in STAFF_EMAILS:
        assert email not in text
    if endpoint == "pupil":
        assert answer.json() == {
            "pupil_id": schools.id(schools.own, OWN_PUPIL),
            "display_name": "Sam Kh.",
            "year_group_id": schools.id(schools.own, "grade-03"),
            "class_id": schools.id(schools.own, OWN_CLASS),
            "avatar": None,
            "status": "on_roll",
        }
    if endpoint == "class_names":
        assert answer.json() == {
            "class_id": schools.id(schools.own, OWN_CLASS),
            "names": ["Ada", "Leo", "Maya", "Sam Ke.", "Sam Kh."],
        }


def test_staff_see_full_names(
    roster_service: Any, schools: Schools, sign: Callable[..., str]
) -> None:
    teacher = as_role(sign, Role.teacher, schools.own, schools)
    sam_id = schools.id(schools.own, OWN_PUPIL)
    sam = roster_service.call("GET", f"/schools/{schools.own}/pupils/{sam_id}", teacher).json()
    assert (sam["first_name"], sam["surname"], sam["display_name"]) == ("Sam", "Khan", "Sam Kh.")


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer not-a-token", "Basic aGVhZDpwYXNz"],
    ids=["none", "empty", "garbage", "basic"],
)
@pytest.mark.parametrize("endpoint", ["school", "pupil", "class_names", "staff"])
def test_no_identity_is_401(
    roster_service: Any, schools: Schools, authorization: str, endpoint: str
) -> None:
    headers = {"authorization": authorization} if authorization else {}
    path = read_path(schools, endpoint, "own_pupil" if endpoint == "pupil" else "own_class")
    answer = roster_service.call("GET", path, headers=headers)
    assert answer.status_code == 401, answer.text
    assert "Khan" not in answer.text


def test_a_token_signed_with_another_secret_is_401(roster_service: Any, schools: Schools) -> None:
    from datetime import UTC, datetime, timedelta

    from schoolgate_kit.identity import Identity, sign

    forged = sign(
        Identity(subject="head", role=Role.leader, school_id=schools.own),
        secret="someone-elses-secret-" + "z" * 30,
        now=datetime.now(UTC),
        ttl=timedelta(minutes=5),
    )
    answer = roster_service.call("GET", f"/schools/{schools.own}/pupils", forged)
    assert answer.status_code == 401


# -- writes -----------------------------------------------------------------------------------

WRITES: dict[str, tuple[str, str, Any, int, tuple[str, ...]]] = {
    # name: (method, path, body, status when allowed, targets)
    "register_school": ("PUT", "", {"name": "Oakfield Primary School"}, 200, ()),
    "add_year_group": (
        "POST",
        "/year-groups",
        {"source_id": "grade-05", "name": "Year 5"},
        201,
        (),
    ),
    "add_class": (
        "POST",
        "/classes",
        {"source_id": "elm", "name": "Elm", "year_group_id": "<grade-03>"},
        201,
        (),
    ),
    "enrol_pupil": (
        "POST",
        "/pupils",
        {"source_id": "stu-0100", "first_name": "Nia", "surname": "Adeyemi", "class_id": "<ash>"},
        201,
        (),
    ),
    "move_pupil": ("POST", "/pupils/{pupil_id}/move", "class", 200, ("own_pupil", "other_pupil")),
    "mark_pupil_left": ("POST", "/pupils/<stu-0019>/leave", None, 200, ()),
    # left first, by a leader: only a pupil who has left may be erased
    "erase_pupil": ("POST", "/pupils/<stu-0018>/erase", "left-first", 200, ()),
    "mark_staff_left": ("POST", "/staff/<tch-brennan>/leave", None, 200, ()),
    "set_retention": ("PUT", "/retention", {"points_kept_months": 12}, 200, ()),
    "run_retention": ("POST", "/retention/run", None, 200, ()),
    "erase_staff": ("POST", "/staff/<aide-hughes>/erase", "left-first", 200, ()),
    "add_staff": (
        "POST",
        "/staff",
        {
            "source_id": "tch-new",
            "display_name": "Nell Newcombe",
            "email": "n.newcombe@oakfield.sch.example",
            "role": "teacher",
            "class_ids": ["<ash>"],
        },
        201,
        (),
    ),
    "add_school_way": ("POST", "/school-ways", {"name": "Kindness"}, 201, ()),
    "retire_school_way": ("POST", "/school-ways/<way:courage>/retire", None, 200, ()),
    "import": ("POST", "/imports", "zip", 202, ()),
    "change_staff": (
        "PUT",
        "/staff/<tch-okafor>",
        {"role": "teacher", "class_ids": ["<ash>", "<birch>"]},
        200,
        (),
    ),
    "rename_year_group": ("PUT", "/year-groups/<grade-04>", {"name": "Year Four"}, 200, ()),
    "change_class": (
        "PUT",
        "/classes/<cedar>",
        {"name": "Cedar", "year_group_id": "<grade-03>"},
        200,
        (),
    ),
    # as it is: adding "Kindness" again (above) must still find it unchanged
    "change_school_way": ("PUT", "/school-ways/<way:kindness>", {"name": "Kindness"}, 200, ()),
}


def write_cases() -> list[Any]:
    return [
        pytest.param(role, endpoint, target, id=f"{role.value}-{endpoint}-{target}")
        for role in ROLES
        for endpoint, (*_, targets) in WRITES.items()
        for target in (targets or ("own_school",)) + ("other_school",)
    ]


@pytest.mark.parametrize(("role", "endpoint", "target"), write_cases())
def test_who_may_change_what(
    roster_service: Any,
    schools: Schools,
    sign: Callable[..., str],
    sample_zip: bytes,
    role: Role,
    endpoint: str,
    target: str,
) -> None:
    method, path, body, allowed, _ = WRITES[endpoint]
    school = schools.own if target == "other_school" else schools.writable
    ids = schools.ids[school]

    def ours(text: str) -> str:
        """``<source id>`` in a path or body, as this school's id."""
        return re.sub(r"<([^>]+)>", lambda m: ids[m.group(1)], text)

    source = OTHER_PUPIL if target == "other_pupil" else OWN_PUPIL
    kwargs: dict[str, Any] = {}
    if body == "class":  # moved to the class they are in: allowed, and changes nothing
        kwargs["json"] = {"class_id": ids[OTHER_CLASS if source == OTHER_PUPIL else OWN_CLASS]}
    elif body == "left-first":
        leader = as_role(sign, Role.leader, school, schools)
        left = roster_service.call(
            "POST", f"/schools/{school}{ours(path.replace('/erase', '/leave'))}", leader
        )
        assert left.status_code == 200, left.text
    elif body == "zip":
        kwargs["content"] = sample_zip
        kwargs["headers"] = {"content-type": "application/zip"}
    elif body is not None:
        kwargs["json"] = json.loads(ours(json.dumps(body)))
    who = as_role(sign, role, schools.writable, schools)  # always of the writable school
    before = roster_service.events(school)
    path = ours(path.replace("{pupil_id}", f"<{source}>"))
    answer = roster_service.call(method, f"/schools/{school}{path}", who, **kwargs)
    if role in WRITERS and target != "other_school":
        assert answer.status_code == allowed, answer.text
        if endpoint == "import":
            job = roster_service.wait_import(school, answer.headers["location"], who)
            assert job["status"] == "previewed", job  # applied only when confirmed
        return
    assert answer.status_code == 403, answer.text
    for name in (*FIRST_NAMES, *SURNAMES):
        assert name not in answer.text
    assert roster_service.events(school) == before, "a refused change wrote events"


@pytest.fixture(scope="module")
def previewed(
    roster_service: Any, schools: Schools, sign: Callable[..., str], sample_zip: bytes
) -> str:
    """A checked import of the writable school, waiting to be applied: its location."""
    leader = as_role(sign, Role.leader, schools.writable, schools)
    started = roster_service.call(
        "POST",
        f"/schools/{schools.writable}/imports",
        leader,
        content=sample_zip,
        headers={"content-type": "application/zip"},
    )
    assert started.status_code == 202, started.text
    location: str = started.headers["location"]
    job = roster_service.wait_import(schools.writable, location, leader)
    assert job["status"] == "previewed", job
    return location


APPLY_REFUSED = [
    pytest.param(role, school, id=f"{role.value}-{school}")
    for role in ROLES
    for school in ("writable", "other")
    if not (role in WRITERS and school == "writable")  # the one allowed: tested over HTTP
]


@pytest.mark.parametrize(("role", "caller_school"), APPLY_REFUSED)
def test_only_the_schools_own_leaders_apply_its_import(
    roster_service: Any,
    schools: Schools,
    sign: Callable[..., str],
    previewed: str,
    role: Role,
    caller_school: str,
) -> None:
    """Anyone but a leader or admin of the school is refused, and a leader of another
    school finds no such import under their own school's path; nothing is written."""
    school = schools.writable if caller_school == "writable" else schools.other
    who = as_role(sign, role, school, schools)
    before = roster_service.events(schools.writable)
    answer = roster_service.call("POST", f"{previewed}/apply", who)
    assert answer.status_code == 403, answer.text
    if caller_school == "other":
        leader = as_role(sign, Role.leader, schools.other, schools)
        elsewhere = previewed.replace(f"/schools/{schools.writable}/", f"/schools/{schools.other}/")
        answer = roster_service.call("POST", f"{elsewhere}/apply", leader)
        assert answer.status_code == 404, answer.text
    assert roster_service.events(schools.writable) == before, "a refused apply wrote events"


COLLIDING_CHANGES = {
    # the other school's own entry of the same source id, named under our school's path
    "staff": ("PUT", "/staff/[[tch-okafor]]", {"role": "leader"}, 404),
    "year_group": ("PUT", "/year-groups/[[grade-03]]", {"name": "Year Three"}, 404),
    "class": ("PUT", "/classes/[[ash]]", {"name": "Ash", "year_group_id": "<grade-03>"}, 404),
    "school_way": ("PUT", "/school-ways/[[way:kindness]]", {"name": "Kind"}, 404),
    # our own entry, given the other school's class or year group
    "staff_class": (
        "PUT",
        "/staff/<tch-okafor>",
        {"role": "teacher", "class_ids": ["[[ash]]"]},
        422,
    ),
    "class_year_group": (
        "PUT",
        "/classes/<ash>",
        {"name": "Ash", "year_group_id": "[[grade-04]]"},
        422,
    ),
}


@pytest.mark.parametrize("change", COLLIDING_CHANGES)
def test_a_leader_never_reaches_the_other_schools_entry_of_the_same_source_id(
    roster_service: Any, schools: Schools, sign: Callable[..., str], change: str
) -> None:
    """``<x>`` is our school's id for source id x, ``[[x]]`` the other school's: both schools
    filed the same file, so each has its own Ash, its own Mrs Okafor."""
    method, path, body, status = COLLIDING_CHANGES[change]
    ours, theirs = schools.ids[schools.writable], schools.ids[schools.own]

    def named(text: str) -> str:
        text = re.sub(r"<([^>]+)>", lambda m: ours[m.group(1)], text)
        return re.sub(r"\[\[([^\]]+)\]\]", lambda m: theirs[m.group(1)], text)

    leader = as_role(sign, Role.leader, schools.writable, schools)
    before = (roster_service.events(schools.writable), roster_service.events(schools.own))
    answer = roster_service.call(
        method,
        f"/schools/{schools.writable}{named(path)}",
        leader,
        json=json.loads(named(json.dumps(body))),
    )
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    after = (roster_service.events(schools.writable), roster_service.events(schools.own))
    assert after == before, "a change naming another school's entry wrote events"
