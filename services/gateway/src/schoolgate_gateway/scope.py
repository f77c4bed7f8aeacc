"""Who a signed-in account is, right now, as an identity the services can check."""

from __future__ import annotations

from schoolgate_kit.identity import Identity, Role
from schoolgate_kit.problems import Forbidden, Unauthenticated
from schoolgate_kit.readmodels import ReadModelStore

from schoolgate_gateway.accounts import Account, Kind, email_key
from schoolgate_gateway.people import PARENTS, PUPILS, STAFF
from schoolgate_gateway.people import Suspended as Suspended

NO_SCHOOL = "none"


async def identity_for(
    account: Account, readmodels: ReadModelStore, *, school_hint: str | None = None
) -> Identity:
    """Build the identity from the roster's and consent's facts, not from the account row.

    ``school_hint`` picks the school for a parent with children in more than one school.
    """
    match account.kind:
        case Kind.staff:
            doc = await readmodels.get(STAFF, account.person_id)
            if doc is None or doc["left"]:
                raise Unauthenticated("This account is not on a school's staff.")
            return Identity(
                subject=account.person_id,
                role=Role(doc["role"]),
                school_id=doc["school_id"],
                class_ids=frozenset(doc["class_ids"]),
            )
        case Kind.parent:
            doc = await readmodels.get(PARENTS, account.person_id)
            if doc is not None and doc["suspended"]:
                raise Suspended("This account is suspended. Please contact the school office.")
            children: dict[str, str] = {} if doc is None else doc["children"]
            schools = sorted(set(children.values()))
            school = school_hint if school_hint in schools else (schools or [NO_SCHOOL])[0]
            return Identity(
                subject=account.person_id,
                role=Role.parent,
                school_id=school,
                pupil_ids=frozenset(p for p, s in children.items() if s == school),
                also_staff=await is_staff_email(account.email, readmodels),
            )
        case Kind.pupil:
            doc = await readmodels.get(PUPILS, account.person_id)
            if doc is None or doc["left"]:
                raise Forbidden("This pupil is not at the school any more.")
            return Identity(
                subject=account.person_id,
                role=Role.pupil,
                school_id=doc["school_id"],
                class_ids=frozenset({doc["class_id"]}),
                pupil_ids=frozenset({account.person_id}),
            )
    raise AssertionError(account.kind)


async def is_staff_email(email: str | None, readmodels: ReadModelStore) -> bool:
    """Whether a current member of staff of any school has this email: such a parent's
    claim to a child waits for a leader (consent decides), whoever issued the code."""
    if not email:
        return False
    colleagues = await readmodels.find(STAFF, {"email": email_key(email)})
    return any(not c["left"] for c in colleagues)


async def all_children(account: Account, readmodels: ReadModelStore) -> dict[str, str]:
    """A parent's children in every school: pupil id -> school id."""
    doc = await readmodels.get(PARENTS, account.person_id)
    return {} if doc is None else dict(doc["children"])
