"""``GET /api/caught-up?position=N``: wait until everything a reader of the gateway's
answers might see reflects the log up to N (the gateway's own read models and every
service's), so that whoever wrote at N can read their own write."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import APIRouter, Query, Request
from schoolgate_kit.app import (
    CAUGHT_UP_WAITERS,
    CAUGHT_UP_WITHIN,
    Followed,
    NotCaughtUp,
    TooManyWaiting,
    projected,
)

from schoolgate_gateway.deps import GatewayDep
from schoolgate_gateway.projections import PROJECTIONS
from schoolgate_gateway.services import ServiceClient

router = APIRouter(prefix="/api", tags=["gateway"])


async def _service_behind(
    name: str, service: ServiceClient, position: int, within: float
) -> list[str]:
    try:
        answer = await service.caught_up(position, within)
    except httpx.HTTPError:
        return [f"{name} (unreachable)"]  # not known to have caught up: say so, not 500
    if answer.status_code == 200:
        return []
    if answer.status_code == 404:
        return []  # a service that reads no projections has nothing to catch up on
    body: Any = answer.json() if answer.content else {}
    behind = body.get("behind") if isinstance(body, dict) else None
    return list(behind) if isinstance(behind, list) else [f"{name} ({answer.status_code})"]


@router.get("/caught-up")
async def caught_up(
    request: Request,
    gateway: GatewayDep,
    position: int = Query(ge=0, le=2**62),
    within: float = Query(default=CAUGHT_UP_WITHIN, gt=0, le=CAUGHT_UP_WITHIN),
) -> dict[str, int | str]:
    """Answer once the gateway's and every service's read models reflect a position."""
    state = request.app.state
    if not hasattr(state, "caught_up_waiting"):
        state.caught_up_waiting = asyncio.Semaphore(CAUGHT_UP_WAITERS)
    waiting: asyncio.Semaphore = state.caught_up_waiting
    if waiting.locked():
        raise TooManyWaiting("Too many requests are waiting for the read models.")
    own = Followed(PROJECTIONS, gateway.readmodels)
    async with waiting:
        results = await asyncio.gather(
            projected(own, position, within=within),
            *(
                _service_behind(name, service, position, within)
                for name, service in gateway.services.items()
            ),
        )
    behind = [name for names in results for name in names]
    if behind:
        raise NotCaughtUp(f"Not every read model reflects position {position} yet.", behind=behind)
    return {"status": "caught-up", "position": position}
