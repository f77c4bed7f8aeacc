"""FastAPI dependencies of the gateway: its parts, the signed-in account, and its identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from schoolgate_kit.app import correlation_id
from schoolgate_kit.identity import CLASSROOM_ROLES, Identity, Role
from schoolgate_kit.problems import Forbidden, Unauthenticated

from schoolgate_gateway.accounts import Account, Kind
from schoolgate_gateway.bootstrap import SESSION_COOKIE, Gateway
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
