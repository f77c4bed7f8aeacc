"""How a service runs as its own processes in the cluster: one command, several roles.

python -m schoolgate_<service> serve            the HTTP API
python -m schoolgate_<service> work             its projections and reactors
python -m schoolgate_<service> rebuild NAME     rebuild one projection from position 0
python -m schoolgate_kit relay                  store -> bus
python -m schoolgate_kit dead-letters list|replay QUEUE
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
import uvloop
from fastapi import FastAPI

from schoolgate_kit.adapters import (
    open_bus,
    open_event_store,
    open_keyring,
    open_media,
    open_read_models,
)
from schoolgate_kit.app import outer_app
from schoolgate_kit.bus import Bus
from schoolgate_kit.clock import utc_now
from schoolgate_kit.crypto import Keyring
from schoolgate_kit.eventstore import EventStore
from schoolgate_kit.keys import require_secrets
from schoolgate_kit.logging import configure_logging
from schoolgate_kit.media import MediaStore
from schoolgate_kit.projections import Projection, rebuild, run_projection
from schoolgate_kit.reactors import Reactor, start_reactor
from schoolgate_kit.readmodels import ReadModelStore
from schoolgate_kit.relay import run_relay
from schoolgate_kit.server import serve
from schoolgate_kit.settings import Settings

log = structlog.get_logger()


@dataclass(frozen=True)
class Parts:
    store: EventStore
    readmodels: ReadModelStore
    media: MediaStore
    clock: Callable[[], datetime]
    keyring: Keyring | None = None
    """Opens and seals personal values; the store holds the same one."""


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    create_app: Callable[[Settings, Parts], FastAPI]
    projections: Sequence[Projection] = ()
    reactors: Callable[[Parts], Sequence[Reactor]] = lambda parts: ()
    tasks: Callable[[Parts], Sequence[Callable[[], Coroutine[Any, Any, None]]]] = lambda parts: ()
    """Work that runs beside the reactors until cancelled, such as sending what falls due."""


def run(main: Coroutine[Any, Any, None]) -> None:
    """Run a role's main coroutine on uvloop, as uvicorn runs the HTTP APIs: the relay
    spends most of its time in the event loop and socket writes, where uvloop is faster."""
    uvloop.run(main)


YOUNG_COLLECTION_EVERY = 10_000
"""Tracked objects allocated (net) between young collections; CPython's default is 700.

A server's objects mostly die young by reference counting, before any collection. At
700, each 20 s run of the freshness benchmark's 500 awards/s (four runs, counting the
embedded server's whole life) made 840-1,450 young collections, 76-131 of the middle
generation (up to 14 ms each) and, during the load, a full collection every two seconds
or so that freed nothing and held the event loop for 30-60 ms: 0.8-1.7 s of pauses in
all. At 10,000 it made 14 young collections, 1 of the middle generation and only the
full one at start-up: 0.27 s."""

RELAY_YOUNG_COLLECTION_EVERY = 200_000
"""The relay's: it holds a few thousand events at a time (its window of unconfirmed
batches and the batches read ahead), and their objects come and go by the ten thousand.
At 10,000, each swell set off a young collection that walked them all and freed nothing:
relaying 50,000 events made about 100 young and 8 middle collections, 1.0-1.7 s of a
9-12 s run. At 200,000 it made none."""


def settle_heap(young_every: int = YOUNG_COLLECTION_EVERY) -> None:
    """Start-up is over: what it made (modules, models, routes, schemas, seeded state) lives
    as long as the process, so move it out of the cycle collector's way. Its full
    collections walked all of it, and under load paused the event loop for 80-100 ms at a
    time; afterwards they took about 5 ms. From now on the collector also runs less often
    (every ``young_every`` tracked objects), and looks at everything only a tenth as
    often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(young_every, 10, 100)


@contextlib.asynccontextmanager
async def open_parts(settings: Settings, database: str) -> AsyncIterator[Parts]:
    async with contextlib.AsyncExitStack() as opened:
        keyring = open_keyring(settings)
        if keyring is not None:
            opened.callback(keyring.store.close)
        store = await open_event_store(settings, utc_now, keyring)
        opened.push_async_callback(store.close)
        readmodels = await open_read_models(settings, database=database)
        opened.push_async_callback(readmodels.close)
        media = await open_media(settings, utc_now)
        opened.push_async_callback(media.close)
        yield Parts(store=store, readmodels=readmodels, media=media, clock=utc_now, keyring=keyring)


