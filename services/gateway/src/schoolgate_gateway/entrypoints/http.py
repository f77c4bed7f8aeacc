"""The gateway: sign-in, joining, the web pages, and the family- and staff-facing API."""

from __future__ import annotations

import asyncio
import contextlib
import html
import io
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs

import pyotp
import segno
from fastapi import APIRouter, BackgroundTasks, FastAPI, Header, Path, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from schoolgate_kit.app import Kit, create_service_app
from schoolgate_kit.directory import require_conduct_accepted
from schoolgate_kit.guard import ROUTE_CHECK_MARGIN, raise_body_limit
from schoolgate_kit.identity import Identity, Role
from schoolgate_kit.problems import (
    Forbidden,
    NotFound,
    Problem,
    Unauthenticated,
    problem_responses,
)

from schoolgate_gateway import caught_up, opening, unsubscribe
from schoolgate_gateway.account_mail import tell_of_new_device
from schoolgate_gateway.accounts import Account, EmailTaken, HasPassword, Kind
from schoolgate_gateway.audit import classify
from schoolgate_gateway.bootstrap import SESSION_COOKIE, Gateway
from schoolgate_gateway.deps import (
    Address,
    ClassFollower,
    ClassroomStaff,
    CorrelationId,
    GatewayDep,
    Leader,
    Parent,
    PupilFollower,
    SchoolOffice,
    SignedIn,
)
from schoolgate_gateway.entrypoints import board, password_reset, privacy
from schoolgate_gateway.entrypoints.account import router as own_account
from schoolgate_gateway.entrypoints.static import StaticFiles
from schoolgate_gateway.feed import CURSOR_PATTERN, MAX_PAGE_SIZE, PAGE_SIZE, FeedPage, parent_feed
from schoolgate_gateway.live import (
    OFFICE_PARTY,
    class_party,
    conversation_party,
    families_party,
    parent_party,
)
from schoolgate_gateway.live import event_stream as _event_stream
from schoolgate_gateway.live import last_seen as _last_seen
from schoolgate_gateway.people import class_names, classmates
from schoolgate_gateway.projections import CONDUCT, PARENTS, PUPILS, SCHOOLS, STAFF
from schoolgate_gateway.scope import NO_SCHOOL, all_children, identity_for, is_staff_email
from schoolgate_gateway.security import (
    DEVICE_COOKIE,
    CrossSiteRequestGuard,
    PrivateAnswers,
    TooManyAttempts,
)
from schoolgate_gateway.services import relay_response

api = APIRouter(prefix="/api", tags=["gateway"])
pages = APIRouter(include_in_schema=False)
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
Id = Annotated[str, Field(pattern=ID_PATTERN)]
PathId = Annotated[str, Path(pattern=ID_PATTERN)]
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
Password = Annotated[str, Field(min_length=10, max_length=1024)]
PROXIED = {"points", "roster", "consent", "stories", "messaging", "notifications"}
SCHOOL_IN_PATH = re.compile(r"^schools/([A-Za-z0-9_-]{1,64})(/|$)")
UPLOADS = re.compile(r"^schools/[A-Za-z0-9_-]{1,64}/(media|imports)$")
ERASURE = re.compile(
    r"schools/[A-Za-z0-9_-]{1,64}/(?P<kind>pupils|staff)/(?P<person>[A-Za-z0-9_-]{1,80})/erase"
)
"""The roster paths that erase a pupil or a member of staff: the gateway then forgets their
sign-in (the account, its sessions, and the name and email kept with it)."""
"""The services' upload routes (stories' media, roster's imports), as the proxy sees them."""
LEADING_ROLES = frozenset({Role.leader.value, Role.school_admin.value})
ASKED_FOR_SECOND_FACTOR = frozenset({Role.leader, Role.school_admin, Role.office})


class HasSecondFactor(Problem):
    status, slug, title = 409, "second-factor-on", "The second factor is on already"


class HasPasswordProblem(Problem):
    status, slug, title = 409, "has-password", "This account has a password already"


