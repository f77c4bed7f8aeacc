"""Embedded mode: the whole of Schoolgate on one machine, in two processes.

The web process answers HTTP: the gateway and every service's API. The gateway reaches the
services over HTTP semantics without sockets (httpx's ASGI transport), exactly as it would
across a cluster. It starts and watches the worker process (``schoolgate_embedded.work``),
which runs what the cluster's ``work`` roles and relay run: every projection, the relay and
the reactors, on an in-process bus. SQLite files under the data directory hold the event
store, the read models and the gateway's accounts; both processes open them. Each tells the
other of its commits over a socket pair, so neither waits for a poll.

Why two: at 500 awards/s the one event loop of a single process was about three quarters
busy, and the projections, relay and reactors were about a quarter of that. In their own
process they run on the machine's other core, beside the web process instead of in its way.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
import structlog
from fastapi import FastAPI
from pydantic import Field
from schoolgate_consent.service import DEFINITION as CONSENT
from schoolgate_gateway import opening
from schoolgate_gateway.accounts import Accounts
from schoolgate_gateway.entrypoints.http import create_app as create_gateway_app
from schoolgate_gateway.service import build_gateway
from schoolgate_gateway.services import ServiceAddress
from schoolgate_gateway.settings import GatewaySettings
from schoolgate_kit.adapters import open_keyring
from schoolgate_kit.app import outer_app
from schoolgate_kit.clock import utc_now
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.guard import called_in_process
from schoolgate_kit.media.filesystem import FilesystemMediaStore
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.runtime import Parts, ServiceDefinition, settle_heap
from schoolgate_messaging.service import DEFINITION as MESSAGING
from schoolgate_notifications.service import DEFINITION as NOTIFICATIONS
from schoolgate_points.service import DEFINITION as POINTS
from schoolgate_roster.service import DEFINITION as ROSTER
from schoolgate_stories.service import DEFINITION as STORIES

from schoolgate_embedded import demo
from schoolgate_embedded.workers import WorkerProcess


class EmbeddedSettings(GatewaySettings):
    demo: bool = Field(
        default=False,
        description="Run the demo school (make demo) instead of a real one: it seeds a"
        " school of made-up children with published passwords. A data directory is either"
        " a demo's or a real school's, never both.",
    )


class WrongDataDirectory(RuntimeError):
    pass


MODE_FILE = "mode"


def claim_data_dir(settings: EmbeddedSettings) -> None:
    """Mark a new data directory as a demo's or a real school's, and refuse to start the one
    on the other's: the demo's published passwords must never open real children's data,
    and a real school must never be seeded with the demo's."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    wanted = "demo" if settings.demo else "school"
    marker = settings.data_dir / MODE_FILE
    has_data = (settings.data_dir / "events.db").exists()
    if not marker.exists():
        if has_data and settings.demo:
            raise WrongDataDirectory(
                f"{settings.data_dir} already holds data: the demo needs a directory of its own"
                " (make demo uses var/demo)"
            )
        marker.write_text(wanted + "\n")
        return
    found = marker.read_text().strip()
    if found != wanted:
        raise WrongDataDirectory(
            f"{settings.data_dir} holds a {found}'s data: "
            + (
                "the demo runs in a directory of its own (make demo uses var/demo)"
                if settings.demo
                else "a real school needs a directory of its own (SCHOOLGATE_DATA_DIR)"
            )
        )


SERVICES: tuple[ServiceDefinition, ...] = (
    POINTS,
    ROSTER,
    CONSENT,
    STORIES,
    MESSAGING,
    NOTIFICATIONS,
)
log = structlog.get_logger()


@dataclass
class Embedded:
    parts: Parts
    apps: dict[str, FastAPI]
    workers: WorkerProcess


@contextlib.asynccontextmanager
async def open_parts(
    settings: GatewaySettings, clock: Callable[[], datetime] = utc_now
) -> AsyncIterator[Parts]:
    """The data directory's event store, read models and media, as both processes open them."""
    data = settings.data_dir
    async with contextlib.AsyncExitStack() as opened:
        keyring = open_keyring(settings)
        if keyring is not None:
            opened.callback(keyring.store.close)
        store = await SqliteEventStore.open(data / "events.db", clock=clock, keyring=keyring)
        opened.push_async_callback(store.close)
        readmodels = await SqliteReadModelStore.open(data / "readmodels.db")
        opened.push_async_callback(readmodels.close)
        media = await FilesystemMediaStore.open(data / "media", clock=clock)
        opened.push_async_callback(media.close)
        yield Parts(store=store, readmodels=readmodels, media=media, clock=clock, keyring=keyring)


@contextlib.asynccontextmanager
async def run_embedded(
    settings: GatewaySettings, *, clock: Callable[[], datetime] = utc_now
) -> AsyncIterator[Embedded]:
    async with open_parts(settings, clock) as parts:
        assert isinstance(parts.store, SqliteEventStore)
        apps = {d.name: d.create_app(settings, parts) for d in SERVICES}
        async with (
            WorkerProcess(settings, parts.store).running() as workers,
            contextlib.AsyncExitStack() as lifespans,
        ):
            # each service's own start-up and shutdown, e.g. resuming an unfinished import
            for service_app in apps.values():
                await lifespans.enter_async_context(
                    service_app.router.lifespan_context(service_app)
                )
            yield Embedded(parts=parts, apps=apps, workers=workers)


def print_opening_link(link: str) -> None:
    """Said on every start until a school is opened: the link of the last start works."""
    lines = [
        "",
        "No school is open here yet. The head teacher opens it with this one-time link",
        "(it works for 7 days; keep it private):",
        f"  {link}",
        "",
    ]
    print("\n".join(lines), file=sys.stderr, flush=True)


def create_app(
    settings: EmbeddedSettings | None = None, *, clock: Callable[[], datetime] = utc_now
) -> FastAPI:
    settings = settings or EmbeddedSettings()
    claim_data_dir(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with run_embedded(settings, clock=clock) as embedded:
            accounts = await Accounts.open(settings.private_store_location(), clock=clock)
            gateway = build_gateway(
                settings,
                accounts,
                embedded.parts.readmodels,
                services={
                    name: ServiceAddress(
                        f"http://{name}.internal",
                        httpx.ASGITransport(app=called_in_process(service_app)),
                        timeout=60,
                    )
                    for name, service_app in embedded.apps.items()
                },
                store=embedded.parts.store,
                media=embedded.parts.media,
                keyring=embedded.parts.keyring,
                clock=clock,
            )
            # the services' own APIs are reached through the gateway only, never mounted on
            # the public port: they trust the identity a caller presents
            gateway_app = create_gateway_app(gateway)
            gateway_app.state.kit.ready_checks["workers"] = embedded.workers.ping
            app.mount("/", gateway_app)
            app.state.embedded = embedded
            if settings.demo:
                await demo.seed(gateway, embedded.parts.readmodels)
                demo.print_accounts()
            else:
                link = await opening.link_for_a_fresh_install(gateway)
                if link is not None:
                    print_opening_link(link)
            settle_heap()
            try:
                yield
            finally:
                await gateway.close()
                await accounts.close()

    return outer_app(settings, lifespan)
