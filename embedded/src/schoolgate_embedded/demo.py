"""The demo school a development instance seeds on its first start, through the services'
own APIs, exactly as a school would set itself up."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import structlog
from schoolgate_gateway.accounts import Kind
from schoolgate_gateway.bootstrap import Gateway
from schoolgate_gateway.projections import STAFF
from schoolgate_kit.identity import Identity, Role
from schoolgate_kit.readmodels import ReadModelStore

SCHOOL = "demo-school"
BASE = f"/schools/{SCHOOL}"
log = structlog.get_logger()

STAFF_ACCOUNTS: tuple[tuple[str, str, str, str, list[str], str], ...] = (
    # staff id, name, email, role, classes, password
    ("staff-oak", "Ms Oak", "teacher@demo.school", "teacher", ["oak"], "demo-teacher-pass"),
    (
        "staff-birch",
        "Mr Birch",
        "ta@demo.school",
        "teaching_assistant",
        ["oak"],
        "demo-assistant-pass",
    ),
    ("staff-ash", "Mr Ash", "leader@demo.school", "leader", [], "demo-leader-pass"),
    ("staff-elm", "Mrs Elm", "office@demo.school", "office", [], "demo-office-pass"),
)
PARENTS = (
    # email, password, name, child: families in Year 3, two in Oak (a class announcement reaches
    # both, and one family's reply stays between them and the teacher) and one in Willow
    ("parent@demo.school", "demo-parent-pass", "Ada's parent", "ada"),
    ("parent2@demo.school", "demo-parent2-pass", "Leo's parent", "leo"),
    ("parent3@demo.school", "demo-parent3-pass", "Sam's parent", "sam-k"),
)
CLASSES = (("oak", "Oak", "y3"), ("willow", "Willow", "y3"), ("ash", "Ash", "y4"))
PUPILS = (
    ("ada", "Ada", "Lovelace", "oak"),
    ("ben", "Ben", "Okri", "oak"),
    ("cara", "Cara", "Diaz", "oak"),
    ("sam-k", "Sam", "Kay", "oak"),
    ("sam-l", "Sam", "Lee", "oak"),
    ("dev", "Dev", "Patel", "ash"),
    ("eve", "Eve", "Jones", "ash"),
    ("leo", "Leo", "Hart", "willow"),
    ("isla", "Isla", "Wood", "willow"),
)
NO_MEDIA_CONSENT = frozenset({"cara"})
"""The families of every other demo pupil agreed to photos; Cara's did not, so a post that
shows her is refused with the reason, as the consent gate does for a real school."""
CODE_OF_CONDUCT = (
    "We treat everyone at our school with kindness and respect, online and in person. "
    "We keep messages to staff within school hours unless it is urgent, and we contact the "
    "office for absence, dinners and appointments."
)


async def _call(
    gateway: Gateway,
    service: str,
    method: str,
    path: str,
    identity: Identity,
    body: Any = None,
    *,
    ok: tuple[int, ...] = (200, 201),
) -> Any:
    answer = await gateway.services[service].call(
        method, path, identity=identity, correlation_id="demo-seed", json=body
    )
    if answer.status_code not in ok:
        raise RuntimeError(f"seeding {method} {path}: {answer.status_code} {answer.text}")
    return answer.json() if answer.content else None


async def _eventually(attempt: Any, within: float = 120.0) -> Any:
    """Ask again while the worker process's projections catch up with what was just
    written: at first start it is still importing, which on a busy machine takes a while."""
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        try:
            return await attempt()
        except RuntimeError:
            await asyncio.sleep(0.05)
    return await attempt()


async def _staff_known(readmodels: ReadModelStore, staff_id: str) -> None:
    if await readmodels.get(STAFF, staff_id) is None:
        raise RuntimeError(f"{staff_id} is not projected yet")


async def seed(gateway: Gateway, readmodels: ReadModelStore) -> bool:
    """Create the demo school if this instance has no accounts yet; say whether it did.

    The demo's people and classes are filed under the ids above as their source ids, as a
    school's own records would name them; Schoolgate makes its own ids for them.
    """
    if await gateway.accounts.count():
        return False
    admin = Identity(subject="demo-setup", role=Role.school_admin, school_id=SCHOOL)
    await _call(
        gateway, "roster", "PUT", BASE, admin, {"name": "Demo Primary School"}, ok=(200, 201)
    )
    ids: dict[str, str] = {}

    async def add(path: str, body: dict[str, Any], key: str) -> str:
        made = await _call(gateway, "roster", "POST", f"{BASE}{path}", admin, body)
        return str(made[key])

    for year, name in (("y3", "Year 3"), ("y4", "Year 4")):
        ids[year] = await add("/year-groups", {"source_id": year, "name": name}, "year_group_id")
    body: dict[str, Any]
    for class_id, name, year in CLASSES:
        body = {"source_id": class_id, "name": name, "year_group_id": ids[year]}
        ids[class_id] = await add("/classes", body, "class_id")
    for way, name in (("kindness", "Kindness"), ("effort", "Effort"), ("teamwork", "Teamwork")):
        ids[way] = await add("/school-ways", {"name": name}, "school_way_id")
    for pupil_id, first, surname, class_id in PUPILS:
        body = {
            "source_id": pupil_id,
            "first_name": first,
            "surname": surname,
            "class_id": ids[class_id],
            "avatar": pupil_id,
        }
        ids[pupil_id] = await add("/pupils", body, "pupil_id")
    for staff_id, name, email, role, classes, _password in STAFF_ACCOUNTS:
        body = {
            "source_id": staff_id,
            "display_name": name,
            "email": email,
            "role": role,
            "class_ids": [ids[c] for c in classes],
        }
        ids[staff_id] = await add("/staff", body, "staff_id")
    for staff_id, name, email, _, _, password in STAFF_ACCOUNTS:
        made_id = ids[staff_id]
        await _eventually(lambda made_id=made_id: _staff_known(readmodels, made_id))
        await gateway.accounts.ensure(
            Kind.staff, made_id, display_name=name, email=email, password=password
        )

    leader = Identity(subject=ids["staff-ash"], role=Role.leader, school_id=SCHOOL)
    await _eventually(
        lambda: _call(
            gateway, "consent", "PUT", f"{BASE}/code-of-conduct", leader, {"text": CODE_OF_CONDUCT}
        )
    )
    for email, password, name, pupil_id in PARENTS:
        await _join_as_parent(gateway, leader, email, password, name, ids[pupil_id])
    office = Identity(subject=ids["staff-elm"], role=Role.office, school_id=SCHOOL)
    for pupil_id, *_ in PUPILS:
        if pupil_id not in NO_MEDIA_CONSENT:
            await _eventually(
                lambda pupil_id=ids[pupil_id]: _call(
                    gateway,
                    "consent",
                    "PUT",
                    f"{BASE}/pupils/{pupil_id}/media-consent",
                    office,
                    {"granted": True},
                )
            )
    log.info("demo.seeded", school=SCHOOL)
    return True


async def _join_as_parent(
    gateway: Gateway, leader: Identity, email: str, password: str, name: str, pupil_id: str
) -> None:
    """A family joins the way a real one does: an invite letter's code, then the school's
    code of conduct."""
    account = await gateway.accounts.create_parent(
        email=email, password=password, display_name=name
    )
    invite = await _eventually(
        lambda: _call(gateway, "consent", "POST", f"{BASE}/pupils/{pupil_id}/invites", leader, {})
    )
    parent = Identity(subject=account.person_id, role=Role.parent, school_id="none")
    await _call(gateway, "consent", "POST", "/invites/redeem", parent, {"code": invite["code"]})
    joined = Identity(
        subject=account.person_id,
        role=Role.parent,
        school_id=SCHOOL,
        pupil_ids=frozenset({pupil_id}),
    )
    await _eventually(
        lambda: _call(
            gateway,
            "consent",
            "POST",
            f"{BASE}/code-of-conduct/acceptances",
            joined,
            {"version": 1},
        )
    )


def print_accounts() -> None:
    rows = [(name, email, password) for _, name, email, _, _, password in STAFF_ACCOUNTS]
    rows += [(name, email, password) for email, password, name, _ in PARENTS]
    lines = ["", "Demo accounts (a demo school: not for real children's data):"]
    lines += [f"  {name:<14} {email:<22} {password}" for name, email, password in rows]
    lines += ["  Pupils sign in with a class code their teacher shows, then their picture.", ""]
    print("\n".join(lines), file=sys.stderr, flush=True)
