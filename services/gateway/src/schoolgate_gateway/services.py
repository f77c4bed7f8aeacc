"""Calling the services: HTTP with a short-lived signed identity and the correlation id."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi.responses import JSONResponse, Response
from schoolgate_kit.app import CAUGHT_UP_PATH, POSITION_HEADER
from schoolgate_kit.commands import note_written
from schoolgate_kit.identity import Identity, sign

MAX_KEPT_TOKENS = 10_000


@dataclass(frozen=True)
class ServiceAddress:
    """Where a service answers: its base URL and the transport that reaches it."""

    base_url: str
    transport: httpx.AsyncBaseTransport
    timeout: float


class ServiceClient:
    """One service, reached on its transport: over the network in the cluster, in-process
    (``httpx.ASGITransport``) in the embedded mode.

    Requests go to the transport itself, not through an ``httpx.AsyncClient``: one client
    serves every user, so it must never keep a cookie a service set for one of them and send
    it on another's request, nor follow a redirect on anyone's behalf. The client's cookie
    jar, redirects and auth hooks were also a third of an award's cost in the gateway."""

    def __init__(
        self,
        base_url: str,
        transport: httpx.AsyncBaseTransport,
        *,
        timeout: float,
        secret: str,
        ttl: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self._base = base_url.rstrip("/")
        self._transport = transport
        self._timeout = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
        self._secret = secret
        self._ttl = ttl
        self._clock = clock
        self._tokens: dict[Identity, tuple[str, datetime]] = {}

    def _token(self, identity: Identity) -> str:
        """A signed identity, reused for half its life: signing one per call cost more than
        many calls' own work, and a reused token is still good for at least half its ttl."""
        now = self._clock()
        kept = self._tokens.get(identity)
        if kept is not None and now < kept[1]:
            return kept[0]
        if len(self._tokens) >= MAX_KEPT_TOKENS:
            self._tokens.clear()
        token = sign(identity, secret=self._secret, now=now, ttl=self._ttl)
        self._tokens[identity] = (token, now + self._ttl / 2)
        return token

    async def _send(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str],
        json: Any = None,
        params: Any = None,
        content: bytes | AsyncIterator[bytes] | None = None,
        wait: float | None = None,
    ) -> httpx.Response:
        """``wait``: seconds this request may take, if not the service's usual timeout."""
        extensions = {"timeout": self._timeout}
        if wait is not None:
            extensions = {"timeout": dict.fromkeys(self._timeout, wait)}
        request = httpx.Request(
            method,
            self._base + path,
            params=params,
            json=json,
            content=content,
            headers=headers,
            extensions=extensions,
        )
        response = await self._transport.handle_async_request(request)
        response.request = request
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def call(
        self,
        method: str,
        path: str,
        *,
        identity: Identity,
        correlation_id: str,
        json: Any = None,
        params: Any = None,
        content: bytes | AsyncIterator[bytes] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        token = self._token(identity)
        answer = await self._send(
            method,
            path,
            json=json,
            params=params,
            content=content,
            headers={
                **(headers or {}),
                "authorization": f"Bearer {token}",
                "x-correlation-id": correlation_id,
            },
        )
        _note_position(answer)
        return answer

    async def caught_up(self, position: int, within: float) -> httpx.Response:
        """The service's answer to whether its read models reflect the log up to
        ``position``: an operations route, which needs no identity."""
        return await self._send(
            "GET",
            CAUGHT_UP_PATH,
            params={"position": position, "within": within},
            headers={},
            wait=within + 5,
        )

    async def close(self) -> None:
        await self._transport.aclose()


PASSED_HEADERS = (
    "content-type",
    "location",
    "cache-control",
    "retry-after",
    "content-disposition",
    "x-content-type-options",
)


def _note_position(answer: httpx.Response) -> None:
    """What a service appended for this request is the gateway's answer's to tell too:
    its middleware sends the newest position any call of the request reported."""
    position = answer.headers.get(POSITION_HEADER, "")
    if position.isdigit():
        note_written(int(position))


def relay_response(response: httpx.Response) -> Response:
    """Pass a service's answer on as it is: JSON, problem+json, an HTML letter or media
    bytes (with their type, caching and how the browser should show them), and the
    position of what it appended (as ``x-schoolgate-position``, by the gateway's own
    middleware)."""
    _note_position(response)
    content_type = response.headers.get("content-type", "")
    if content_type.endswith("json") and response.status_code != 429 and response.content:
        # passed on as the service wrote it: parsing and writing it again cost more than
        # the rest of relaying a page of conversations
        return Response(response.content, status_code=response.status_code, media_type=content_type)
    if content_type.endswith("json"):
        body = response.json() if response.content else None
        headers = {}
        if response.status_code == 429 and isinstance(body, dict) and "retry_after" in body:
            # the services' problems carry the wait in the body; browsers read the header
            headers["retry-after"] = str(body["retry_after"])
        if "retry-after" in response.headers:
            headers["retry-after"] = response.headers["retry-after"]
        return JSONResponse(
            body,
            status_code=response.status_code,
            media_type=response.headers["content-type"],
            headers=headers,
        )
    return Response(
        response.content,
        status_code=response.status_code,
        headers={k: v for k, v in response.headers.items() if k in PASSED_HEADERS},
    )
