"""The demo school seeded on a development instance's first start."""

from __future__ import annotations

from dataclasses import dataclass

from schoolgate_kit.identity import Identity, Role

from schoolgate_gateway.accounts import Accounts

SCHOOL = "demo-school"
CLASS = "oak"
PUPILS = {"ada": "Ada", "ben": "Ben", "cara": "Cara"}
SCHOOL_WAYS = {"kindness": "Kindness", "effort": "Effort", "teamwork": "Teamwork"}


@dataclass(frozen=True)
class DemoAccount:
    email: str
    password: str
    display_name: str
    identity: Identity


DEMO_ACCOUNTS = (
    DemoAccount(
        "teacher@demo.school",
        "demo-teacher-pass",
        "Ms Oak (teacher)",
        Identity(
            subject="staff-oak", role=Role.teacher, school_id=SCHOOL, class_ids=frozenset({CLASS})
        ),
    ),
    DemoAccount(
        "parent@demo.school",
        "demo-parent-pass",
        "Ada's parent",
        Identity(
            subject="parent-ada", role=Role.parent, school_id=SCHOOL, pupil_ids=frozenset({"ada"})
        ),
    ),
    DemoAccount(
        "leader@demo.school",
        "demo-leader-pass",
        "Mr Ash (head teacher)",
        Identity(subject="staff-ash", role=Role.leader, school_id=SCHOOL),
    ),
)


async def seed(accounts: Accounts) -> bool:
    """Create the demo accounts if there are no accounts yet; say whether it did."""
    if await accounts.count():
        return False
    for demo in DEMO_ACCOUNTS:
        await accounts.create(
            account_id=demo.identity.subject,
            email=demo.email,
            password=demo.password,
            display_name=demo.display_name,
            identity=demo.identity,
        )
    return True
