"""FastAPI dependencies of the gateway: its parts, the signed-in account, and its identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from schoolgate_kit.app import correlation_id
from schoolgate_kit.identity import CLASSROOM_ROLES, Identity, Role
from schoolgate_kit.problems import Forbidden, NotFound, Unauthenticated

from schoolgate_gateway.accounts import Account, Board, Kind
from schoolgate_gateway.bootstrap import BOARD_COOKIE, SESSION_COOKIE, Gateway
from schoolgate_gateway.projections import PUPILS, SCHOOLS
from schoolgate_gateway.scope import identity_for


async def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


async def _account(request: Request) -> Account:
    gateway = await _gateway(request)
    token = request.cookies.get(SESSION_COOKIE)
    account = await gateway.accounts.session(token, gateway.clock()) if token else None
    if account is None:
        raise Unauthenticated("Please sign in.")
    return account


async def _identity(request: Request, account: Annotated[Account, Depends(_account)]) -> Identity:
    hint = request.path_params.get("school_id")
    return await identity_for(account, (await _gateway(request)).readmodels, school_hint=hint)


async def _parent(account: Annotated[Account, Depends(_account)]) -> Account:
    if account.kind is not Kind.parent:
        raise Forbidden("This is for parents and carers.")
    return account


async def _classroom_staff(identity: Annotated[Identity, Depends(_identity)]) -> Identity:
    if identity.role not in CLASSROOM_ROLES | {Role.leader}:
        raise Forbidden("Only teachers, teaching assistants and leaders can do this.")
    return identity


async def _leader(identity: Annotated[Identity, Depends(_identity)]) -> Identity:
    if identity.role not in {Role.leader, Role.school_admin}:
        raise Forbidden("Only school leaders can do this.")
    return identity


async def _school_office(identity: Annotated[Identity, Depends(_identity)]) -> Identity:
    if identity.role not in {Role.leader, Role.office, Role.school_admin}:
        raise Forbidden("Only school leaders and the office can do this.")
    return identity


async def _class_follower(
    class_id: str,
    staff: Annotated[Identity, Depends(_classroom_staff)],
    gateway: Annotated[Gateway, Depends(_gateway)],
) -> Identity:
    """Teachers and assistants who have the class, or a leader of its school."""
    if staff.role is Role.leader:
        school = await gateway.readmodels.get(SCHOOLS, staff.school_id) or {}
        if class_id not in school.get("classes", {}):
            raise NotFound("There is no such class at your school.")
    elif class_id not in staff.class_ids:
        raise Forbidden("That is not one of your classes.")
    return staff


async def _pupil_follower(
    pupil_id: str,
    account: Annotated[Account, Depends(_account)],
    gateway: Annotated[Gateway, Depends(_gateway)],
) -> Identity:
    """A parent or carer of the pupil, the pupil themself, or staff of the pupil's school."""
    pupil = await gateway.readmodels.get(PUPILS, pupil_id)
    school_id = None if pupil is None else pupil["school_id"]
    identity = await identity_for(account, gateway.readmodels, school_hint=school_id)
    allowed = identity.school_id == school_id and (
        identity.is_staff
        or (identity.role is Role.parent and pupil_id in identity.pupil_ids)
        or (identity.role is Role.pupil and identity.subject == pupil_id)
    )
    if not allowed:
        raise Forbidden("That pupil's points are not yours to follow.")
    return identity


async def _board_of(request: Request) -> Board | None:
    gateway = await _gateway(request)
    token = request.cookies.get(BOARD_COOKIE)
    return await gateway.accounts.board(token, gateway.clock()) if token else None


async def _paired_board(request: Request) -> Board:
    board = await _board_of(request)
    if board is None:
        raise Unauthenticated("This screen is not showing a class board. Type a board code.")
    return board


async def _board_viewer(
    class_id: str, request: Request, gateway: Annotated[Gateway, Depends(_gateway)]
) -> Identity:
    """A board paired with this class (an identity that names the class and no person), or
    staff who may follow the class showing its board on their own screen."""
    board = await _board_of(request)
    if board is not None and board.class_id == class_id:
        school = await gateway.readmodels.get(SCHOOLS, board.school_id) or {}
        if class_id not in school.get("classes", {}):
            raise NotFound("This class is not at the school any more.")
        return Identity(
            subject=f"board-{board.board_id}",
            role=Role.board,
            school_id=board.school_id,
            class_ids=frozenset({class_id}),
        )
    if request.cookies.get(SESSION_COOKIE) is None:
        if board is not None:
            raise Forbidden("This board shows another class.")
        raise Unauthenticated("This screen is not showing a class board. Type a board code.")
    staff = await _classroom_staff(await _identity(request, await _account(request)))
    return await _class_follower(class_id, staff, gateway)


async def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


GatewayDep = Annotated[Gateway, Depends(_gateway)]
SignedIn = Annotated[Account, Depends(_account)]
CurrentIdentity = Annotated[Identity, Depends(_identity)]
Parent = Annotated[Account, Depends(_parent)]
ClassroomStaff = Annotated[Identity, Depends(_classroom_staff)]
Leader = Annotated[Identity, Depends(_leader)]
SchoolOffice = Annotated[Identity, Depends(_school_office)]
CorrelationId = Annotated[str, Depends(correlation_id)]
Address = Annotated[str, Depends(client_address)]
ClassFollower = Annotated[Identity, Depends(_class_follower)]
PupilFollower = Annotated[Identity, Depends(_pupil_follower)]
PairedBoard = Annotated[Board, Depends(_paired_board)]
BoardViewer = Annotated[Identity, Depends(_board_viewer)]
