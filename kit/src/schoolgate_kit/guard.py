"""What every app answers before its routes do: request targets it cannot read, bodies too big
or too slow, and the security headers on every response.

One middleware, applied by ``create_service_app`` to the gateway and every service, so that
no route can forget it. A body is counted while it arrives, before anything buffers it: a
declared ``Content-Length`` over the limit is refused when the app first asks for the body,
without reading a byte of it, and a chunked body as soon as its count passes the limit. The
limit is the app's (``SCHOOLGATE_BODY_LIMIT_BYTES``, 1 MiB) unless the route raised it for
itself (``allow_body``, for uploads); a route is known only after routing, and nothing reads
the body before the route does.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from typing import Any

from fastapi import Depends, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schoolgate_kit.problems import MEDIA_TYPE, problem_body
from schoolgate_kit.settings import Settings

BODY_LIMIT = "schoolgate.body_limit"
"""Where a route's own body limit is kept in the request's scope."""
GUARDED = "schoolgate.guarded"
"""Marks a request an outer app's guard already watches (a process's app that mounts the
gateway and services): the inner guards let it through rather than count it again."""

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # the reward pictures are SVG data: URLs; a photo chosen for upload is previewed
        # from a blob: URL before it is sent
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    ]
)
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "camera",
        "microphone",
        "geolocation",
        "payment",
        "usb",
        "serial",
        "bluetooth",
        "hid",
        "midi",
        "magnetometer",
        "gyroscope",
        "accelerometer",
        "display-capture",
        "browsing-topics",
        "interest-cohort",
    )
)
HSTS = "max-age=31536000; includeSubDomains"


def security_headers(*, production: bool) -> list[tuple[bytes, bytes]]:
    """The headers every response carries unless the app chose its own of the same name.

    Strict-Transport-Security only in production: browsers ignore it over plain HTTP, and
    over HTTPS it would pin a developer's localhost to HTTPS for a year."""
    headers = {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "permissions-policy": PERMISSIONS_POLICY,
        "cross-origin-opener-policy": "same-origin",
    }
    if production:
        headers["strict-transport-security"] = HSTS
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


def raise_body_limit(request: Request, limit: int) -> None:
    """This request's body may be up to ``limit`` bytes. Call it before reading the body."""
    request.scope[BODY_LIMIT] = limit


ROUTE_CHECK_MARGIN = 1024 * 1024
"""How far past its own limit the guard lets an upload route read. The route checks the size
itself and answers with its own problem (``media-too-large``); the margin lets the bytes
that prove a body too big reach that check, one chunk at a time, before the guard's coarser
refusal would. The guard stays the bound should the route not look."""


def allow_body(limit: Callable[[Request], int]) -> Any:
    """A route dependency for uploads: the route takes bodies of up to ``limit(request)``
    bytes (and ``ROUTE_CHECK_MARGIN`` more, for its own check to refuse) instead of the
    app's limit. Only for routes that read the body themselves (``request.stream()``):
    FastAPI reads a declared JSON body before it runs the route's dependencies."""

    async def declare(request: Request) -> None:
        raise_body_limit(request, limit(request) + ROUTE_CHECK_MARGIN)

    return Depends(declare)


