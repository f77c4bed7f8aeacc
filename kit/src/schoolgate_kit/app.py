"""The service app factory: health, readiness, metrics, correlation ids and problem answers."""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schoolgate_kit import metrics
from schoolgate_kit.guard import Guard
from schoolgate_kit.ids import new_id
from schoolgate_kit.problems import NotFound, Unauthenticated, install_problem_handlers
from schoolgate_kit.settings import Settings

CORRELATION_HEADER = "x-correlation-id"
ReadyCheck = Callable[[], Awaitable[None]]
log = structlog.get_logger()


@dataclass
class Kit:
    """What every service app carries in ``app.state.kit``."""

    name: str
    settings: Settings
    clock: Callable[[], datetime]
    ready_checks: dict[str, ReadyCheck] = field(default_factory=dict)


class ObservabilityMiddleware:
    """Binds the correlation id for logs and counts requests by route template."""

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
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-correlation-id", correlation_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
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
