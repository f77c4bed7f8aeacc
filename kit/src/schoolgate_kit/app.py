"""The service app factory: health, readiness, metrics, correlation ids and problem answers.

A request that appended events is answered with ``x-schoolgate-position``: the global
position of the last of them. ``GET /projections/caught-up?position=N`` answers once every
projection the service reads has taken in the log up to N, so a caller that must read its
own write (a test, a script) waits for exactly that instead of polling for what it expects.
"""

from __future__ import annotations

import asyncio
import hmac
import importlib
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schoolgate_kit import metrics
from schoolgate_kit.commands import recording_writes
from schoolgate_kit.eventstore import EventStore
from schoolgate_kit.guard import Guard
from schoolgate_kit.ids import new_id
from schoolgate_kit.problems import (
    NotFound,
    Problem,
    Unauthenticated,
    install_problem_handlers,
)
from schoolgate_kit.projections import Projection
from schoolgate_kit.readmodels import ReadModelStore
from schoolgate_kit.settings import Settings

CORRELATION_HEADER = "x-correlation-id"
POSITION_HEADER = "x-schoolgate-position"
CAUGHT_UP_PATH = "/projections/caught-up"
CAUGHT_UP_WITHIN = 10.0
"""The longest a caught-up request waits, in seconds: a projection this far behind is
stuck or rebuilding, and the caller is better told so than kept waiting."""
CAUGHT_UP_WAITERS = 32
"""Caught-up requests waiting at once per app; more are told to come back, so that the
endpoint can never tie up the read-model store."""
ReadyCheck = Callable[[], Awaitable[None]]
log = structlog.get_logger()


@dataclass
class Kit:
    """What every service app carries in ``app.state.kit``."""

    name: str
    settings: Settings
    clock: Callable[[], datetime]
    ready_checks: dict[str, ReadyCheck] = field(default_factory=dict)
    followed: Followed | None = None
    """What the service's queries read; None: found from its ``ServiceDefinition``."""


@dataclass(frozen=True)
class Followed:
    """The projections a service's queries read, the store that keeps them, and the log
    they follow (without it, a projection that no event concerns is waited for until it
    next records how far it has looked, a fraction of a second later)."""

    projections: Sequence[Projection]
    readmodels: ReadModelStore
    store: EventStore | None = None


class NotCaughtUp(Problem):
    status, slug, title = 504, "not-caught-up", "The read models have not caught up yet"


class TooManyWaiting(Problem):
    status, slug, title = 503, "too-many-waiting", "Too many requests are waiting already"


async def _projected_to(followed: Followed, projection: Projection, position: int) -> bool:
    generation = await followed.readmodels.active_generation(projection.name)
    checkpoint = (
        0
        if generation is None
        else await followed.readmodels.checkpoint(projection.name, generation)
    )
    if checkpoint >= position:
        return True
    if followed.store is None:
        return False
    # nothing it handles lies between its checkpoint and the position: it has all it needs
    # (a position past the log's head is not reached: what comes next may concern it)
    pending = await followed.store.read_all(after=checkpoint, limit=1, types=projection.event_types)
    if pending.events:
        return pending.events[0].position > position
    return pending.up_to >= position


async def projected(
    followed: Followed, position: int, *, within: float = CAUGHT_UP_WITHIN
) -> list[str]:
    """Wait until every followed projection reflects the log up to ``position``; the
    names of those that still do not after ``within`` seconds (none: caught up).

    Polls, a few milliseconds apart at first and at most 50 ms later: a commit in the
    worker process wakes nothing in this one, and a poll is a couple of indexed reads."""
    deadline = time.monotonic() + within
    pending = list(followed.projections)
    pause = 0.002
    while True:
        pending = [p for p in pending if not await _projected_to(followed, p, position)]
        if not pending or time.monotonic() >= deadline:
            return [p.name for p in pending]
        await asyncio.sleep(min(pause, max(deadline - time.monotonic(), 0)))
        pause = min(pause * 2, 0.05)


def _followed(kit: Kit) -> Followed | None:
    """The kit's ``followed``, or else the projections of the service's own
    ``ServiceDefinition`` (``schoolgate_<name>.service``, where the runtime finds it too)
    in the stores its readiness checks ping."""
    if kit.followed is not None:
        return kit.followed
    try:
        module = importlib.import_module(f"schoolgate_{kit.name}.service")
    except ModuleNotFoundError:
        return None
    definition = getattr(module, "DEFINITION", None)
    readmodels = getattr(kit.ready_checks.get("read_models"), "__self__", None)
    store = getattr(kit.ready_checks.get("event_store"), "__self__", None)
    if definition is None or readmodels is None:
        return None
    kit.followed = Followed(definition.projections, readmodels, store)
    return kit.followed


