"""FastAPI dependencies of the gateway: its parts and the signed-in account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from schoolgate_kit.app import correlation_id
from schoolgate_kit.identity import CLASSROOM_ROLES, Role
from schoolgate_kit.problems import Forbidden, Unauthenticated

from schoolgate_gateway.accounts import Account
from schoolgate_gateway.bootstrap import SESSION_COOKIE, Gateway


def _gateway(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


async def _account(request: Request) -> Account:
    gateway = _gateway(request)
    token = request.cookies.get(SESSION_COOKIE)
    account = await gateway.accounts.session(token, gateway.clock()) if token else None
    if account is None:
        raise Unauthenticated("Please sign in.")
    return account


async def _classroom_staff(account: Annotated[Account, Depends(_account)]) -> Account:
    if account.identity.role not in CLASSROOM_ROLES | {Role.leader}:
        raise Forbidden("Only staff can award points.")
    return account


GatewayDep = Annotated[Gateway, Depends(_gateway)]
SignedIn = Annotated[Account, Depends(_account)]
ClassroomStaff = Annotated[Account, Depends(_classroom_staff)]
CorrelationId = Annotated[str, Depends(correlation_id)]
