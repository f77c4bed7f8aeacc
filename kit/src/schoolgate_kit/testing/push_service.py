"""A push service on 127.0.0.1 standing in for FCM or Mozilla's autopush in tests.

It plays both ends a real push sees: ``new_subscription()`` is what a browser makes (its own
P-256 key pair and 16-byte auth secret, an endpoint on this server), and each POST is checked
the way a push service checks it (the VAPID token's ES256 signature with the key it names,
its audience and expiry; RFC 8292) and then decrypted the way the browser would (RFC 8291,
aes128gcm). The decryption is written here from the RFC with ``cryptography`` alone, not with
the library the sender encrypts with, so a mistake shared by both cannot pass unseen.

Tests can make a subscription gone (404/410) or the next requests fail (429/5xx).

A benchmark runs it in a process of its own (``PushServiceProcess``), so that its decryption
does not take the sender's CPU: the sender then measures as it would against FCM. Its control
routes (under ``/_control/``) make subscriptions and count what arrived.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import json
import secrets
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAX_BODY = 4096
"""RFC 8030 §7.2: a push service must accept 4096 bytes of body, and may refuse more."""
MAX_TOKEN_LIFETIME = 24 * 3600
URGENCIES = frozenset({"very-low", "low", "normal", "high"})


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _public_raw(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


@dataclass
class BrowserSubscription:
    """One browser's subscription: the keys a real browser keeps to itself, and its JSON."""

    id: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    application_server_key: str | None = None

    def to_json(self) -> dict[str, Any]:
        """What ``PushSubscription.toJSON()`` gives the page."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {
                "p256dh": _b64url(_public_raw(self.private_key)),
                "auth": _b64url(self.auth_secret),
            },
        }


@dataclass(frozen=True)
class Delivery:
    payload: bytes
    ttl: int
    urgency: str
    vapid_key: str
    claims: dict[str, Any]
    at: float
    """time.time() when it arrived."""

    def json(self) -> Any:
        return json.loads(self.payload)


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def decrypt(body: bytes, private_key: ec.EllipticCurvePrivateKey, auth_secret: bytes) -> bytes:
    """RFC 8291 §3.4 and RFC 8188 §2: one aes128gcm record, as a browser decrypts it."""
    if len(body) < 21:
        raise Refused(400, "the body is shorter than an aes128gcm header")
    salt, rs, id_length = body[:16], int.from_bytes(body[16:20], "big"), body[20]
    if id_length != 65:
        raise Refused(400, "the header's keyid is not the sender's 65-byte P-256 key")
    sender_raw, record = body[21:86], body[86:]
    if rs < 18 or len(record) > rs:
        raise Refused(400, "a push is one record")
    try:
        sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender_raw)
    except ValueError:
        raise Refused(400, "the sender's key is not a P-256 point") from None
    shared = private_key.exchange(ec.ECDH(), sender)

    def mac(key: bytes, data: bytes) -> bytes:
        return hmac.new(key, data, hashlib.sha256).digest()

    key_info = b"WebPush: info\x00" + _public_raw(private_key) + sender_raw
    ikm = mac(mac(auth_secret, shared), key_info + b"\x01")
    prk = mac(salt, ikm)
    cek = mac(prk, b"Content-Encoding: aes128gcm\x00\x01")[:16]
    nonce = mac(prk, b"Content-Encoding: nonce\x00\x01")[:12]
    try:
        padded = AESGCM(cek).decrypt(nonce, record, None)
    except Exception:  # cryptography's InvalidTag: wrong keys, secret or bytes
        raise Refused(400, "the body does not decrypt with the subscription's keys") from None
    unpadded = padded.rstrip(b"\x00")
    if not unpadded or unpadded[-1] != 2:
        raise Refused(400, "the record does not end with the last-record delimiter")
    return unpadded[:-1]


def verify_vapid(authorization: str, *, origin: str) -> tuple[str, dict[str, Any]]:
    """The VAPID key and claims of ``vapid t=<JWT>, k=<key>`` (RFC 8292 §3), or Refused.
    Every check runs on every call: the caller may keep what a token verified to, but must
    check its expiry again."""
    scheme, _, params = authorization.partition(" ")
    if scheme.lower() != "vapid":
        raise Refused(401, "the Authorization scheme is not vapid")
    parts: dict[str, str] = {}
    for param in params.split(","):
        name, _, value = param.strip().partition("=")
        parts[name.strip()] = value.strip()
    token, key = parts.get("t", ""), parts.get("k", "")
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _b64url_decode(key))
    except ValueError:
        raise Refused(401, "k is not an uncompressed P-256 public key") from None
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key=public,
            algorithms=["ES256"],
            audience=origin,
            options={"require": ["aud", "exp", "sub"]},
        )
    except jwt.PyJWTError as error:
        raise Refused(401, f"the VAPID token is not valid: {error}") from None
    if int(claims["exp"]) > time.time() + MAX_TOKEN_LIFETIME:
        raise Refused(401, "the VAPID token lives longer than 24 hours")
    sub = str(claims["sub"])
    if not (sub.startswith("mailto:") or sub.startswith("https://")):
        raise Refused(401, "the VAPID sub is not a mailto: or https: contact")
    return key, claims


@dataclass
class _Failing:
    count: int
    status: int
    retry_after: str | None


@dataclass
class LoopbackPushService:
    """``async with LoopbackPushService() as push:`` serves on 127.0.0.1 at a free port."""

    origin: str = ""
    subscriptions: dict[str, BrowserSubscription] = field(default_factory=dict)
    deliveries: dict[str, list[Delivery]] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)
    """Why each refused POST was refused (bad token, bad encryption...): a test of a
    correct sender expects none."""
    _gone: dict[str, int] = field(default_factory=dict)
    gone_asked: dict[str, int] = field(default_factory=dict)
    """POSTs answered "gone", by subscription id: a sender that forgets a gone device asks
    once."""
    _failing: _Failing | None = None
    _verified: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    """Tokens already verified, as a push service keeps them: a sender signs one token per
    origin for hours, and the benchmark should time the sender, not this signature check."""
    _runner: web.AppRunner | None = None

    async def __aenter__(self) -> LoopbackPushService:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/push/{id}", self._receive)
        app.router.add_post("/_control/subscriptions", self._subscriptions)
        app.router.add_get("/_control/stats", self._stats)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.origin = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def new_subscription(self, application_server_key: str | None = None) -> BrowserSubscription:
        """A browser subscribing; with ``application_server_key``, pushes signed with any
        other VAPID key are refused (403), as real push services do."""
        sub_id = secrets.token_urlsafe(24)
        subscription = BrowserSubscription(
            id=sub_id,
            endpoint=f"{self.origin}/push/{sub_id}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=secrets.token_bytes(16),
            application_server_key=application_server_key,
        )
        self.subscriptions[sub_id] = subscription
        self.deliveries[sub_id] = []
        return subscription

    def received(self, subscription: BrowserSubscription) -> list[Any]:
        """The decrypted JSON payloads this subscription got, in order."""
        return [d.json() for d in self.deliveries[subscription.id]]

    @property
    def delivered(self) -> int:
        return sum(len(found) for found in self.deliveries.values())

    def stats(self) -> dict[str, Any]:
        """How many pushes arrived, to how many subscriptions, when the last one did, and
        why any POST was refused."""
        times = [d.at for found in self.deliveries.values() for d in found]
        return {
            "delivered": len(times),
            "subscriptions_reached": sum(1 for found in self.deliveries.values() if found),
            "first_at": min(times, default=None),
            "last_at": max(times, default=None),
            "refusals": self.refusals,
        }

    async def _subscriptions(self, request: web.Request) -> web.Response:
        count = int(request.query.get("count", "1"))
        key = request.query.get("application_server_key") or None
        made = [self.new_subscription(key).to_json() for _ in range(min(count, 100_000))]
        return web.json_response(made)

    async def _stats(self, _: web.Request) -> web.Response:
        return web.json_response(self.stats())

    def make_gone(self, subscription: BrowserSubscription, status: int = 410) -> None:
        """From now on answer ``status`` (404 or 410) for this subscription."""
        self._gone[subscription.id] = status

    def fail_next(self, count: int, status: int = 429, retry_after: str | None = None) -> None:
        """Answer the next ``count`` POSTs (any subscription) with ``status``."""
        self._failing = _Failing(count, status, retry_after)

    async def _receive(self, request: web.Request) -> web.Response:
        sub_id = request.match_info["id"]
        subscription = self.subscriptions.get(sub_id)
        if subscription is None:
            return web.Response(status=404)
        if sub_id in self._gone:
            self.gone_asked[sub_id] = self.gone_asked.get(sub_id, 0) + 1
            return web.Response(status=self._gone[sub_id])
        failing = self._failing
        if failing is not None and failing.count > 0:
            failing.count -= 1
            headers = {"Retry-After": failing.retry_after} if failing.retry_after else {}
            return web.Response(status=failing.status, headers=headers)
        try:
            delivery = self._check(request, subscription, await request.read())
        except Refused as refused:
            self.refusals.append(refused.reason)
            return web.Response(status=refused.status, text=refused.reason)
        self.deliveries[sub_id].append(delivery)
        return web.Response(status=201, headers={"Location": f"/message/{secrets.token_hex(8)}"})

    def _check(
        self, request: web.Request, subscription: BrowserSubscription, body: bytes
    ) -> Delivery:
        authorization = request.headers.get("Authorization", "")
        known = self._verified.get(authorization)
        if known is None or int(known[1]["exp"]) <= time.time():
            known = verify_vapid(authorization, origin=self.origin)
            self._verified[authorization] = known
        key, claims = known
        expected = subscription.application_server_key
        if expected is not None and key != expected:
            raise Refused(403, "signed with a key other than the subscription's")
        if request.headers.get("Content-Encoding") != "aes128gcm":
            raise Refused(415, "the Content-Encoding is not aes128gcm")
        ttl = request.headers.get("TTL", "")
        if not ttl.isdigit():
            raise Refused(400, "the TTL header is missing (RFC 8030 §5.2)")
        urgency = request.headers.get("Urgency", "normal")
        if urgency not in URGENCIES:
            raise Refused(400, f"the Urgency {urgency!r} is not one of RFC 8030's")
        payload = decrypt(body, subscription.private_key, subscription.auth_secret)
        return Delivery(payload, int(ttl), urgency, key, claims, time.time())


@functools.cache
def _tls_settings() -> ssl.SSLContext:
    return ssl.create_default_context()


class PushServiceProcess:
    """The loopback push service in a process of its own: ``with PushServiceProcess() as p``,
    then ``p.new_subscriptions(n)`` and ``p.stats()`` over its control routes."""

    def __init__(self) -> None:
        self.origin = ""
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> PushServiceProcess:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "schoolgate_kit.testing.push_service"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()  # it prints its origin once it listens
        if not line.startswith("http://127.0.0.1:"):
            self.__exit__()
            raise RuntimeError(f"the push service did not start: {line!r}")
        self.origin = line
        return self

    def __exit__(self, *_: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None

    async def new_subscriptions(
        self, count: int, application_server_key: str | None = None
    ) -> list[dict[str, Any]]:
        """``count`` browsers' subscriptions (their PushSubscription.toJSON())."""
        params: dict[str, str | int] = {"count": count}
        if application_server_key:
            params["application_server_key"] = application_server_key
        async with httpx.AsyncClient(base_url=self.origin, timeout=60) as client:
            answer = await client.post("/_control/subscriptions", params=params)
        answer.raise_for_status()
        made: list[dict[str, Any]] = answer.json()
        return made

    async def stats(self) -> dict[str, Any]:
        """LoopbackPushService.stats() of the process. Asked often by a benchmark, in the
        process it measures: the client's TLS settings are made once (loading the system's
        certificates took 25 ms an ask, though the origin is plain HTTP on loopback)."""
        async with httpx.AsyncClient(
            base_url=self.origin, timeout=60, verify=_tls_settings()
        ) as client:
            answer = await client.get("/_control/stats")
        answer.raise_for_status()
        found: dict[str, Any] = answer.json()
        return found


async def _serve() -> None:
    async with LoopbackPushService() as service:
        print(service.origin, flush=True)
        await asyncio.Event().wait()  # until the parent terminates it


if __name__ == "__main__":
    import contextlib

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve())
