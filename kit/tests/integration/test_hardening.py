"""No input takes a server down: what every app answers before its routes do, over real
sockets to a real uvicorn configured as the cluster and the embedded mode configure it."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import APIRouter, FastAPI, Request
from schoolgate_kit.app import Kit, create_service_app, outer_app
from schoolgate_kit.guard import ROUTE_CHECK_MARGIN, allow_body
from schoolgate_kit.problems import Problem
from schoolgate_kit.server import server_config
from schoolgate_kit.settings import Settings

LIMIT = 64 * 1024
UPLOAD_LIMIT = 256 * 1024
SECRET_IN_ERROR = "mongodb://admin:hunter2@db.internal"


class UploadTooLarge(Problem):
    status, slug, title = 413, "upload-too-large", "The upload is too large"


routes = APIRouter()


@routes.post("/notes")
async def note(body: dict[str, Any]) -> dict[str, int]:
    return {"keys": len(body)}


@routes.post("/raw")
async def raw(request: Request) -> dict[str, int]:
    """A route that reads its body itself without a limit of its own: the guard's applies."""
    return {"bytes": len(await request.body())}


@routes.post("/uploads", dependencies=[allow_body(lambda request: UPLOAD_LIMIT)])
async def upload(request: Request) -> dict[str, int]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > UPLOAD_LIMIT:
            raise UploadTooLarge(f"at most {UPLOAD_LIMIT} bytes")
    return {"bytes": size}


@routes.get("/items/{item}")
async def item(item: str) -> dict[str, str]:
    return {"item": item}


@routes.get("/whoami")
async def whoami(request: Request) -> dict[str, str]:
    return {"host": request.client.host if request.client else ""}


async def failing() -> None:
    raise ConnectionError(f"cannot reach {SECRET_IN_ERROR}")


def make_app(settings: Settings) -> FastAPI:
    kit = Kit(
        name="hardening",
        settings=settings,
        clock=lambda: datetime.now(UTC),
        ready_checks={"database": failing},
    )
    return create_service_app(kit, routers=[routes])


def settings_for(**overrides: Any) -> Settings:
    given: dict[str, Any] = {
        "body_limit_bytes": LIMIT,
        "body_timeout_seconds": 1.0,
        "header_timeout_seconds": 1.0,
        **overrides,
    }
    return Settings(**given)


@contextlib.contextmanager
def serving(app: Any, settings: Settings) -> Iterator[str]:
    """``app`` served by uvicorn as ``schoolgate_kit.server`` configures it, on a free port."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(server_config(app, settings, host="127.0.0.1", port=port))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    started = threading.Event()
    while not started.wait(0.01):
        if server.started:
            started.set()
        assert thread.is_alive(), "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


def served_as_cluster(settings: Settings) -> FastAPI:
    """As ``python -m schoolgate_<service> serve`` serves it: mounted in the process's app."""

    @contextlib.asynccontextmanager
    async def lifespan(outer: FastAPI) -> AsyncIterator[None]:
        outer.mount("/", make_app(settings))
        yield

    return outer_app(settings, lifespan)


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    settings = settings_for()
    with serving(served_as_cluster(settings), settings) as url:
        yield url