async def run_workers(
    projections: Sequence[Projection],
    reactors: Sequence[Reactor],
    parts: Parts,
    bus: Bus,
    *,
    rebuild_workers: int = 0,
    tasks: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
) -> None:
    """Run these projections, reactors and tasks (a service's, or the embedded worker
    process's) until cancelled."""
    subscriptions = [await start_reactor(r, bus, parts.keyring) for r in reactors]
    try:
        async with asyncio.TaskGroup() as group:
            for projection in projections:
                group.create_task(
                    run_projection(
                        projection,
                        parts.store,
                        parts.readmodels,
                        rebuild_workers=rebuild_workers,
                    ),
                    name=f"projection:{projection.name}",
                )
            for task in tasks:
                group.create_task(task(), name=getattr(task, "__name__", "task"))
            if not projections and not tasks:
                group.create_task(asyncio.Event().wait())
    finally:
        for subscription in subscriptions:
            with contextlib.suppress(Exception):
                await subscription.stop()


def _serve(definition: ServiceDefinition, settings: Settings, host: str, port: int) -> None:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_parts(settings, definition.name) as parts:
            inner = definition.create_app(settings, parts)
            app.mount("/", inner)
            async with inner.router.lifespan_context(inner):
                settle_heap()
                yield

    serve(outer_app(settings, lifespan), settings, host=host, port=port)


async def _work(definition: ServiceDefinition, settings: Settings) -> None:
    async with open_parts(settings, definition.name) as parts:
        bus = await open_bus(settings, parts.readmodels)
        settle_heap()
        try:
            await run_workers(
                definition.projections,
                definition.reactors(parts),
                parts,
                bus,
                rebuild_workers=settings.rebuild_workers,
                tasks=definition.tasks(parts),
            )
        finally:
            await bus.close()


async def _rebuild(definition: ServiceDefinition, settings: Settings, name: str) -> None:
    wanted = [p for p in definition.projections if p.name == name]
    if not wanted:
        known = ", ".join(p.name for p in definition.projections) or "none"
        raise SystemExit(f"{definition.name} has no projection {name!r} (it has: {known})")

    def progress(position: int, target: int) -> None:
        print(f"\r{name}: {position}/{target}", end="", file=sys.stderr, flush=True)

    async with open_parts(settings, definition.name) as parts:
        generation = await rebuild(
            wanted[0],
            parts.store,
            parts.readmodels,
            progress=progress,
            workers=settings.rebuild_workers,
        )
    print(f"\n{name}: generation {generation} is live", file=sys.stderr)


def service_main(definition: ServiceDefinition, argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=f"schoolgate_{definition.name}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    commands.add_parser("work", help="run projections and reactors")
    again = commands.add_parser("rebuild", help="rebuild a projection from position 0")
    again.add_argument("projection")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command in ("serve", "work"):
        require_secrets(settings)
    configure_logging(development=settings.is_development, level=settings.log_level)
    structlog.contextvars.bind_contextvars(service=definition.name)
    if args.command == "serve":
        _serve(definition, settings, args.host, args.port)
    elif args.command == "work":
        run(_work(definition, settings))
    else:
        run(_rebuild(definition, settings, args.projection))


async def _relay(settings: Settings) -> None:
    async with open_parts(settings, "relay") as parts:
        bus = await open_bus(settings, parts.readmodels)
        settle_heap(young_every=RELAY_YOUNG_COLLECTION_EVERY)
        try:
            await run_relay(
                parts.store,
                bus,
                parts.readmodels,
                batch_size=settings.relay_batch_size,
                keyring=parts.keyring,
            )
        finally:
            await bus.close()


async def _dead_letters(settings: Settings, action: str, queue: str) -> None:
    async with open_parts(settings, "dead-letters") as parts:
        bus = await open_bus(settings, parts.readmodels)
        try:
            if action == "list":
                letters = await bus.dead_letters(queue)
                for letter in letters:
                    m = letter.message
                    print(
                        f"{m.message_id}\t{m.routing_key}\t{letter.reason}\t"
                        f"{m.headers.get('stream', '')}@{m.headers.get('position', '')}"
                    )
                print(f"{len(letters)} dead letters in {queue}", file=sys.stderr)
            else:
                count = await bus.replay_dead_letters(queue)
                print(f"replayed {count} dead letters onto {queue}", file=sys.stderr)
        finally:
            await bus.close()


def kit_main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="schoolgate_kit")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("relay", help="publish every stored event to the bus")
    dead = commands.add_parser("dead-letters", help="list or replay a queue's dead letters")
    dead.add_argument("action", choices=["list", "replay"])
    dead.add_argument("queue")
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "relay":
        require_secrets(settings)
    configure_logging(development=settings.is_development, level=settings.log_level)
    if args.command == "relay":
        structlog.contextvars.bind_contextvars(service="relay")
        run(_relay(settings))
    else:
        run(_dead_letters(settings, args.action, args.queue))