def caught_up_router(kit: Kit) -> APIRouter:
    router = APIRouter(tags=["operations"])
    waiting = asyncio.Semaphore(CAUGHT_UP_WAITERS)

    @router.get(CAUGHT_UP_PATH)
    async def caught_up(
        position: int = Query(ge=0, le=2**62),
        within: float = Query(default=CAUGHT_UP_WITHIN, gt=0, le=CAUGHT_UP_WITHIN),
    ) -> dict[str, int | str]:
        """Answer once every projection this service reads reflects the log up to a position."""
        followed = _followed(kit)
        if followed is None:
            raise NotFound("This service reads no projections.")
        if waiting.locked():
            raise TooManyWaiting("Too many requests are waiting for the read models.")
        async with waiting:
            behind = await projected(followed, position, within=within)
        if behind:
            raise NotCaughtUp(
                f"Not every read model reflects position {position} yet.", behind=behind
            )
        return {"status": "caught-up", "position": position}

    return router


class ObservabilityMiddleware:
    """Binds the correlation id for logs, counts requests by route template, and tells the
    caller the position of what a request appended."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = ""
        for key, value in scope["headers"]:
            if key == b"x-correlation-id":
                correlation_id = value.decode("latin-1")[:128]
                break
        correlation_id = correlation_id or new_id().hex
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                extra = [(b"x-correlation-id", correlation_id.encode("latin-1"))]
                if written.position:
                    extra.append((POSITION_HEADER.encode(), str(written.position).encode()))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            with recording_writes() as written:
                await self.app(scope, receive, send_wrapper)
        except ClientDisconnect:
            # the client went away before its body had arrived: nobody to answer, and not a
            # fault of the server's to log as one (counted as nginx counts it)
            status = 499
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope["method"]
            metrics.HTTP_REQUESTS.labels(self.service, method, template, str(status)).inc()
            metrics.HTTP_SECONDS.labels(self.service, method, template).observe(
                time.perf_counter() - started
            )
            structlog.contextvars.unbind_contextvars("correlation_id")


async def correlation_id(request: Request) -> str:
    value: str = request.state.correlation_id
    return value


def telemetry(settings: Settings) -> dict[str, Any]:
    """FastAPI's ``telemetry`` argument: its OpenTelemetry only where the settings ask."""
    on = settings.opentelemetry
    return {"tracing": on, "metrics": on, "logs": on}


def outer_app(
    settings: Settings, lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]]
) -> FastAPI:
    """The bare app a process serves, which mounts the real ones once its lifespan has
    built them: no documentation pages of its own. It guards what it serves (bodies,
    addresses, headers) itself, as the mounted apps would have: some requests, such as one
    whose path holds a newline, reach none of its mounts."""
    app = FastAPI(
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        telemetry=telemetry(settings),  # type: ignore[arg-type]
    )
    app.add_middleware(Guard, settings=settings)
    return app


def create_service_app(
    kit: Kit,
    *,
    routers: Sequence[APIRouter] = (),
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
    **fastapi_args: Any,
) -> FastAPI:
    if kit.settings.is_production:
        # the API's map is for its developers, not for whoever finds the address
        fastapi_args = {"openapi_url": None, "docs_url": None, "redoc_url": None, **fastapi_args}
    app = FastAPI(
        title=f"Schoolgate {kit.name}",
        lifespan=lifespan,
        telemetry=telemetry(kit.settings),  # type: ignore[arg-type]
        **fastapi_args,
    )
    app.state.kit = kit
    install_problem_handlers(app)
    health = APIRouter(tags=["operations"])

    @health.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @health.get("/readyz")
    async def readyz() -> JSONResponse:
        """Every dependency this service needs answers."""
        results: dict[str, str] = {}
        ok = True
        for name, check in kit.ready_checks.items():
            try:
                await check()
                results[name] = "ok"
            except Exception:
                ok = False
                # the exception may name hosts, users or paths: the log has it, not the public
                log.warning("readiness check failing", check=name, exc_info=True)
                results[name] = "failing"
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "checks": results},
            status_code=200 if ok else 503,
        )

    @health.get("/metrics")
    async def prometheus(request: Request) -> Response:
        """Prometheus metrics; in production only with the metrics token."""
        if kit.settings.is_production:
            _check_metrics_token(kit.settings, request)
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(health)
    app.include_router(caught_up_router(kit))
    for router in routers:
        app.include_router(router)
    app.add_middleware(Guard, settings=kit.settings)
    # outside the guard, so that what it refuses is counted and carries a correlation id
    app.add_middleware(ObservabilityMiddleware, service=kit.name)
    return app


def _check_metrics_token(settings: Settings, request: Request) -> None:
    """Prometheus sends ``Authorization: Bearer <token>`` (a ServiceMonitor's
    ``authorization``); without a token configured there is no public /metrics at all."""
    if settings.metrics_token is None:
        raise NotFound("There is nothing here.")
    expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
    given = request.headers.get("authorization", "").encode("latin-1", "replace")
    if not hmac.compare_digest(given, expected):
        raise Unauthenticated("Metrics need the metrics token.")