class Joined(BaseModel):
    """The one answer to a new account, whether or not the email had one already."""

    status: Literal["sign-in"] = "sign-in"
    detail: str = (
        "Now sign in with this email and password to continue. If you had an account"
        " with this email already, sign in with its password."
    )


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Annotated[str, Field(min_length=3, max_length=254)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class NewParent(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: Annotated[str, Field(min_length=1, max_length=120)]
    email: Email
    password: Password
    code: Annotated[str | None, Field(min_length=4, max_length=32)] = Field(
        default=None,
        description="The code from the school's letter: if it does not work, no account is made.",
    )


class Code(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, Field(min_length=4, max_length=32)]


class SetUp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: Annotated[str, Field(min_length=10, max_length=200)]
    password: Password


class PupilChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, Field(min_length=4, max_length=16)]
    pupil_id: Id


class Award(BaseModel):
    """One point for one pupil, a group (``pupil_ids``) or the whole class; the points
    service checks the rest."""

    model_config = ConfigDict(extra="forbid")
    award_id: uuid.UUID | None = Field(
        default=None, description="Send your own id to make retries safe."
    )
    pupil_id: Id | None = None
    pupil_ids: Annotated[list[Id], Field(max_length=200)] | None = None
    whole_class: bool | None = None
    school_way_id: Id
    class_id: Id | None = Field(default=None, description="Default: the pupil's class.")
    kind: Literal["positive", "needs_work"] | None = None


class Child(BaseModel):
    pupil_id: str
    name: str
    avatar: str | None = None
    """The seed of the pupil's monster (the UI falls back to the pupil id)."""
    school_id: str
    school_name: str
    class_name: str


class Me(BaseModel):
    display_name: str
    role: str
    school_id: str
    school_name: str
    classes: dict[str, str] = {}
    children: list[Child] = []
    school_ways: dict[str, str] = {}
    school_way_looks: dict[str, dict[str, str]] = {}
    """The icon and colour of each value that has them."""
    code_of_conduct_due: list[dict[str, Any]] = []
    """Schools whose current code of conduct this parent has not accepted yet."""
    staff_id: str | None = None
    """Staff only: their own id in the roster (a leader's pages leave their own role alone)."""
    second_factor: Literal["on", "off", "asked"] | None = None
    """Staff only: "asked" means this account should turn a second factor on (leaders and
    the office, who see the most), and the app asks until it is "on"."""


class SecondFactorNeeded(BaseModel):
    """The password was right; a code from the authenticator (or a recovery code) is next."""

    second_factor_required: Literal[True] = True
    challenge: str


class SecondFactorCode(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: Annotated[str, Field(min_length=6, max_length=32)]


class SecondFactorAnswer(SecondFactorCode):
    challenge: Annotated[str, Field(min_length=20, max_length=100)]


class WrongCode(Problem):
    status, slug, title = 422, "wrong-code", "That code is not right"


async def _class_names(gateway: Gateway, class_id: str) -> dict[str, str]:
    return await class_names(gateway.readmodels, class_id)


async def _me(gateway: Gateway, account: Account) -> Me:
    identity = await identity_for(account, gateway.readmodels)
    school = await gateway.readmodels.get(SCHOOLS, identity.school_id) or {}
    display_name = account.display_name
    if account.kind is Kind.pupil:
        found = await gateway.readmodels.get(PUPILS, account.person_id)
        names = await _class_names(gateway, found["class_id"]) if found else {}
        display_name = names.get(account.person_id, "")
    me = Me(
        display_name=display_name,
        role=identity.role.value,
        school_id=identity.school_id,
        school_name=school.get("name", ""),
        school_ways=school.get("school_ways", {}),
        school_way_looks=school.get("school_way_looks", {}),
    )
    if identity.is_staff:
        me.staff_id = account.person_id
        me.second_factor = (
            "on"
            if account.second_factor
            else "asked"
            if identity.role in ASKED_FOR_SECOND_FACTOR
            else "off"
        )
        all_classes: dict[str, str] = school.get("classes", {})
        mine = (
            all_classes
            if identity.role is Role.leader
            else {c: all_classes.get(c, c) for c in identity.class_ids}
        )
        me.classes = dict(sorted(mine.items(), key=lambda kv: kv[1]))
    elif identity.role is Role.parent:
        for pupil_id, school_id in sorted(
            (await all_children(account, gateway.readmodels)).items()
        ):
            pupil = await gateway.readmodels.get(PUPILS, pupil_id)
            if pupil is None:
                continue
            their_school = await gateway.readmodels.get(SCHOOLS, school_id) or {}
            names = await _class_names(gateway, pupil["class_id"])
            me.children.append(
                Child(
                    pupil_id=pupil_id,
                    name=names.get(pupil_id, pupil["first_name"]),
                    avatar=pupil.get("avatar"),
                    school_id=school_id,
                    school_name=their_school.get("name", ""),
                    class_name=their_school.get("classes", {}).get(pupil["class_id"], ""),
                )
            )
        me.code_of_conduct_due = await _conduct_due(
            gateway, account, {c.school_id for c in me.children}
        )
    elif identity.role is Role.pupil:
        pupil = await gateway.readmodels.get(PUPILS, account.person_id) or {}
        names = await _class_names(gateway, pupil.get("class_id", ""))
        me.children = [
            Child(
                pupil_id=account.person_id,
                name=names.get(account.person_id, ""),
                avatar=pupil.get("avatar"),
                school_id=identity.school_id,
                school_name=me.school_name,
                class_name=school.get("classes", {}).get(pupil.get("class_id"), ""),
            )
        ]
    return me


async def _conduct_due(
    gateway: Gateway, account: Account, schools: set[str]
) -> list[dict[str, Any]]:
    due = []
    for school_id in sorted(schools):
        identity = await identity_for(account, gateway.readmodels, school_hint=school_id)
        answer = await gateway.services["consent"].call(
            "GET",
            f"/schools/{school_id}/parents/{account.person_id}/code-of-conduct",
            identity=identity,
            correlation_id="me",
        )
        if answer.status_code != 200:
            continue
        state = answer.json()
        if state["current_version"] is not None and not state["accepted"]:
            conduct = await gateway.services["consent"].call(
                "GET",
                f"/schools/{school_id}/code-of-conduct",
                identity=identity,
                correlation_id="me",
            )
            due.append(
                {
                    "school_id": school_id,
                    "version": state["current_version"],
                    "text": conduct.json().get("text", ""),
                }
            )
    return due


def _start_session(response: Response, gateway: Gateway, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=gateway.settings.secure_cookies,
        max_age=14 * 24 * 3600,
        path="/",
    )


# -- signing in and out ------------------------------------------------------------------


@api.post(
    "/session",
    response_model=Me,
    responses={202: {"model": SecondFactorNeeded, "description": "A second factor is next."}},
)
async def sign_in(
    body: SignIn,
    request: Request,
    response: Response,
    background: BackgroundTasks,
    gateway: GatewayDep,
    address: Address,
) -> Response | Me:
    """Sign in with email and password (then a second factor, if the account has one)."""
    device = await gateway.devices.device(request.cookies.get(DEVICE_COOKIE), body.email)
    await gateway.sign_in.before(body.email, address, device)
    account = await gateway.accounts.sign_in(body.email, body.password)
    if account is None:
        await gateway.sign_in.failed(body.email, address, device)
        raise Unauthenticated("That email and password do not match an account.")
    me = await _me(gateway, account)  # refuses suspended and former accounts before a session
    await gateway.sign_in.succeeded(body.email, address, device)
    # The password worked on a browser this account has not signed in from: its owner hears
    # at once, by email, even if a second factor stops whoever it was next.
    new_device = device is None and not await gateway.accounts.first_sign_in(account)
    if new_device and gateway.mailer is not None and account.email is not None:
        background.add_task(
            tell_of_new_device,
            gateway,
            gateway.mailer,
            account,
            request.headers.get("user-agent"),
            gateway.clock(),
        )
    if account.second_factor:
        challenge = await gateway.accounts.new_challenge(account, gateway.clock())
        needed = SecondFactorNeeded(challenge=challenge)
        return Response(needed.model_dump_json(), 202, media_type="application/json")
    await _signed_in(response, gateway, account)
    return me


@api.post("/session/second-factor", response_model=Me)
async def second_factor(body: SecondFactorAnswer, response: Response, gateway: GatewayDep) -> Me:
    """Finish signing in with a code from the authenticator app, or a recovery code."""
    now = gateway.clock()
    account = await gateway.accounts.challenged(body.challenge, now)
    if account is None:
        raise Unauthenticated("This sign-in has expired. Please sign in again.")
    await gateway.limits.attempt(gateway.second_factor_per_account, account.account_id)
    if not await gateway.accounts.second_factor_ok(account, body.code, now):
        raise Unauthenticated("That code is not right. Try the newest one in your app.")
    await gateway.accounts.end_challenge(body.challenge)
    await gateway.limits.forget(gateway.second_factor_per_account, account.account_id)
    me = await _me(gateway, account)
    await _signed_in(response, gateway, account)
    return me


async def _signed_in(response: Response, gateway: Gateway, account: Account) -> None:
    """A session, and the device cookie that tells the sign-in limits this browser."""
    _start_session(
        response, gateway, await gateway.accounts.start_session(account, gateway.clock())
    )
    if account.email is not None:
        response.set_cookie(
            DEVICE_COOKIE,
            await gateway.devices.issue(account.email),
            httponly=True,
            samesite="strict",
            secure=gateway.settings.secure_cookies,
            max_age=gateway.settings.device_cookie_days * 24 * 3600,
            path="/api/session",
        )


@api.post("/me/second-factor", status_code=201)
async def begin_second_factor(account: SignedIn, gateway: GatewayDep) -> dict[str, str]:
    """Start turning on a second factor: a secret for an authenticator app, and its QR."""
    if account.kind is not Kind.staff:
        raise Forbidden("A second factor is for staff accounts.")
    if account.second_factor:
        raise HasSecondFactor("The second factor is on already; turn it off first.")
    secret = await gateway.accounts.begin_second_factor(account)
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=account.email or account.display_name, issuer_name="Schoolgate"
    )
    svg = io.BytesIO()
    segno.make(uri, error="m").save(svg, kind="svg", scale=4, title="Authenticator set-up")
    return {"secret": secret, "otpauth_uri": uri, "qr_svg": svg.getvalue().decode()}


@api.post("/me/second-factor/confirm")
async def confirm_second_factor(
    body: SecondFactorCode, request: Request, account: SignedIn, gateway: GatewayDep
) -> dict[str, list[str]]:
    """Turn the second factor on with a code from the app: the recovery codes, shown once."""
    await gateway.limits.attempt(gateway.second_factor_per_account, account.account_id)
    codes = await gateway.accounts.confirm_second_factor(account, body.code, gateway.clock())
    if codes is None:
        raise WrongCode("That code is not right. Check the app's clock and try the newest.")
    # Whoever else was signed in with the password alone is signed out now.
    await gateway.accounts.end_every_session(account, but=request.cookies.get(SESSION_COOKIE))
    return {"recovery_codes": codes}


@api.post("/me/second-factor/off", status_code=204)
async def turn_off_second_factor(
    body: SecondFactorCode, account: SignedIn, gateway: GatewayDep
) -> None:
    """Turn the second factor off; it takes a current code (or a recovery code)."""
    await gateway.limits.attempt(gateway.second_factor_per_account, account.account_id)
    if not await gateway.accounts.second_factor_ok(account, body.code, gateway.clock()):
        raise WrongCode("That code is not right.")
    await gateway.accounts.turn_off_second_factor(account)


@api.delete("/session", status_code=204)
async def sign_out(request: Request, response: Response, gateway: GatewayDep) -> None:
    """Sign out."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await gateway.accounts.end_session(token)
    response.delete_cookie(SESSION_COOKIE, path="/")


@api.post("/session/everywhere", status_code=204)
async def sign_out_everywhere(account: SignedIn, response: Response, gateway: GatewayDep) -> None:
    """Sign out on every device, this one included."""
    await gateway.accounts.end_every_session(account)
    response.delete_cookie(SESSION_COOKIE, path="/")


@api.get("/me", response_model=Me)
async def me(account: SignedIn, gateway: GatewayDep) -> Me:
    """Who is signed in: their school, classes or children."""
    return await _me(gateway, account)


# -- families joining --------------------------------------------------------------------


@api.post(
    "/join/account",
    status_code=202,
    response_model=Joined,
    responses=problem_responses(429),
)
async def create_parent_account(
    body: NewParent, gateway: GatewayDep, address: Address, correlation: CorrelationId
) -> Joined | Response:
    """Create a parent or carer account, then sign in (the first step of joining)."""
    await gateway.limits.attempt(gateway.joins_per_address, address)
    if body.code is not None:
        refused = await _code_refused(body.code, body.email, gateway, address, correlation)
        if refused is not None:
            return refused
    # The same answer, with no session, whether or not the email has an account: a
    # different one would tell anybody whose email is known here. The owner of a new
    # account signs in next; a taken email's sign-in then fails as any wrong password does.
    # create_parent hashes the password and writes as much in either case, so the time
    # tells no more than the answer.
    with contextlib.suppress(EmailTaken):
        await gateway.accounts.create_parent(
            email=body.email, password=body.password, display_name=body.display_name
        )
    return Joined()


async def _code_refused(
    code: str, email: str, gateway: GatewayDep, address: str, correlation: str
) -> Response | None:
    """Refuse a wrong, used, expired or revoked code before any account exists: a family
    that mistyped it would otherwise be left signed in to an account with no child. Only a
    refused code counts against the address: a working one counts when it is redeemed."""
    await gateway.limits.check((gateway.codes_per_address, address))
    joining = Identity(
        subject=f"joining-{uuid.uuid4().hex}",  # nobody yet: the account is made after
        role=Role.parent,
        school_id=NO_SCHOOL,
        also_staff=await is_staff_email(email, gateway.readmodels),
    )
    answer = await gateway.services["consent"].call(
        "POST",
        "/invites/check",
        identity=joining,
        correlation_id=correlation,
        json={"code": code},
        headers={"x-forwarded-for": address},
    )
    if answer.status_code == 204:
        return None
    await gateway.limits.count((gateway.codes_per_address, address))
    return relay_response(answer)


@api.post("/join/redeem", responses=problem_responses(429))
async def redeem(
    body: Code,
    account: Parent,
    gateway: GatewayDep,
    correlation: CorrelationId,
    address: Address,
) -> Response:
    """Link your account to your child with the code from the school's letter."""
    await gateway.limits.attempt(gateway.codes_per_address, address)
    identity = await identity_for(account, gateway.readmodels)
    answer = await gateway.services["consent"].call(
        "POST",
        "/invites/redeem",
        identity=identity,
        correlation_id=correlation,
        json={"code": body.code},
        headers={"x-forwarded-for": address},
    )
    if answer.status_code == 200 and answer.json().get("status") == "linked":
        # Read your own writes: the family's next page must already show the child.
        await _until_linked(gateway, account, answer.json()["pupil_id"])
    return relay_response(answer)


async def _until_linked(gateway: Gateway, account: Account, pupil_id: str) -> None:
    for _ in range(100):
        if pupil_id in await all_children(account, gateway.readmodels):
            return
        await asyncio.sleep(0.02)


@api.get("/schools/{school_id}/parents/{parent_id}")
async def parent_contact(
    school_id: str, parent_id: str, staff: SchoolOffice, gateway: GatewayDep
) -> dict[str, str | None]:
    """Who a parent or carer is, for the school their child is at (or asked to join)."""
    doc = await gateway.readmodels.get(PARENTS, parent_id) or {}
    schools = {*doc.get("children", {}).values(), *doc.get("requested", {}).values()}
    account = await gateway.accounts.find(Kind.parent, parent_id)
    if staff.school_id != school_id or school_id not in schools or account is None:
        raise NotFound("There is no such parent or carer at your school.")
    return {"parent_id": parent_id, "display_name": account.display_name, "email": account.email}


# -- staff set-up links ------------------------------------------------------------------


@api.post("/staff/{staff_id}/setup-link", status_code=201)
async def staff_setup_link(staff_id: str, leader: Leader, gateway: GatewayDep) -> dict[str, str]:
    """A one-time link for a member of staff to set their password."""
    staff = await gateway.readmodels.get(STAFF, staff_id)
    if staff is None or staff["school_id"] != leader.school_id or staff["left"]:
        raise NotFound("There is no such member of staff at your school.")
    # Whoever holds a set-up link chooses the password: a leader handing out links must
    # never be able to take over a colleague's account, least of all another leader's.
    if staff["role"] in LEADING_ROLES and staff_id != leader.subject:
        raise Forbidden("A set-up link for another leader comes from your district, not you.")
    account = await gateway.accounts.ensure(
        Kind.staff, staff_id, email=staff["email"], display_name=staff["display_name"]
    )
    if account.has_password:
        raise HasPasswordProblem(
            "This colleague has set a password already; a set-up link would replace it."
        )
    days = gateway.settings.staff_setup_link_days
    token = await gateway.accounts.new_setup_link(account, gateway.clock(), timedelta(days=days))
    return {
        "link": f"{gateway.settings.public_base_url}/#setup={token}",
        "expires_in_days": str(days),
    }


@api.post("/setup", response_model=Me, responses=problem_responses(401, 409, 429))
async def use_setup_link(
    body: SetUp, response: Response, gateway: GatewayDep, address: Address
) -> Me:
    """Choose a password with a set-up link."""
    await gateway.limits.attempt(gateway.codes_per_address, address)
    try:
        account = await gateway.accounts.use_setup_link(body.token, body.password, gateway.clock())
    except HasPassword:
        raise HasPasswordProblem(
            "This account has a password already. Sign in with it, or ask your district."
        ) from None
    if account is None:
        raise Unauthenticated(
            "This link has been used or has expired. Ask the school office for a new one."
        )
    await gateway.accounts.first_sign_in(account)
    await _signed_in(response, gateway, account)
    return await _me(gateway, account)


@api.post(
    "/opening",
    response_model=Me,
    status_code=201,
    responses=problem_responses(401, 409, 429, 502),
)
async def open_a_school(
    body: opening.Opening,
    response: Response,
    gateway: GatewayDep,
    address: Address,
    correlation: CorrelationId,
) -> Me:
    """Open a new school with its one-time set-up link: its name, hours and head teacher."""
    await gateway.limits.attempt(gateway.codes_per_address, address)
    account = await opening.open_school(gateway, body, correlation)
    await gateway.accounts.first_sign_in(account)
    await _signed_in(response, gateway, account)
    return await _me(gateway, account)


# -- pupils: the classroom way -----------------------------------------------------------


@api.post("/classes/{class_id}/code", status_code=201)
async def class_code(class_id: str, staff: ClassroomStaff, gateway: GatewayDep) -> dict[str, str]:
    """Show a code pupils type to sign in on a classroom device."""
    if staff.role is not Role.leader and class_id not in staff.class_ids:
        raise Forbidden("That is not one of your classes.")
    code = await gateway.accounts.new_class_code(
        staff.school_id,
        class_id,
        gateway.clock(),
        timedelta(hours=gateway.settings.class_code_hours),
    )
    return {"code": code, "class_id": class_id}


@api.post("/pupil/class")
async def pupils_of_class(body: Code, gateway: GatewayDep, address: Address) -> dict[str, Any]:
    """The pictures a pupil chooses from after typing their class code."""
    await gateway.limits.attempt(gateway.codes_per_address, address)
    found = await gateway.accounts.class_for_code(body.code, gateway.clock())
    if found is None:
        raise NotFound("That class code is not right. Ask your teacher.")
    _, class_id = found
    return {"pupils": await classmates(gateway.readmodels, class_id)}


@api.post("/pupil/session", response_model=Me)
async def pupil_session(
    body: PupilChoice, response: Response, gateway: GatewayDep, address: Address
) -> Me:
    """Sign a pupil in after they chose their own picture."""
    await gateway.limits.attempt(gateway.codes_per_address, address)
    found = await gateway.accounts.class_for_code(body.code, gateway.clock())
    pupil = await gateway.readmodels.get(PUPILS, body.pupil_id)
    if found is None or pupil is None or pupil["class_id"] != found[1] or pupil["left"]:
        raise NotFound("That class code is not right. Ask your teacher.")
    return await _pupil_signed_in(response, gateway, pupil)


async def _pupil_signed_in(response: Response, gateway: Gateway, pupil: dict[str, Any]) -> Me:
    # no name kept with a pupil's account: it is the roster's, erased with the pupil there
    account = await gateway.accounts.ensure(Kind.pupil, pupil["pupil_id"], display_name="")
    _start_session(
        response, gateway, await gateway.accounts.start_session(account, gateway.clock())
    )
    return await _me(gateway, account)


@api.post("/pupils/{pupil_id}/card", status_code=201)
async def pupil_card(pupil_id: str, staff: ClassroomStaff, gateway: GatewayDep) -> dict[str, str]:
    """A personal sign-in QR card for a pupil; printing a new one retires the old one."""
    pupil = await gateway.readmodels.get(PUPILS, pupil_id)
    allowed = (
        pupil is not None
        and pupil["school_id"] == staff.school_id
        and (staff.role is Role.leader or pupil["class_id"] in staff.class_ids)
    )
    if not allowed:
        raise NotFound("There is no such pupil in your classes.")
    now, days = gateway.clock(), gateway.settings.pupil_card_days
    token = await gateway.accounts.new_pupil_card(pupil_id, now, timedelta(days=days))
    url = f"{gateway.settings.public_base_url}/pupil-card?token={token}"
    svg = io.BytesIO()
    segno.make(url, error="m").save(svg, kind="svg", scale=4, title="Sign-in card")
    expires = (now + timedelta(days=days)).date().isoformat()
    return {"url": url, "qr_svg": svg.getvalue().decode(), "expires_on": expires}


CARD_TOKEN = r"^[A-Za-z0-9_-]{10,64}$"
CARD_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in with a card</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/style.css"></head>
<body><main><h1>Sign in with your card</h1>
<p>Another website sent you here. Only carry on if you scanned your own sign-in card.</p>
<form method="post" action="/pupil-card"><input type="hidden" name="token" value="{token}">
<button type="submit">Sign in</button></form></main></body></html>"""


@pages.get("/pupil-card")
async def pupil_card_sign_in(
    request: Request, gateway: GatewayDep, token: Annotated[str, Query(pattern=CARD_TOKEN)]
) -> Response:
    # A scanned card opens with no referring site ("none"). A link from another site must
    # not sign whoever follows it in as a pupil: that browser is shown a button instead,
    # and its press is a same-site POST. Browsers too old to say are let through.
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in {"none", "same-origin"}:
        return HTMLResponse(
            CARD_PAGE.format(token=html.escape(token)),
            headers={"cache-control": "no-store", "referrer-policy": "no-referrer"},
        )
    return await _card_sign_in(gateway, token)


@pages.post("/pupil-card")
async def pupil_card_confirmed(request: Request, gateway: GatewayDep) -> Response:
    body = await request.body()
    token = parse_qs(body[:1024].decode("latin-1")).get("token", [""])[0]
    if not re.fullmatch(CARD_TOKEN, token):
        return RedirectResponse("/#card-not-valid", status_code=303)
    return await _card_sign_in(gateway, token)


async def _card_sign_in(gateway: Gateway, token: str) -> Response:
    pupil_id = await gateway.accounts.pupil_for_card(token, gateway.clock())
    pupil = await gateway.readmodels.get(PUPILS, pupil_id) if pupil_id else None
    if pupil is None or pupil["left"]:
        return RedirectResponse("/#card-not-valid", status_code=303)
    response = RedirectResponse("/", status_code=303)
    await _pupil_signed_in(response, gateway, pupil)
    response.headers["referrer-policy"] = "no-referrer"
    return response


# -- points (the slice) and the services behind the gateway ------------------------------


@api.post("/awards", status_code=201)
async def award(
    body: Award, staff: ClassroomStaff, gateway: GatewayDep, correlation: CorrelationId
) -> Response:
    """Award a point to a pupil, a group of pupils or the whole class."""
    sent = body.model_dump(mode="json", exclude_none=True)
    class_id = body.class_id or await _class_of(gateway, body) or min(staff.class_ids, default=None)
    if class_id is not None:
        sent["class_id"] = class_id
    answer = await gateway.points.call(
        "POST",
        f"/schools/{staff.school_id}/awards",
        identity=staff,
        correlation_id=correlation,
        json=sent,
    )
    return relay_response(answer)


async def _class_of(gateway: Gateway, body: Award) -> str | None:
    """The class of the pupils named, when they are all in one."""
    named = {*(body.pupil_ids or ()), *([body.pupil_id] if body.pupil_id else [])}
    classes = set()
    for pupil_id in sorted(named):
        pupil = await gateway.readmodels.get(PUPILS, pupil_id)
        classes.add(None if pupil is None else pupil["class_id"])
    return classes.pop() if len(classes) == 1 else None


@api.post("/awards/{award_id}/undo")
async def undo_award(
    award_id: PathId, staff: ClassroomStaff, gateway: GatewayDep, correlation: CorrelationId
) -> Response:
    """Take back an award within its undo window."""
    answer = await gateway.points.call(
        "POST",
        f"/schools/{staff.school_id}/awards/{award_id}/undo",
        identity=staff,
        correlation_id=correlation,
    )
    return relay_response(answer)


@api.get("/pupils/{pupil_id}/weekly-total")
async def weekly_total(
    pupil_id: str, account: SignedIn, gateway: GatewayDep, correlation: CorrelationId
) -> Response:
    """A pupil's points this week."""
    pupil = await gateway.readmodels.get(PUPILS, pupil_id)
    identity = await identity_for(
        account, gateway.readmodels, school_hint=None if pupil is None else pupil["school_id"]
    )
    answer = await gateway.points.call(
        "GET",
        f"/schools/{identity.school_id}/pupils/{pupil_id}/weekly-total",
        identity=identity,
        correlation_id=correlation,
    )
    return relay_response(answer)


# -- live updates --------------------------------------------------------------------------

LastEventId = Annotated[str | None, Header(include_in_schema=False)]


@api.get("/live/classes/{class_id}", response_class=StreamingResponse)
async def live_class(
    class_id: PathId, staff: ClassFollower, gateway: GatewayDep, last_event_id: LastEventId = None
) -> StreamingResponse:
    """A class's points as they are given, as server-sent events."""
    await gateway.live.start()
    return _event_stream(
        gateway.live.follow_class(staff.school_id, class_id, last_seen=_last_seen(last_event_id))
    )


@api.get("/live/pupils/{pupil_id}", response_class=StreamingResponse)
async def live_pupil(
    pupil_id: PathId,
    follower: PupilFollower,
    gateway: GatewayDep,
    last_event_id: LastEventId = None,
) -> StreamingResponse:
    """A pupil's points as they are given, as server-sent events."""
    await gateway.live.start()
    return _event_stream(
        gateway.live.follow_pupil(follower.school_id, pupil_id, last_seen=_last_seen(last_event_id))
    )


@api.get(
    "/live/messages",
    response_class=StreamingResponse,
    responses=problem_responses(401, 403, 404),
)
async def live_messages(
    account: SignedIn,
    gateway: GatewayDep,
    correlation: CorrelationId,
    school: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    conversation: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    last_event_id: LastEventId = None,
) -> StreamingResponse:
    """News of your inboxes' conversations (and of the one open), as server-sent events:
    which conversation changed, never what was said."""
    identity = await identity_for(account, gateway.readmodels, school_hint=school)
    parties: list[str] = []
    match identity.role:
        case Role.parent:
            found = await gateway.readmodels.get_many(PUPILS, identity.pupil_ids)
            classes = {p["class_id"] for p in found.values() if p.get("class_id")}
            parties = [parent_party(identity.subject), *map(families_party, sorted(classes))]
        case Role.teacher | Role.teaching_assistant:
            parties = [class_party(c) for c in sorted(identity.class_ids)]
        case Role.office | Role.leader:
            parties = [OFFICE_PARTY]
        case _:
            raise Forbidden("Messages are between the school's staff and families.")
    if conversation is not None:
        # the messaging service decides who may follow a conversation, as who may read it
        answer = await gateway.services["messaging"].call(
            "GET",
            f"/schools/{identity.school_id}/conversations/{conversation}",
            identity=identity,
            correlation_id=correlation,
        )
        if answer.status_code != 200:
            return relay_response(answer)  # type: ignore[return-value]
        parties.append(conversation_party(conversation))
    await gateway.live.start()
    return _event_stream(
        gateway.live.follow_messages(
            identity.school_id, parties, last_seen=_last_seen(last_event_id)
        )
    )


# -- the parent feed (issue 5) -------------------------------------------------------------

FeedCursor = Annotated[
    str | None,
    Query(pattern=CURSOR_PATTERN, description="The `next` of the page before (older items)."),
]
FeedLimit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


@api.get("/feed", response_model=FeedPage)
async def feed(
    account: Parent, gateway: GatewayDep, before: FeedCursor = None, limit: FeedLimit = PAGE_SIZE
) -> Response:
    """Your children's points, posts and approved portfolio items, newest first."""

    async def conduct_accepted_at(schools: set[str]) -> None:
        for school_id in sorted(schools):
            # the kit's one rule and wording; the parent as they are at that school, no read
            parent = Identity(subject=account.person_id, role=Role.parent, school_id=school_id)
            await require_conduct_accepted(gateway.readmodels, CONDUCT, parent, school_id)

    page = await parent_feed(
        gateway.readmodels,
        account.person_id,
        now=gateway.clock(),
        before=before,
        limit=limit,
        admit=conduct_accepted_at,
    )
    # already a FeedPage: serialised once, not validated again on the way out
    return Response(page.model_dump_json(), media_type="application/json")


# -- the services behind the gateway ---------------------------------------------------------


@api.api_route(
    "/{service}/{path:path}", methods=["GET", "POST", "PUT", "DELETE"], include_in_schema=False
)
async def proxy(
    service: str,
    path: str,
    request: Request,
    account: SignedIn,
    gateway: GatewayDep,
    correlation: CorrelationId,
    address: Address,
) -> Response:
    """Pass a signed-in person's request to a service, which decides what they may do."""
    if service not in PROXIED:
        raise NotFound("There is nothing here.")
    school = SCHOOL_IN_PATH.match(path)
    identity: Identity = await identity_for(
        account, gateway.readmodels, school_hint=school.group(1) if school else None
    )
    content: bytes | AsyncIterator[bytes]
    if request.method == "POST" and UPLOADS.match(path):
        # an upload route of a service: its body may be larger than any other request's,
        # so it is passed on as it arrives (the guard still counts it), never held whole
        raise_body_limit(request, gateway.settings.stories_upload_max_bytes + ROUTE_CHECK_MARGIN)
        content = request.stream()
    else:
        content = await request.body()
    headers = {"x-forwarded-for": address}
    if "content-type" in request.headers:
        headers["content-type"] = request.headers["content-type"]
    answer = await gateway.services[service].call(
        request.method,
        f"/{path}",
        identity=identity,
        correlation_id=correlation,
        params=list(request.query_params.multi_items()),
        content=content,
        headers=headers,
    )
    if request.method == "GET" and identity.is_staff and answer.status_code == 200:
        read = classify(service, path)
        if read is not None:
            await gateway.audit.record(identity, read)
    erased = ERASURE.fullmatch(path) if service == "roster" else None
    if erased is not None and request.method == "POST" and answer.status_code == 200:
        # the roster erased them: their sign-in goes with them
        kind = Kind.pupil if erased.group("kind") == "pupils" else Kind.staff
        await gateway.accounts.forget(kind, erased.group("person"))
    return relay_response(answer)


# -- pages --------------------------------------------------------------------------------


# The page, its modules and its style sheet: see static.py.


def create_app(gateway: Gateway) -> FastAPI:
    kit = Kit(
        name="gateway",
        settings=gateway.settings,
        clock=gateway.clock,
        ready_checks={"accounts": gateway.accounts.ping, "read_models": gateway.readmodels.ping},
    )
    # before the API: its catch-all sends /api/{service}/... on to the services
    routers = [
        caught_up.router,
        privacy.router,
        privacy.account_router,
        privacy.audit_router,
        board.router,
        unsubscribe.router,
        own_account,
        password_reset.router,
        password_reset.email_router,
        api,
        pages,
        StaticFiles.load().router(),
    ]
    app = create_service_app(kit, routers=routers)
    app.state.gateway = gateway

    async def too_many(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TooManyAttempts)
        body = exc.body(request.url.path)
        return JSONResponse(
            body,
            status_code=429,
            media_type="application/problem+json",
            headers={"retry-after": str(exc.retry_after)},
        )

    app.add_exception_handler(TooManyAttempts, too_many)
    app.add_middleware(CrossSiteRequestGuard)
    app.add_middleware(PrivateAnswers)
    return app
