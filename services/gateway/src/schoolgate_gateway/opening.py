"""Opening a real school: a one-time link, and the head teacher's first form.

A fresh install has no school and no accounts, so nobody can sign in to make one. On such a
start the server prints a set-up link (``open_link``). Whoever holds it, the head teacher,
names the school, sets its timezone and hours, and makes their own leader account: the
school is registered and they are added to its staff through the roster, as everything else
is. A district opens each further school with a link from ``python -m
schoolgate_gateway.open_school``. The link's token is kept only as its SHA-256 in the
private store, works once (taken atomically, so two replicas cannot both use it) and
expires.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import zoneinfo
from datetime import datetime, time, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from schoolgate_kit.identity import Identity, Role
from schoolgate_kit.private import PrivateStore
from schoolgate_kit.problems import Problem, Unauthenticated

from schoolgate_gateway.accounts import Account, EmailTaken, Kind, digest
from schoolgate_gateway.bootstrap import Gateway
from schoolgate_gateway.projections import STAFF

OPENINGS = "openings"
LINK_LIFETIME = timedelta(days=7)
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class OpeningFailed(Problem):
    status, slug, title = 502, "school-not-opened", "The school could not be opened"


class EmailInUse(Problem):
    status, slug, title = 409, "email-taken", "There is already an account with that email"


class NewSchool(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Text
    timezone: str = "Europe/London"
    working_days: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default=[0, 1, 2, 3, 4], min_length=1, max_length=7, description="Monday is 0."
    )
    day_starts: time = time(8, 0)
    day_ends: time = time(17, 0)

    @model_validator(mode="after")
    def _consistent(self) -> NewSchool:
        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{self.timezone!r} is not a timezone") from None
        if len(set(self.working_days)) != len(self.working_days):
            raise ValueError("working_days names a day twice")
        if self.day_starts.tzinfo is not None or self.day_ends.tzinfo is not None:
            raise ValueError("school hours are times of the school's day, with no offset")
        if self.day_starts >= self.day_ends:
            raise ValueError("the school day must start before it ends")
        return self


class HeadTeacher(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)
    ]
    email: Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
    password: Annotated[str, Field(min_length=10, max_length=1024)]


class Opening(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: Annotated[str, Field(min_length=10, max_length=200)]
    school: NewSchool
    leader: HeadTeacher


FIRST_SCHOOL = "first-school"
"""The links printed at start-up while no school is open: each start's replaces the last's,
and opening the school ends them all, so an old one found in a log opens nothing."""


async def new_link(
    store: PrivateStore, base_url: str, now: datetime, *, group: str | None = None
) -> str:
    """A fresh one-time link that opens a new school."""
    token = secrets.token_urlsafe(32)
    key = digest(token)
    await store.put(
        OPENINGS,
        key,
        {"made_at": now.isoformat(), "group": group},
        now=now,
        group=group,
        expires_at=now + LINK_LIFETIME,
    )
    if group is not None:
        await store.delete_group(OPENINGS, group, keep=key)
    return f"{base_url}/#open={token}"


async def link_for_a_fresh_install(gateway: Gateway) -> str | None:
    """A link to open the first school, if this install has no account at all yet."""
    if await gateway.accounts.count():
        return None
    return await new_link(
        gateway.accounts.store,
        gateway.settings.public_base_url,
        gateway.clock(),
        group=FIRST_SCHOOL,
    )


async def open_school(gateway: Gateway, opening: Opening, correlation_id: str) -> Account:
    """Register the school and its head teacher; the link works once."""
    now = gateway.clock()
    key = digest(opening.token)
    link = await gateway.accounts.store.take(OPENINGS, key, now=now)
    if link is None:
        raise Unauthenticated("This set-up link has been used or has expired.")
    try:
        account = await _open(gateway, opening, correlation_id)
    except BaseException:
        # what was made a second try finds again (_school_id): the link works until it has
        # opened the school, or expires
        await gateway.accounts.store.put(
            OPENINGS,
            key,
            link,
            now=now,
            group=link.get("group"),
            expires_at=now + LINK_LIFETIME,
        )
        raise
    if link.get("group"):
        await gateway.accounts.store.delete_group(OPENINGS, link["group"])
    return account


async def _open(gateway: Gateway, opening: Opening, correlation_id: str) -> Account:
    if await gateway.accounts.by_email(opening.leader.email) is not None:
        raise EmailInUse("There is already an account with that email. Please use another.")
    school_id = _school_id(opening.token)
    opener = Identity(subject="school-opening", role=Role.school_admin, school_id=school_id)
    await _roster(
        gateway,
        "PUT",
        f"/schools/{school_id}",
        opener,
        {"name": opening.school.name, **opening.school.model_dump(mode="json", exclude={"name"})},
        correlation_id,
    )
    head = await _roster(
        gateway,
        "POST",
        f"/schools/{school_id}/staff",
        opener,
        {
            "display_name": opening.leader.display_name,
            "email": opening.leader.email,
            "role": "leader",
        },
        correlation_id,
    )
    try:
        account = await gateway.accounts.ensure(
            Kind.staff,
            head["staff_id"],
            display_name=opening.leader.display_name,
            email=opening.leader.email,
            password=opening.leader.password,
        )
    except EmailTaken:
        raise EmailInUse(
            "There is already an account with that email. Please use another."
        ) from None
    await _until_on_staff(gateway, head["staff_id"])
    return account


def _school_id(token: str) -> str:
    """The school a link opens, the same on every try: a try that failed half-way (the school
    registered, its head not yet on the staff) is finished by the next, not doubled. One-way,
    so the id tells nothing of the link."""
    made = hashlib.sha256(b"schoolgate school opened by " + token.encode()).digest()[:16]
    return "sch_" + base64.b32encode(made).decode().rstrip("=").lower()


async def _roster(
    gateway: Gateway, method: str, path: str, who: Identity, body: Any, correlation_id: str
) -> Any:
    answer = await gateway.services["roster"].call(
        method, path, identity=who, correlation_id=correlation_id, json=body
    )
    if answer.status_code not in (200, 201):
        raise OpeningFailed(f"The roster answered {answer.status_code}. Please try again.")
    return answer.json()


async def _until_on_staff(gateway: Gateway, staff_id: str, within: float = 60.0) -> None:
    """Read your own writes: the head teacher's first page needs them on the staff."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while await gateway.readmodels.get(STAFF, staff_id) is None:
        if loop.time() > deadline:
            raise OpeningFailed("The school is open, but is taking long to appear: sign in.")
        await asyncio.sleep(0.02)
