"""A write's answer names its position, and a reader can wait for exactly that position to
be projected: a real uvicorn, real SQLite files and the real projection runner."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, Field
from schoolgate_contracts import Event, Metadata
from schoolgate_kit.app import POSITION_HEADER, Followed, Kit, create_service_app
from schoolgate_kit.commands import execute
from schoolgate_kit.eventstore import NO_STREAM
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.projections import run_projection
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.server import server_config
from schoolgate_kit.settings import Settings
from schoolgate_kit.testing.events import ManualClock, award, target
from schoolgate_kit.testing.waiting import position_of, until, until_projected
from schoolgate_points.projections import TARGETS, WEEKLY_TOTALS, targets, weekly_totals

MONDAY = date(2026, 11, 16)


class AwardBody(BaseModel):
    award_id: str = Field(min_length=1, max_length=64)


@dataclass
class Served:
    url: str
    store: SqliteEventStore
    readmodels: SqliteReadModelStore

    @contextlib.asynccontextmanager
    async def projecting(self, *projections: Any) -> AsyncIterator[None]:
        tasks = [
            asyncio.create_task(run_projection(p, self.store, self.readmodels)) for p in projections
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def make_app(store: SqliteEventStore, readmodels: SqliteReadModelStore) -> FastAPI:
    routes = APIRouter()

    @routes.post("/pupils/{pupil_id}/awards")
    async def give(pupil_id: str, body: AwardBody, request: Request) -> dict[str, str]:
        point = award(pupil_id, award_id=body.award_id, on=MONDAY).event

        def decide(given: bool) -> list[Event]:
            return [] if given else [point]

        await execute(
            store,
            f"award-{body.award_id}",
            initial=lambda: False,
            evolve=lambda given, event: True,
            decide=decide,
            metadata=Metadata(
                occurred_at=datetime.now(UTC),
                school_id="school-1",
                actor="teacher-1",
                correlation_id=request.state.correlation_id,
            ),
        )
        return {"status": "given"}

    @routes.get("/pupils/{pupil_id}/week")
    async def week(pupil_id: str) -> dict[str, Any]:
        docs = await readmodels.find(WEEKLY_TOTALS, {"pupil_id": pupil_id})
        return {"totals": docs}

    kit = Kit(
        name="caught-up-test",
        settings=Settings(),
        clock=lambda: datetime.now(UTC),
        followed=Followed((weekly_totals, targets), readmodels, store),
    )
    return create_service_app(kit, routers=[routes])


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=ManualClock())
    readmodels = await SqliteReadModelStore.open(tmp_path / "readmodels.db")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = server_config(make_app(store, readmodels), Settings(), host="127.0.0.1", port=port)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    await until(lambda: server.started or serving.done(), within=30, why="uvicorn started")
    assert not serving.done(), "uvicorn did not start"
    try:
        yield Served(f"http://127.0.0.1:{port}", store, readmodels)
    finally:
        server.should_exit = True
        await serving
        listener.close()
        await readmodels.close()
        await store.close()


async def test_a_write_answers_with_the_position_it_appended_at(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.url) as client:
        await served.store.append("award-other", [award("p9")], expected_version=NO_STREAM)
        given = await client.post("/pupils/p1/awards", json={"award_id": "a1"})
        assert given.status_code == 200, given.text
        assert given.headers[POSITION_HEADER] == str(await served.store.head()) == "2"

        again = await client.post("/pupils/p1/awards", json={"award_id": "a1"})
        bad = await client.post("/pupils/p1/awards", json={"award_id": ""})
        read = await client.get("/pupils/p1/week")
    # a safe retry, a refused write and a read append nothing, so name no position
    assert again.status_code == 200 and bad.status_code == 422 and read.status_code == 200
    for answer in (again, bad, read):
        assert POSITION_HEADER not in answer.headers
    with pytest.raises(AssertionError, match="appended nothing"):
        position_of(again)


async def test_a_reader_waits_for_the_write_and_then_reads_it(served: Served) -> None:
    async with httpx.AsyncClient(base_url=served.url) as client:
        given = await client.post("/pupils/p1/awards", json={"award_id": "a1"})
        # no runner yet: the read model cannot have it, and the wait says which is behind
        early = await client.get(
            "/projections/caught-up", params={"position": position_of(given), "within": 0.2}
        )
        assert early.status_code == 504
        assert early.headers["content-type"] == "application/problem+json"
        assert early.json()["behind"] == [WEEKLY_TOTALS]

        async with served.projecting(weekly_totals, targets):
            await until_projected(client, given)
            # no polling: once caught up, the read model has the write
            week = (await client.get("/pupils/p1/week")).json()
    assert [d["total"] for d in week["totals"]] == [1]


async def test_a_projection_no_written_event_concerns_is_not_waited_for(served: Served) -> None:
    async with served.projecting(weekly_totals), httpx.AsyncClient(base_url=served.url) as client:
        # targets has no runner at all, and still nothing it handles lies before the award
        given = await client.post("/pupils/p1/awards", json={"award_id": "a1"})
        await until_projected(client, given, within=5)

        aimed = await served.store.append("target-p1", [target("p1")], expected_version=NO_STREAM)
        answer = await client.get(
            "/projections/caught-up", params={"position": aimed.position, "within": 0.2}
        )
        # past the head, what is appended next may concern either: neither has reached it
        ahead = await client.get(
            "/projections/caught-up", params={"position": aimed.position + 5, "within": 0.2}
        )
    assert answer.status_code == 504
    assert answer.json()["behind"] == [TARGETS]
    assert ahead.status_code == 504
    assert ahead.json()["behind"] == [WEEKLY_TOTALS, TARGETS]


@pytest.mark.parametrize(
    "params",
    [{}, {"position": "-1"}, {"position": "soon"}, {"position": "1", "within": "60"}],
)
async def test_a_bad_wait_is_a_problem(served: Served, params: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=served.url) as client:
        answer = await client.get("/projections/caught-up", params=params)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
