"""Read your own write through the gateway: a write relayed from a service answers with
its position, and /api/caught-up waits for the gateway's and every service's read models
to reach it. Schoolgate as `make demo` runs it: the web process and its worker process."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from schoolgate_kit.app import POSITION_HEADER
from schoolgate_kit.testing.waiting import (
    GATEWAY_CAUGHT_UP_PATH,
    position_of,
    until_projected_sync,
)

from ..conftest import (  # type: ignore[import-not-found]
    DEMO_LEADER,
    Process,
    free_port,
    wait_for_http,
)

WAYS = "/api/roster/schools/demo-school/school-ways"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Schoolgate as `make demo` starts it, stopped even when it does not get ready: on a
    machine this busy, seeding the demo can take longer than the shared fixture waits."""
    data: Path = tmp_path_factory.mktemp("demo")
    port = free_port()
    env = {
        **os.environ,
        "SCHOOLGATE_DATA_DIR": str(data),
        "SCHOOLGATE_PORT": str(port),
        "SCHOOLGATE_ENVIRONMENT": "development",
        "SCHOOLGATE_DEMO": "1",
    }
    proc = Process("embedded", ["schoolgate_embedded"], env, data).start()
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base}/readyz", proc, within=180)
        yield base
    finally:
        proc.stop()


def test_a_write_through_the_gateway_is_read_back_once_caught_up(demo: str) -> None:
    with httpx.Client(base_url=demo, timeout=30) as leader:
        assert leader.post("/api/session", json=DEMO_LEADER).status_code == 200
        name = f"Courage {uuid.uuid4().hex[:6]}"
        added = leader.post(WAYS, json={"name": name, "description": "We try new things"})
        assert added.status_code == 201, added.text
        assert position_of(added) > 0

        until_projected_sync(leader, added, path=GATEWAY_CAUGHT_UP_PATH)
        listed = leader.get(WAYS)
    # no polling: once caught up, the roster's read model has the new value
    assert name in {w["name"] for w in listed.json()}
    assert POSITION_HEADER not in listed.headers  # a read appends nothing


def test_a_position_not_reached_is_a_504_naming_what_is_behind(demo: str) -> None:
    with httpx.Client(base_url=demo, timeout=30) as anyone:
        answer = anyone.get(GATEWAY_CAUGHT_UP_PATH, params={"position": 10**12, "within": 0.2})
        bad = anyone.get(GATEWAY_CAUGHT_UP_PATH, params={"position": "latest"})
    assert answer.status_code == 504, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    behind = answer.json()["behind"]
    assert any(n.startswith("gateway.") for n in behind)
    assert any(n.startswith("roster.") for n in behind)
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
