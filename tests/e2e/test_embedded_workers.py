"""The embedded worker process (projections, relay, reactors), as `make run` runs it: started
by the web process, started again if it dies, counted in the one ``/metrics``, and never
left running without the web process."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ..conftest import Process, demo_ids, start_embedded, until  # type: ignore[import-not-found]
from .conftest import client_for, signed_in  # type: ignore[import-not-found]

TEACHER = {"email": "teacher@demo.school", "password": "demo-teacher-pass"}
PARENT = {"email": "parent@demo.school", "password": "demo-parent-pass"}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Process]]:
    """A server of this test's own: these tests kill its processes."""
    base, proc = start_embedded(tmp_path)
    yield base, proc
    proc.stop()


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def workers_of(web: Process) -> list[int]:
    """The live worker processes the web process started."""
    assert web.proc is not None
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except (FileNotFoundError, ProcessLookupError):
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if (
            parent == web.proc.pid
            and b"schoolgate_embedded.work" in command
            and _alive(int(entry.name))
        ):
            found.append(int(entry.name))
    return found


def weekly_total(parent: httpx.Client, pupil_id: str) -> int:
    total: int = parent.get(f"/api/pupils/{pupil_id}/weekly-total").json()["total"]
    return total


def ada_for_kindness(base: str) -> dict[str, str]:
    ids = demo_ids(base)
    return {"pupil_id": ids["ada"], "school_way_id": ids["kindness"]}


async def test_a_killed_worker_process_is_started_again_and_no_award_is_lost(
    server: tuple[str, Process],
) -> None:
    base, web = server
    teacher, parent = signed_in(base, TEACHER), signed_in(base, PARENT)
    award = ada_for_kindness(base)
    await until(lambda: len(workers_of(web)) == 1, within=10, why="one worker process")
    [worker] = workers_of(web)
    before = weekly_total(parent, award["pupil_id"])

    os.kill(worker, signal.SIGKILL)
    await until(lambda: not _alive(worker), within=10)
    answer = teacher.post("/api/awards", json=award)
    assert answer.status_code == 201, answer.text  # the web process answers on its own

    await until(
        lambda: workers_of(web) not in ([], [worker]),
        within=30,
        why=f"the worker process was not started again:\n{web.log()}",
    )
    await until(
        lambda: weekly_total(parent, award["pupil_id"]) == before + 1,
        within=30,
        why="the award made while the worker process was down was not counted",
    )
    assert client_for(base).get("/readyz").json()["checks"]["workers"] == "ok"
    web.assert_alive()


async def test_the_worker_process_ends_with_the_web_process(
    server: tuple[str, Process],
) -> None:
    """Even when the web process is killed and cannot stop it."""
    _, web = server
    await until(lambda: len(workers_of(web)) == 1, within=10, why="one worker process")
    [worker] = workers_of(web)
    web.kill()
    await until(lambda: not _alive(worker), within=15, why="the worker process was left running")


def value(metrics: str, name: str, *labels: str) -> float:
    """The sum of a metric's series on a /metrics page that carry all ``labels`` (each as
    ``key="value"``); 0 where there are none."""
    total = 0.0
    for line in metrics.splitlines():
        series, _, number = line.rpartition(" ")
        if series.partition("{")[0] == name and all(label in series for label in labels):
            total += float(number)
    return total


async def test_one_metrics_page_counts_both_processes(server: tuple[str, Process]) -> None:
    """Operators scrape one address: what the worker process's projections and relay did
    is there beside what the web process did. Both processes define every metric, so only
    values can tell."""
    base, _ = server
    teacher = signed_in(base, TEACHER)
    answer = teacher.post("/api/awards", json=ada_for_kindness(base))
    assert answer.status_code == 201, answer.text
    client = client_for(base)

    weekly = 'projection="points.weekly_totals"'

    def counted() -> bool:
        metrics = client.get("/metrics").text
        return (
            value(metrics, "schoolgate_projection_events_total", weekly) >= 1
            and value(metrics, "schoolgate_relay_published_total") >= 1
        )

    await until(counted, within=15, why="the worker process's counts are not on /metrics")
    metrics = client.get("/metrics").text
    awards = ('route="/api/awards"', 'status="201"')
    assert value(metrics, "schoolgate_http_requests_total", *awards) >= 1  # the web process's
