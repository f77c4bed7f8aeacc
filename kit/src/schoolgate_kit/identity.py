"""The identity the gateway vouches for, passed to services as a short-lived signed token."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

import jwt
from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict

from schoolgate_kit.problems import Unauthenticated

ALGORITHM = "HS256"
AUDIENCE = "schoolgate-services"


class Role(StrEnum):
    teacher = "teacher"
    teaching_assistant = "teaching_assistant"
    leader = "leader"
    office = "office"
    school_admin = "school_admin"
    parent = "parent"
    pupil = "pupil"
    board = "board"
    """A class's board on the classroom screen: reads that one class's board, nothing else."""


STAFF_ROLES = frozenset(
    {Role.teacher, Role.teaching_assistant, Role.leader, Role.office, Role.school_admin}
)
CLASSROOM_ROLES = frozenset({Role.teacher, Role.teaching_assistant})
WHOLE_SCHOOL_ROLES = frozenset({Role.leader, Role.office, Role.school_admin})


class Identity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str
    role: Role
    school_id: str
    class_ids: frozenset[str] = frozenset()
    pupil_ids: frozenset[str] = frozenset()
    also_staff: bool = False
    """A parent account whose email belongs to a member of staff: what it redeems waits for
    a leader, so nobody on the staff links themself to a child unnoticed."""

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


def sign(identity: Identity, *, secret: str, now: datetime, ttl: timedelta) -> str:
    claims = {
        "sub": identity.subject,
        "role": identity.role.value,
        "school": identity.school_id,
        "classes": sorted(identity.class_ids),
        "pupils": sorted(identity.pupil_ids),
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if identity.also_staff:
        # only when true: tokens from before the claim existed mean the same as false
        claims["also_staff"] = True
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(token: str, *, secret: str, now: datetime) -> Identity:
    try:
        identity, issued, expires = _verified(token, secret)
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(f"identity token refused: {exc}") from exc
    if expires < now.timestamp():
        raise Unauthenticated("identity token expired")
    if issued > now.timestamp() + ISSUED_LEEWAY_SECONDS:
        raise Unauthenticated("identity token issued in the future")
    return identity


ISSUED_LEEWAY_SECONDS = 60
"""How far ahead of this process's clock a token may say it was issued (clocks of two
machines differ a little)."""


@functools.lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> tuple[Identity, int, int]:
    """A token's identity, issue time and expiry, checked once: a page sends the same token
    many times, and checking its signature and claims cost more than many requests' own
    work. Refused tokens raise, so are never kept. Times are checked on every use against
    the caller's clock, which is injected: PyJWT would compare them with the machine's."""
    claims = jwt.decode(
        token,
        secret,
        algorithms=[ALGORITHM],
        audience=AUDIENCE,
        options={"require": ["exp", "sub", "aud"], "verify_exp": False, "verify_iat": False},
    )
    identity = Identity(
        subject=claims["sub"],
        role=Role(claims["role"]),
        school_id=claims["school"],
        class_ids=frozenset(claims.get("classes", ())),
        pupil_ids=frozenset(claims.get("pupils", ())),
        also_staff=claims.get("also_staff") is True,
    )
    return identity, int(claims.get("iat", 0)), int(claims["exp"])


async def _identity(request: Request) -> Identity:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("an identity token is needed")
    kit = request.app.state.kit
    identity = verify(
        token, secret=kit.settings.identity_secret.get_secret_value(), now=kit.clock()
    )
    gate: IdentityGate | None = getattr(request.app.state, "identity_gate", None)
    if gate is not None:
        await gate(identity, request)
    return identity


IdentityGate = Callable[[Identity, Request], Awaitable[None]]
"""A service's check on every verified identity before any route sees it (raising a problem
to refuse), set as ``app.state.identity_gate``: one place for a rule such as "a parent who
has not accepted the code of conduct may do nothing here", whatever the route."""


CurrentIdentity = Annotated[Identity, Depends(_identity)]
