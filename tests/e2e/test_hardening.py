"""Safe to run for a real school: the embedded server, as `make run` starts it, against the
inputs that once took it down or past its rules. Real process, real sockets."""

from __future__ import annotations

import csv
import io
import socket
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from schoolgate_kit.testing.waiting import GATEWAY_CAUGHT_UP_PATH, until_projected_sync

from ..conftest import Process, demo_ids, start_embedded  # type: ignore[import-not-found]
from .conftest import client_for, signed_in  # type: ignore[import-not-found]

TEACHER = {"email": "teacher@demo.school", "password": "demo-teacher-pass"}
LEADER = {"email": "leader@demo.school", "password": "demo-leader-pass"}
FORMULA = '=HYPERLINK("http://x","y")'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Process, Path]]:
    data = tmp_path_factory.mktemp("hardening")
    base, proc = start_embedded(data)
    yield base, proc, data
    proc.stop()


def peak_resident_bytes(proc: Process) -> int:
    """The most memory the process has held at once since it started (VmHWM): a body read
    whole and freed again leaves its mark here."""
    assert proc.proc is not None
    status = Path(f"/proc/{proc.proc.pid}/status").read_text()
    (line,) = [row for row in status.splitlines() if row.startswith("VmHWM:")]
    return int(line.split()[1]) * 1024


def exchange(base: str, request: bytes) -> bytes:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
        return answer


def test_the_embedded_secrets_are_made_in_the_data_directory(
    server: tuple[str, Process, Path],
) -> None:
    _, _, data = server
    secret = data / "secrets" / "identity_secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    assert data.stat().st_mode & 0o777 == 0o700


def test_a_100_mb_unauthenticated_body_costs_the_server_nothing(
    server: tuple[str, Process, Path],
) -> None:
    base, proc, _ = server
    before = peak_resident_bytes(proc)
    sent = 0

    def body() -> Iterator[bytes]:
        nonlocal sent
        yield b'{"email": "a@b.c", "password": "'
        for _ in range(100):
            sent += 1024 * 1024
            yield b"x" * (1024 * 1024)
        yield b'"}'

    statuses = []
    for path in ("/api/session", "/api/points/schools/demo-school/awards"):
        try:
            answer = httpx.post(
                base + path,
                content=body(),
                headers={"content-type": "application/json"},
                timeout=60,
            )
            statuses.append(answer.status_code)
        except (httpx.WriteError, httpx.RemoteProtocolError):
            statuses.append(413)  # refused and closed while the body was still being sent
    grown = peak_resident_bytes(proc) - before
    print(f"peak resident memory grew by {grown / 2**20:.1f} MiB for two 100 MB bodies")
    assert grown < 32 * 1024 * 1024
    assert statuses in ([413, 401], [413, 413]), statuses


def test_a_declared_10_gb_body_is_refused_without_waiting_for_it(
    server: tuple[str, Process, Path],
) -> None:
    base, _, _ = server
    answer = exchange(
        base,
        b"POST /api/session HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 10737418240\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"application/problem+json" in answer


def test_control_characters_in_a_path_are_a_400_problem_never_a_500(
    server: tuple[str, Process, Path],
) -> None:
    base, _, _ = server
    teacher = signed_in(base, TEACHER)
    for segment in ("a%00b", "a%0Ab", "a%0D%0Ab", "a%1Bb", "a%7Fb", "%E2%80", "%G1"):
        for prefix in ("/api/points/schools/demo-school/pupils/", "/api/pupils/", "/"):
            answer = teacher.get(prefix + segment)
            assert answer.status_code == 400, (prefix + segment, answer.status_code)
            assert answer.headers["content-type"] == "application/problem+json"


def test_an_escaped_slash_is_not_a_path_separator_through_the_gateway(
    server: tuple[str, Process, Path],
) -> None:
    base, _, _ = server
    oak = demo_ids(base)["oak"]
    leader = signed_in(base, LEADER)
    week = {"from": date.today().isoformat(), "to": (date.today() + timedelta(6)).isoformat()}
    plain = leader.get(f"/api/points/schools/demo-school/classes/{oak}/report", params=week)
    assert plain.status_code == 200, plain.text
    escaped = leader.get(f"/api/points/schools/demo-school/classes/{oak}%2Freport", params=week)
    assert escaped.status_code in (404, 405, 422), escaped.status_code
    question = leader.get(f"/api/points/schools/demo-school/classes/{oak}%2Freport%3Fformat=csv")
    assert question.status_code in (404, 405, 422), question.status_code


def test_pages_and_answers_carry_the_security_headers(server: tuple[str, Process, Path]) -> None:
    base, _, _ = server
    anonymous = client_for(base)
    script = anonymous.get("/static/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    for answer in (anonymous.get("/"), script, anonymous.get("/api/me")):
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "'unsafe-inline'" not in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
    # a shared tablet's disk cache keeps no one's answers (the gateway's own, or relayed)
    leader = signed_in(base, LEADER)
    for address in ("/api/me", "/api/roster/schools/demo-school/pupils"):
        answer = leader.get(address)
        assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"


async def test_a_school_value_named_as_a_formula_is_text_in_the_csv_report(
    server: tuple[str, Process, Path],
) -> None:
    base, _, _ = server
    ids = demo_ids(base)
    leader, teacher = signed_in(base, LEADER), signed_in(base, TEACHER)
    added = leader.post("/api/roster/schools/demo-school/school-ways", json={"name": FORMULA})
    assert added.status_code == 201, added.text
    way = added.json()["school_way_id"]
    week = {"from": date.today().isoformat(), "to": (date.today() + timedelta(6)).isoformat()}

    def report() -> list[list[str]]:
        answer = leader.get(
            f"/api/points/schools/demo-school/classes/{ids['oak']}/report",
            params={**week, "format": "csv"},
        )
        assert answer.status_code == 200, answer.text
        return list(csv.reader(io.StringIO(answer.text)))

    until_projected_sync(leader, added, path=GATEWAY_CAUGHT_UP_PATH)
    given = teacher.post(
        "/api/awards",
        json={"pupil_id": ids["ada"], "school_way_id": way, "class_id": ids["oak"]},
    )
    assert given.status_code == 201, "points knows the new value: " + given.text
    until_projected_sync(teacher, given, path=GATEWAY_CAUGHT_UP_PATH)
    assert "'" + FORMULA in report()[0], "the report has it"
    for row in report():
        for cell in row:
            assert cell[:1] not in {"=", "+", "-", "@", "\t", "\r"}, row
