"""Embedded mode: the gateway, every service, the relay and the projections in one process.

SQLite files under the data directory hold the event store, the read models and the
gateway's accounts; the bus is in-process. The gateway reaches the services over HTTP
semantics without sockets (httpx's ASGI transport), exactly as it would across a cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
import structlog
from fastapi import FastAPI
from schoolgate_consent.service import DEFINITION as CONSENT
from schoolgate_gateway.accounts import Accounts
from schoolgate_gateway.entrypoints.http import create_app as create_gateway_app
from schoolgate_gateway.projections import PROJECTIONS as GATEWAY_PROJECTIONS
from schoolgate_gateway.service import build_gateway
from schoolgate_gateway.settings import GatewaySettings
from schoolgate_kit.app import outer_app
from schoolgate_kit.bus.memory import InProcessBus
from schoolgate_kit.clock import utc_now
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.media.filesystem import FilesystemMediaStore
from schoolgate_kit.projections import run_projection
from schoolgate_kit.reactors import start_reactor
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.relay import run_relay
from schoolgate_kit.runtime import Parts, ServiceDefinition, settle_heap
from schoolgate_notifications.service import DEFINITION as NOTIFICATIONS
from schoolgate_points.service import DEFINITION as POINTS
from schoolgate_roster.service import DEFINITION as ROSTER
from schoolgate_stories.service import DEFINITION as STORIES

from schoolgate_embedded import demo

SERVICES: tuple[ServiceDefinition, ...] = (POINTS, ROSTER, CONSENT, STORIES, NOTIFICATIONS)
log = structlog.get_logger()


@dataclass
class Embedded:
    parts: Parts
    bus: InProcessBus
    apps: dict[str, FastAPI]
    tasks: list[asyncio.Task[None]]


@contextlib.asynccontextmanager
async def run_embedded(
    settings: GatewaySettings, *, clock: Callable[[], datetime] = utc_now
) -> AsyncIterator[Embedded]:
    data = settings.data_dir
    store = await SqliteEventStore.open(data / "events.db", clock=clock)
    readmodels = await SqliteReadModelStore.open(data / "readmodels.db")
    bus = InProcessBus(readmodels, max_deliveries=settings.consumer_max_deliveries)
    media = await FilesystemMediaStore.open(data / "media", clock=clock)
    parts = Parts(store=store, readmodels=readmodels, media=media, clock=clock)
    apps = {d.name: d.create_app(settings, parts) for d in SERVICES}
    subscriptions = [
        await start_reactor(reactor, bus) for d in SERVICES for reactor in d.reactors(parts)
    ]
    projections = [p for d in SERVICES for p in d.projections] + list(GATEWAY_PROJECTIONS)
    tasks = [
        asyncio.create_task(
            run_projection(p, store, readmodels, rebuild_workers=settings.rebuild_workers),
            name=f"projection:{p.name}",
        )
        for p in projections
    ]
    tasks.append(asyncio.create_task(run_relay(store, bus, readmodels), name="relay"))
    try:
        async with contextlib.AsyncExitStack() as lifespans:
            # each service's own start-up and shutdown, e.g. resuming an unfinished import
            for service_app in apps.values():
                await lifespans.enter_async_context(
                    service_app.router.lifespan_context(service_app)
                )
            yield Embedded(parts=parts, bus=bus, apps=apps, tasks=tasks)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for subscription in subscriptions:
            await subscription.stop()
        await media.close()
        await readmodels.close()
        await store.close()


def create_app(
    settings: GatewaySettings | None = None, *, clock: Callable[[], datetime] = utc_now
) -> FastAPI:
    settings = settings or GatewaySettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with run_embedded(settings, clock=clock) as embedded:
            accounts = await Accounts.open(settings.data_dir / "gateway.db")
            gateway = build_gateway(
                settings,
                accounts,
                embedded.parts.readmodels,
                services={
                    name: httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=service_app),
                        base_url=f"http://{name}.internal",
                        timeout=60,
                    )
                    for name, service_app in embedded.apps.items()
                },
                store=embedded.parts.store,
                clock=clock,
            )
            for name, service_app in embedded.apps.items():
                app.mount(f"/services/{name}", service_app)
            app.mount("/", create_gateway_app(gateway))
            app.state.embedded = embedded
            if settings.is_development:
                await demo.seed(gateway, embedded.parts.readmodels)
                demo.print_accounts()
            settle_heap()
            try:
                yield
            finally:
                await gateway.close()
                await accounts.close()

    return outer_app(settings, lifespan)
