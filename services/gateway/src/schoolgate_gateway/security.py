"""Cookie-session safety: cross-site request refusal, uncached answers, rate limits and sign-in
throttling.

Limits are counters in the private store, so they survive a restart and count once across
every replica of the gateway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from schoolgate_kit.clock import Clock
from schoolgate_kit.private import PrivateStore
from schoolgate_kit.problems import Problem
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class PrivateAnswers:
    """Answers of the API are kept by no cache: ``no-store`` unless the route chose its own.

    A family tablet is shared. Without it a browser may write a parent's feed or a child's
    points to its disk cache, where they outlast signing out; the service worker keeps
    only the app's own files (static/sw.js), so this is the other half.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return

        async def send_private(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_private)


class TooManyAttempts(Problem):
    status, slug, title = 429, "too-many-attempts", "Too many attempts"

    @property
    def retry_after(self) -> int:
        return int(self.extra["retry_after"])


def refuse(seconds: float) -> TooManyAttempts:
    retry = max(math.ceil(seconds), 1)
    return TooManyAttempts(
        f"Too many attempts. Please wait {retry} seconds and try again.", retry_after=retry
    )


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` per key in a ``window`` that opens at a key's first attempt."""

    name: str
    attempts: int
    window: timedelta

    @property
    def collection(self) -> str:
        return f"limit:{self.name}"


class Limits:
    def __init__(self, store: PrivateStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def attempt(self, limit: Limit, key: str) -> None:
        """Count an attempt, or refuse it (429) without counting."""
        retry = await self.store.hit(
            limit.collection, key, limit=limit.attempts, window=limit.window, now=self.clock()
        )
        if retry is not None:
            raise refuse(retry)

    async def check(self, *limits: tuple[Limit, str]) -> None:
        """Refuse (429) if any of these keys is at its limit; count nothing."""
        now = self.clock()
        waits = [
            await self.store.retry_after(limit.collection, key, limit=limit.attempts, now=now)
            for limit, key in limits
        ]
        refused = [w for w in waits if w is not None]
        if refused:
            raise refuse(max(refused))

    async def count(self, *limits: tuple[Limit, str]) -> None:
        """Count a failure against each key (one already at its limit stays there)."""
        now = self.clock()
        for limit, key in limits:
            await self.store.hit(
                limit.collection, key, limit=limit.attempts, window=limit.window, now=now
            )

    async def forget(self, limit: Limit, key: str) -> None:
        await self.store.delete(limit.collection, key)


DEVICE_COOKIE = "schoolgate_device"
_DEVICE_KEY = ("keys", "device-cookie")


class DeviceCookies:
    """Signed cookies that mark a browser as one an account has signed in from before.

    The signing key is made once, by whichever replica needs it first, and kept in the
    private store: no secret in the source, the same key on every replica.
    """

    def __init__(self, store: PrivateStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._key: bytes | None = None

    async def _signing_key(self) -> bytes:
        if self._key is None:
            collection, key = _DEVICE_KEY
            now = self.clock()
            await self.store.add(collection, key, {"key": secrets.token_urlsafe(32)}, now=now)
            stored = await self.store.get(collection, key, now=now)
            assert stored is not None
            self._key = str(stored["key"]).encode()
        return self._key

    @staticmethod
    def _who(email: str) -> str:
        return hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]

    async def _mac(self, body: str) -> str:
        mac = hmac.new(await self._signing_key(), body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    async def issue(self, email: str) -> str:
        body = f"{secrets.token_urlsafe(16)}.{self._who(email)}"
        return f"{body}.{await self._mac(body)}"

    async def device(self, cookie: str | None, email: str) -> str | None:
        """The device id of a genuine cookie issued for ``email``; None otherwise."""
        if not cookie or cookie.count(".") != 2:
            return None
        device_id, who, mac = cookie.split(".")
        if who != self._who(email):
            return None
        if not hmac.compare_digest(mac, await self._mac(f"{device_id}.{who}")):
            return None
        return device_id


class SignInThrottle:
    """Slows password guessing without letting a stranger lock the real user out (OWASP).

    Failures count per account and address, per address, and per account. The account-wide
    count refuses only browsers the account has not signed in from before: a browser with
    the account's device cookie answers to its own per-device count instead, so a stranger
    guessing from anywhere cannot keep the owner out of their own browser.
    """

    def __init__(
        self,
        limits: Limits,
        devices: DeviceCookies,
        *,
        per_account: Limit,
        per_device: Limit,
        per_address: Limit,
    ) -> None:
        self.limits = limits
        self.devices = devices
        self.per_account = per_account
        self.per_device = per_device
        self.per_address = per_address

    def _counts(
        self, email: str, address: str, device: str | None
    ) -> tuple[tuple[Limit, str], ...]:
        who = email.strip().lower()
        if device is not None:
            return ((self.per_device, f"device:{device}"),)
        return (
            (self.per_device, f"account:{who}|address:{address}"),
            (self.per_address, address),
            (self.per_account, who),
        )

    async def before(self, email: str, address: str, device: str | None) -> None:
        await self.limits.check(*self._counts(email, address, device))

    async def failed(self, email: str, address: str, device: str | None) -> None:
        await self.limits.count(*self._counts(email, address, device))

    async def succeeded(self, email: str, address: str, device: str | None) -> None:
        who = email.strip().lower()
        await self.limits.forget(self.per_device, f"account:{who}|address:{address}")
        if device is not None:
            await self.limits.forget(self.per_device, f"device:{device}")
