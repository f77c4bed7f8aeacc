"""Cookie-session safety: cross-site request refusal and sign-in rate limits."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from urllib.parse import urlsplit

from schoolgate_kit.problems import Problem
from starlette.types import ASGIApp, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CrossSiteRequestGuard:
    """Refuse state-changing requests a browser says came from another site.

    Browsers send Sec-Fetch-Site on every request; older ones send Origin on cross-site
    POSTs. Either is enough to tell a forged form or fetch from another site.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS:
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            site = headers.get("sec-fetch-site")
            origin = headers.get("origin")
            host = headers.get("host", "")
            refused = (site is not None and site not in {"same-origin", "none"}) or (
                site is None and origin is not None and urlsplit(origin).netloc != host
            )
            if refused:
                body = b'{"type":"https://schoolgate.example/problems/cross-site","title":'
                body += b'"Cross-site request refused","status":403,'
                body += b'"detail":"This request came from another site."}'
                await send(
                    {
                        "type": "http.response.start",
                        "status": 403,
                        "headers": [(b"content-type", b"application/problem+json")],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


class TooManyAttempts(Problem):
    status, slug, title = 429, "too-many-attempts", "Too many attempts"


class RateLimiter:
    """At most ``limit`` attempts per key in a sliding ``window`` of seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def check(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        hits = self._hits[key]
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            retry = int(hits[0] + self.window - now) + 1
            raise TooManyAttempts(
                f"Too many attempts. Please wait {retry} seconds and try again.", retry_after=retry
            )
        hits.append(now)
