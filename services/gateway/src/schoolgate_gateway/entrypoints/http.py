"""The gateway: sign-in, the web page, and the parent- and staff-facing JSON API."""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from schoolgate_kit.app import Kit, create_service_app
from schoolgate_kit.problems import Unauthenticated

from schoolgate_gateway import demo
from schoolgate_gateway.bootstrap import SESSION_COOKIE, Gateway
from schoolgate_gateway.deps import ClassroomStaff, CorrelationId, GatewayDep, SignedIn
from schoolgate_gateway.security import CrossSiteRequestGuard
from schoolgate_gateway.services import relay_response

api = APIRouter(prefix="/api", tags=["gateway"])
pages = APIRouter(include_in_schema=False)
Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Annotated[str, Field(min_length=3, max_length=254)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class Me(BaseModel):
    display_name: str
    role: str
    school_id: str
    class_ids: list[str]
    pupils: dict[str, str]


class Award(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pupil_id: Id
    school_way_id: Id
    class_id: Id | None = None


def _me(
    account_name: str, role: str, school: str, classes: frozenset[str], pupils: frozenset[str]
) -> Me:
    # Until the roster service exists, names come from the demo school.
    visible = pupils if role == "parent" else frozenset(demo.PUPILS) if classes else frozenset()
    return Me(
        display_name=account_name,
        role=role,
        school_id=school,
        class_ids=sorted(classes),
        pupils={p: demo.PUPILS.get(p, p) for p in sorted(visible)},
    )


@api.post("/session", response_model=Me)
async def sign_in(body: SignIn, request: Request, response: Response, gateway: GatewayDep) -> Me:
    """Sign in with email and password."""
    address = request.client.host if request.client else "unknown"
    gateway.sign_in_per_address.check(address)
    gateway.sign_in_per_account.check(body.email.lower())
    signed = await gateway.accounts.sign_in(body.email, body.password, gateway.clock())
    if signed is None:
        raise Unauthenticated("That email and password do not match an account.")
    token, account = signed
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=not gateway.settings.is_development,
        max_age=14 * 24 * 3600,
        path="/",
    )
    i = account.identity
    return _me(account.display_name, i.role.value, i.school_id, i.class_ids, i.pupil_ids)


@api.delete("/session", status_code=204)
async def sign_out(request: Request, response: Response, gateway: GatewayDep) -> None:
    """Sign out."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await gateway.accounts.sign_out(token)
    response.delete_cookie(SESSION_COOKIE, path="/")


@api.get("/me", response_model=Me)
async def me(account: SignedIn) -> Me:
    """Who is signed in, and the pupils they may see."""
    i = account.identity
    return _me(account.display_name, i.role.value, i.school_id, i.class_ids, i.pupil_ids)


@api.get("/school-ways")
async def school_ways(account: SignedIn) -> dict[str, str]:
    """The values points are awarded for."""
    return demo.SCHOOL_WAYS


@api.post("/awards", status_code=201)
async def award(
    body: Award, account: ClassroomStaff, gateway: GatewayDep, correlation: CorrelationId
) -> Response:
    """Award a point to a pupil."""
    identity = account.identity
    answer = await gateway.points.call(
        "POST",
        f"/schools/{identity.school_id}/awards",
        identity=identity,
        correlation_id=correlation,
        json=body.model_dump(exclude_none=True)
        | {"class_id": body.class_id or next(iter(sorted(identity.class_ids)), None)},
    )
    return relay_response(answer)


@api.get("/pupils/{pupil_id}/weekly-total")
async def weekly_total(
    pupil_id: str, account: SignedIn, gateway: GatewayDep, correlation: CorrelationId
) -> Response:
    """A pupil's points this week."""
    identity = account.identity
    answer = await gateway.points.call(
        "GET",
        f"/schools/{identity.school_id}/pupils/{pupil_id}/weekly-total",
        identity=identity,
        correlation_id=correlation,
    )
    return relay_response(answer)


def _static(name: str) -> str:
    return files("schoolgate_gateway").joinpath("static", name).read_text()


@pages.get("/", response_class=HTMLResponse)
async def home() -> HTMLResponse:
    return HTMLResponse(_static("index.html"))


@pages.get("/app.js")
async def script() -> Response:
    return Response(_static("app.js"), media_type="text/javascript")


@pages.get("/style.css")
async def style() -> Response:
    return Response(_static("style.css"), media_type="text/css")


def create_app(gateway: Gateway) -> FastAPI:
    kit = Kit(
        name="gateway",
        settings=gateway.settings,
        clock=gateway.clock,
        ready_checks={"accounts": gateway.accounts.ping},
    )
    app = create_service_app(kit, routers=[api, pages])
    app.state.gateway = gateway
    app.add_middleware(CrossSiteRequestGuard)
    return app
