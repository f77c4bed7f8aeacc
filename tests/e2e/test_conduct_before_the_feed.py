"""The family feed is the gateway's own read, so it keeps the rule the services keep: a parent
who has not accepted the school's current code of conduct sees nothing until they do."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from schoolgate_kit.testing.waiting import GATEWAY_CAUGHT_UP_PATH, until_projected_sync

from ..conftest import start_demo  # type: ignore[import-not-found]
from .conftest import signed_in  # type: ignore[import-not-found]

LEADER = {"email": "leader@demo.school", "password": "demo-leader-pass"}
PARENT = {"email": "parent@demo.school", "password": "demo-parent-pass"}
CODE = "/api/consent/schools/demo-school/code-of-conduct"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A server of this test's own: it changes the demo school's code of conduct."""
    base, proc = start_demo(tmp_path)
    yield base
    proc.stop()


def test_a_new_code_of_conduct_holds_the_feed_until_it_is_accepted(server: str) -> None:
    leader, parent = signed_in(server, LEADER), signed_in(server, PARENT)
    assert parent.get("/api/feed").status_code == 200
    published = leader.put(CODE, json={"text": "Be kind online and in person. Version two."})
    assert published.status_code in {200, 201}, published.text
    until_projected_sync(server, published, path=GATEWAY_CAUGHT_UP_PATH)
    held = parent.get("/api/feed")
    assert held.status_code == 403, held.text
    assert held.json()["type"].endswith("/code-of-conduct-not-accepted")
    version = published.json()["version"]
    accepted = parent.post(f"{CODE}/acceptances", json={"version": version})
    assert accepted.status_code in {200, 201}, accepted.text
    until_projected_sync(server, accepted, path=GATEWAY_CAUGHT_UP_PATH)
    assert parent.get("/api/feed").status_code == 200