def raw_exchange(base: str, request: bytes, *, wait: float = 20.0) -> bytes:
    """Send ``request`` as bytes and read until the server closes the connection."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
        return answer


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


# --- bodies ------------------------------------------------------------------------------


def test_a_declared_length_over_the_limit_is_refused_before_any_of_the_body(base: str) -> None:
    head = (
        b"POST /raw HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Length: 10737418240\r\n\r\n"
    )
    # nothing of the 10 GB is sent: the answer comes, and the connection closes, regardless
    answer = raw_exchange(base, head)
    assert status_of(answer) == 413
    assert b"application/problem+json" in answer and b"payload-too-large" in answer
    assert b"connection: close" in answer.lower()


def test_a_json_body_over_the_limit_is_refused_with_a_problem(base: str) -> None:
    big = {"text": "x" * (LIMIT + 1)}
    answer = httpx.post(f"{base}/notes", json=big)
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/payload-too-large")
    assert httpx.post(f"{base}/notes", json={"text": "x" * 100}).json() == {"keys": 1}


def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(base: str) -> None:
    sent = 0

    def chunks() -> Iterator[bytes]:
        nonlocal sent
        for _ in range(1000):  # 16 MB if it were all read
            sent += 16384
            yield b"\0" * 16384

    with contextlib.suppress(httpx.WriteError, httpx.RemoteProtocolError):
        answer = httpx.post(f"{base}/raw", content=chunks())
        assert answer.status_code == 413
        assert answer.json()["type"].endswith("/payload-too-large")
    assert sent < 1000 * 16384, "the whole body was taken"


def test_an_upload_route_takes_more_and_its_own_check_answers_first(base: str) -> None:
    fits = httpx.post(f"{base}/uploads", content=b"\1" * UPLOAD_LIMIT)
    assert fits.status_code == 200 and fits.json() == {"bytes": UPLOAD_LIMIT}
    over = httpx.post(f"{base}/uploads", content=b"\1" * (UPLOAD_LIMIT + 1))
    assert over.status_code == 413 and over.json()["type"].endswith("/upload-too-large")
    # far over, by its declared length: the guard's bound, never read
    head = (
        f"POST /uploads HTTP/1.1\r\nHost: x\r\n"
        f"Content-Length: {UPLOAD_LIMIT + ROUTE_CHECK_MARGIN + 1}\r\n\r\n"
    ).encode()
    assert status_of(raw_exchange(base, head)) == 413
    # and the same body on a route that declared nothing
    assert httpx.post(f"{base}/raw", content=b"\1" * UPLOAD_LIMIT).status_code == 413


def test_a_body_that_stops_arriving_is_answered_408_and_the_connection_closed(
    base: str,
) -> None:
    half = b"POST /raw HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"a" * 10
    answer = raw_exchange(base, half)
    assert status_of(answer) == 408
    assert b"request-timeout" in answer and b"connection: close" in answer.lower()


# --- request targets ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        b"/items/a%00b",
        b"/items/a%0Ab",
        b"/items/a%0db",
        b"/items/a%7Fb",
        b"/items/a%C2%85b",  # NEL, a C1 control character
        b"/items/%ZZ",
        b"/items/a%",
        b"/items/%FF%FE",  # not UTF-8
        b"/a%0A",  # reaches none of the process's mounts
    ],
)
def test_an_unreadable_path_is_a_400_problem(base: str, target: bytes) -> None:
    answer = raw_exchange(
        base, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert status_of(answer) == 400, answer[:200]
    assert b"application/problem+json" in answer and b"nosniff" in answer


def test_an_escaped_delimiter_stays_inside_its_segment(base: str) -> None:
    """Not a segment boundary, a query or a fragment: the segment holds it, still escaped."""
    for escaped in ("a%2Fb", "a%3Fb", "a%23b", "a%25b", "a%2fb"):
        answer = httpx.get(f"{base}/items/{escaped}")
        assert answer.status_code == 200, escaped
        assert answer.json() == {"item": escaped.replace("%2f", "%2F")}, escaped
    # other escapes are decoded as ever
    assert httpx.get(f"{base}/items/caf%C3%A9%20au%20lait").json() == {"item": "café au lait"}
    assert httpx.get(f"{base}/items/a%2Fb/more").status_code == 404


# --- headers ------------------------------------------------------------------------------


def test_every_answer_carries_the_security_headers(base: str) -> None:
    for answer in (
        httpx.get(f"{base}/healthz"),
        httpx.get(f"{base}/nowhere"),
        httpx.post(f"{base}/notes", content=b"{"),
    ):
        headers = answer.headers
        policy = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert "camera=()" in headers["permissions-policy"]
        assert "strict-transport-security" not in headers  # not production
        assert len(headers.get_list("content-security-policy")) == 1


# --- development and production -----------------------------------------------------------


def test_readiness_names_a_failing_check_without_its_exception(base: str) -> None:
    answer = httpx.get(f"{base}/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"] == {"database": "failing"}
    assert "hunter2" not in answer.text and "ConnectionError" not in answer.text


def test_development_serves_metrics_and_documentation(base: str) -> None:
    assert httpx.get(f"{base}/metrics").status_code == 200
    assert httpx.get(f"{base}/openapi.json").status_code == 200
    assert httpx.get(f"{base}/docs").status_code == 200


def test_production_keeps_metrics_and_documentation_private() -> None:
    token = "prometheus-" + "t" * 40
    settings = settings_for(
        environment="production",
        identity_secret="production-identity-secret-" + "s" * 30,
        metrics_token=token,
    )
    with serving(served_as_cluster(settings), settings) as url:
        for path in ("/openapi.json", "/docs", "/redoc"):
            assert httpx.get(url + path).status_code == 404, path
        assert httpx.get(f"{url}/metrics").status_code == 401
        wrong = httpx.get(f"{url}/metrics", headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = httpx.get(f"{url}/metrics", headers={"authorization": f"Bearer {token}"})
        assert right.status_code == 200 and "schoolgate_http_requests" in right.text
        hsts = httpx.get(f"{url}/healthz").headers["strict-transport-security"]
        assert "max-age=" in hsts


def test_production_without_a_metrics_token_has_no_metrics_page() -> None:
    settings = settings_for(
        environment="production", identity_secret="production-identity-secret-" + "s" * 30
    )
    with serving(make_app(settings), settings) as url:
        assert httpx.get(f"{url}/metrics").status_code == 404


# --- connections ------------------------------------------------------------------------


def test_connections_that_never_finish_their_head_are_closed_and_others_are_served(
    base: str,
) -> None:
    host, port = base.removeprefix("http://").split(":")
    stalled = []
    for n in range(50):
        conn = socket.create_connection((host, int(port)), timeout=30)
        # half a request line, or nothing at all
        conn.sendall(b"GET /healthz HT" if n % 2 else b"")
        stalled.append(conn)
    try:
        # while they hang, the server answers others
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
        for conn in stalled:
            # the server closes each: recv sees the end (the socket's timeout would raise)
            assert conn.recv(1024) == b""
    finally:
        for conn in stalled:
            conn.close()


def test_a_slowly_sent_head_is_closed_even_while_bytes_keep_coming(base: str) -> None:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\n")
        closed = threading.Event()

        def drip() -> None:
            # a header byte now and then, never the end of the head
            with contextlib.suppress(OSError):
                while not closed.wait(0.2):
                    conn.sendall(b"X")

        dripper = threading.Thread(target=drip, daemon=True)
        dripper.start()
        try:
            assert conn.recv(1024) == b""
        finally:
            closed.set()
            dripper.join()


# --- the client's address -------------------------------------------------------------------


def test_forwarded_for_is_ignored_without_trusted_proxies(base: str) -> None:
    answer = httpx.get(f"{base}/whoami", headers={"x-forwarded-for": "203.0.113.9"})
    assert answer.json() == {"host": "127.0.0.1"}


def test_forwarded_for_is_the_client_behind_a_trusted_proxy() -> None:
    settings = settings_for(trusted_proxies="10.0.0.0/8, 127.0.0.1")
    with serving(make_app(settings), settings) as url:
        behind = httpx.get(f"{url}/whoami", headers={"x-forwarded-for": "203.0.113.9"})
        assert behind.json() == {"host": "203.0.113.9"}
        direct = httpx.get(f"{url}/whoami")
        assert direct.json() == {"host": "127.0.0.1"}


def test_a_trusted_proxy_that_is_not_an_address_is_refused() -> None:
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        Settings(trusted_proxies="10.0.0.0/8, the-load-balancer")
