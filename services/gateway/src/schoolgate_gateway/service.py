"""Build the gateway from its settings; run it alone in the cluster."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import httpx
import uvicorn
from fastapi import FastAPI
from schoolgate_kit.logging import configure_logging

from schoolgate_gateway.accounts import Accounts
from schoolgate_gateway.bootstrap import Gateway
from schoolgate_gateway.security import RateLimiter
from schoolgate_gateway.services import ServiceClient
from schoolgate_gateway.settings import GatewaySettings


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_gateway(
    settings: GatewaySettings,
    accounts: Accounts,
    *,
    points: httpx.AsyncClient,
    clock: Callable[[], datetime] = utc_now,
) -> Gateway:
    def client(http: httpx.AsyncClient) -> ServiceClient:
        return ServiceClient(
            http,
            secret=settings.identity_secret.get_secret_value(),
            ttl=timedelta(seconds=settings.identity_ttl_seconds),
            clock=clock,
        )

    return Gateway(
        settings=settings,
        accounts=accounts,
        points=client(points),
        clock=clock,
        sign_in_per_account=RateLimiter(
            settings.sign_in_attempts_per_account, settings.sign_in_window_seconds
        ),
        sign_in_per_address=RateLimiter(
            settings.sign_in_attempts_per_address, settings.sign_in_window_seconds
        ),
    )


def main() -> None:
    import argparse

    from schoolgate_gateway.entrypoints.http import create_app

    parser = argparse.ArgumentParser(prog="schoolgate_gateway")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    settings = GatewaySettings()
    configure_logging(development=settings.is_development, level=settings.log_level)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        accounts = await Accounts.open(settings.data_dir / "gateway.db")
        http = httpx.AsyncClient(base_url=settings.points_url, timeout=10)
        gateway = build_gateway(settings, accounts, points=http)
        app.mount("/", create_app(gateway))
        try:
            yield
        finally:
            await gateway.points.close()
            await accounts.close()

    outer = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)
    uvicorn.run(outer, host=args.host, port=args.port, log_config=None, access_log=False)