class Refused(Exception):
    """The guard refused the request's body; the guard answers it, whatever the app made of
    the exception on its way out."""

    def __init__(self, status: int, slug: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.slug, self.title, self.detail = status, slug, title, detail


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")
KEPT_ESCAPES = frozenset({b"2F", b"3F", b"23", b"25"})
"""``/``, ``?``, ``#`` and ``%`` themselves: a path with these escaped keeps them escaped."""


def _decode_escape(match: re.Match[bytes]) -> bytes:
    code = match.group(1).upper()
    return b"%" + code if code in KEPT_ESCAPES else bytes.fromhex(code.decode())


def readable_path(scope: Scope) -> tuple[str | None, str | None]:
    """The request's path as the routes should see it, or why it cannot be read.

    Starlette routes on the path with every escape decoded, so an escaped ``/`` became a
    segment boundary and an escaped ``?`` or ``#`` began a query or a fragment when the
    gateway passed the path on. Here an escaped delimiter stays escaped, inside its segment:
    ``/items/a%2Fb`` is the item ``a%2Fb``, never ``/items/a/b``."""
    raw: bytes = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    if b"%" not in raw:
        path = scope["path"]
    else:
        raw = raw.split(b"?", 1)[0]
        if _BAD_ESCAPE.search(raw):
            return None, "The address has a % that does not begin an escape like %2F."
        raw = _ESCAPE.sub(_decode_escape, raw)
        try:
            path = raw.decode("utf-8")
        except UnicodeDecodeError:
            return None, "The address is not UTF-8 text."
    if _CONTROL.search(path):
        return None, "The address holds a control character."
    return path, None


async def send_problem(
    send: Send,
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    instance: str,
    extra_headers: list[tuple[bytes, bytes]],
    close: bool = False,
) -> None:
    body = json.dumps(problem_body(status, slug, title, detail, instance)).encode()
    headers = [
        (b"content-type", MEDIA_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        *extra_headers,
    ]
    if close:
        # the rest of the body was never read: the connection cannot carry another request
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Guard:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.limit = settings.body_limit_bytes
        self.body_timeout = settings.body_timeout_seconds
        self.headers = security_headers(production=settings.is_production)
        self.names = {name for name, _ in self.headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get(GUARDED):
            await self.app(scope, receive, send)
            return
        scope[GUARDED] = True
        instance = _printable(scope)
        path, problem = readable_path(scope)
        if path is not None:
            scope["path"] = path
            declared, problem = _declared_length(scope)
        if problem is not None:
            await send_problem(
                send, 400, "bad-request", "Bad request", problem,
                instance=instance, extra_headers=self.headers,
            )  # fmt: skip
            return
        refused: Refused | None = None
        body_done = False
        received = 0
        started = False

        async def guarded_receive() -> Message:
            nonlocal refused, body_done, received
            if body_done:
                # after the body only http.disconnect comes, which a streaming response
                # waits for as long as it streams: no timeout here
                return await receive()
            if refused is not None:
                raise refused
            limit: int = scope.get(BODY_LIMIT, self.limit)
            if declared is not None and declared > limit:
                refused = _too_large(limit)
                raise refused
            try:
                async with asyncio.timeout(self.body_timeout):
                    message = await receive()
            except TimeoutError:
                refused = Refused(
                    408,
                    "request-timeout",
                    "The request took too long",
                    f"The body stopped arriving for {self.body_timeout:g} seconds.",
                )
                raise refused from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = _too_large(limit)
                    raise refused
                body_done = not message.get("more_body", False)
            else:
                body_done = True
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused is not None and not started:
                return  # whatever the app made of the refusal, the guard answers it
            if message["type"] == "http.response.start":
                started = True
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *(h for h in self.headers if h[0] not in present),
                ]
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except Exception:
            # the refusal itself, or what the app turned it into on its way out
            if refused is None or started:
                raise
        if refused is not None and not started:
            await send_problem(
                send, refused.status, refused.slug, refused.title, refused.detail,
                instance=instance, extra_headers=self.headers, close=True,
            )  # fmt: skip


def called_in_process(app: ASGIApp) -> ASGIApp:
    """``app`` as a caller in the same process reaches it: the embedded gateway, whose own
    guard has already read the request it is passing on (its path, its body within its
    limit, in its time) and which adds the security headers to its own answer.

    Only the path is read again, so that an escaped ``/`` the gateway kept inside a segment
    stays there; the rest of the guard is not run a second time. Never for an app that a
    network can reach: there the guard is all that stands before the routes."""

    async def guarded_by_the_caller(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path, problem = readable_path(scope)
            if path is None:
                await send_problem(
                    send, 400, "bad-request", "Bad request", problem or "",
                    instance=_printable(scope), extra_headers=[],
                )  # fmt: skip
                return
            scope["path"] = path
            scope[GUARDED] = True
        await app(scope, receive, send)

    return guarded_by_the_caller


def _too_large(limit: int) -> Refused:
    return Refused(
        413,
        "payload-too-large",
        "The request is too large",
        f"A request here can carry at most {limit} bytes.",
    )


def _declared_length(scope: Scope) -> tuple[int | None, str | None]:
    for name, value in scope["headers"]:
        if name == b"content-length":
            if not value.isdigit():
                return None, "Content-Length is not a number."
            return int(value), None
    return None, None


def _printable(scope: Scope) -> str:
    return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", scope.get("path", ""))[:512]
