"""Web push: the server's VAPID keys, each person's devices, and sending to them.

A push is a small JSON note ({title, body, url, tag}) encrypted for one browser (RFC 8291,
aes128gcm) and POSTed to the push service that browser chose (FCM, Mozilla, Apple...), signed
with the server's VAPID key (RFC 8292) so the push service knows who sends.

Built on ``http_ece`` (the encryption) and ``py_vapid`` (the signature) directly rather than
through ``pywebpush`` 2.5, which wraps the same two: its async path signs a fresh JWT for
every push (one token per push-service origin serves for hours), copies and re-decodes the
subscription on every send, overrides the session's timeout on every request (with none at
all through ``webpush_async``, 10,000 seconds through ``WebPusher``), and never checks that
a p256dh key is a point on the curve (its first-byte test compares an int with a str), so a
bad key is found by the push service, push after push. Here a subscription is checked once,
when it is stored, and a send is one encryption and one POST.

The keys live in the private store, never in the source or the log: the first replica to
need them makes them, and ``add`` lets exactly one of several racing replicas win.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import ipaddress
import json
import re
import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import aiohttp.abc
import http_ece  # type: ignore[import-untyped]
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02  # type: ignore[import-untyped]
from schoolgate_kit.private.port import PrivateStore

KEYS = "push_vapid"
KEYS_KEY = "vapid"
SUBSCRIPTIONS = "push_subscriptions"

MAX_DEVICES = 5
"""A person's phones, tablets and laptops; a sixth subscription drops the oldest."""
MAX_SUBSCRIPTION_BYTES = 4096
MAX_ENDPOINT_CHARS = 2048
BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
TOP_LEVEL = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

TOKEN_LIFETIME = timedelta(hours=12)
"""VAPID tokens: RFC 8292 allows at most 24 hours; a push service's clock may run ahead."""
TOKEN_RENEW = timedelta(hours=1)
"""A token with less left than this is signed again, so none expires on its way."""
MAX_RETRY_AFTER = 3600.0
MAX_ANSWER_BYTES = 64 * 1024
MAX_PAYLOAD_BYTES = 3000
"""RFC 8291 guarantees 3993 bytes of plaintext per push; leave room for the JSON around it."""


# -- the server's keys -------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Base64url with or without padding; ValueError for anything else."""
    if not isinstance(text, str) or not text.isascii():
        raise ValueError("not base64url text")
    stripped = text.rstrip("=")
    # the standard decoder skips characters outside its alphabet: refuse them instead
    if not BASE64URL.fullmatch(stripped) or len(stripped) % 4 == 1:
        raise ValueError("not base64url text")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError("not base64url text") from error


@dataclass(frozen=True)
class VapidKeys:
    private_key: ec.EllipticCurvePrivateKey

    @property
    def public_raw(self) -> bytes:
        """The uncompressed P-256 point (65 bytes) browsers expect."""
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    @property
    def application_server_key(self) -> str:
        """What the browser's ``pushManager.subscribe({applicationServerKey})`` takes."""
        return b64url(self.public_raw)

    @classmethod
    def generate(cls) -> VapidKeys:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    def to_doc(self) -> dict[str, str]:
        scalar = self.private_key.private_numbers().private_value.to_bytes(32, "big")
        return {"private": b64url(scalar), "public": self.application_server_key}

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> VapidKeys:
        scalar = int.from_bytes(b64url_decode(str(doc["private"])), "big")
        keys = cls(ec.derive_private_key(scalar, ec.SECP256R1()))
        if keys.application_server_key != doc.get("public"):
            raise ValueError("the stored VAPID keys do not belong together")
        return keys


async def vapid_keys(private: PrivateStore, *, now: datetime) -> VapidKeys:
    """The server's VAPID key pair, made on first use. Every replica gets the same pair:
    of several making one at once, the first ``add`` wins and the others read it."""
    doc = await private.get(KEYS, KEYS_KEY, now=now)
    if doc is None:
        made = VapidKeys.generate()
        if await private.add(KEYS, KEYS_KEY, made.to_doc(), now=now):
            return made
        doc = await private.get(KEYS, KEYS_KEY, now=now)
        if doc is None:  # pragma: no cover - the winner's key never expires
            raise RuntimeError("the VAPID keys vanished while being made")
    return VapidKeys.from_doc(doc)


# -- each person's devices ---------------------------------------------------------------------


class InvalidSubscription(ValueError):
    """A push subscription that cannot be stored; the message says why in plain words."""


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str
    person_key: str
    created_at: datetime

    # worked out once per subscription, not once per push (a fan-out sends thousands)
    @cached_property
    def key(self) -> str:
        return endpoint_key(self.endpoint)

    @cached_property
    def origin(self) -> str:
        parts = urlsplit(self.endpoint)
        return f"{parts.scheme}://{parts.netloc}"

    @cached_property
    def keys_raw(self) -> tuple[bytes, bytes]:
        """The browser's public key and auth secret (checked when the device subscribed)."""
        return b64url_decode(self.p256dh), b64url_decode(self.auth)

    def to_doc(self) -> dict[str, str]:
        return {
            "endpoint": self.endpoint,
            "p256dh": self.p256dh,
            "auth": self.auth,
            "person": self.person_key,
            "created_at": self.created_at.isoformat(),
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Subscription:
        return cls(
            endpoint=doc["endpoint"],
            p256dh=doc["p256dh"],
            auth=doc["auth"],
            person_key=doc["person"],
            created_at=datetime.fromisoformat(doc["created_at"]),
        )


def endpoint_key(endpoint: str) -> str:
    """Endpoints are long capability URLs: store them under a hash, not as a key."""
    return hashlib.sha256(endpoint.encode("utf-8")).hexdigest()


def _check_endpoint(endpoint: Any, *, allow_loopback: bool) -> str:
    if not isinstance(endpoint, str) or not endpoint:
        raise InvalidSubscription("The subscription has no endpoint address.")
    if len(endpoint) > MAX_ENDPOINT_CHARS:
        raise InvalidSubscription("The subscription's endpoint address is too long.")
    try:
        parts = urlsplit(endpoint)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - a bad port raises here
    except ValueError as error:
        raise InvalidSubscription("The subscription's endpoint is not a web address.") from error
    if parts.username or parts.password or parts.fragment or not host:
        raise InvalidSubscription("The subscription's endpoint is not a push service address.")
    loopback = host in LOOPBACK_HOSTS
    if loopback and allow_loopback:
        if parts.scheme not in {"http", "https"}:
            raise InvalidSubscription("The subscription's endpoint must be a web address.")
        return endpoint
    if parts.scheme != "https":
        raise InvalidSubscription("The subscription's endpoint must use https.")
    # the server POSTs to whatever is stored here: never let a subscription aim it at an
    # address inside the network. Push services are named hosts under a real top-level
    # domain, which no IP address is (nor "0x7f.1", 127.0.0.1 to some resolvers); where a
    # name resolves to is checked again when sending (_PublicOnly).
    named = "." in host and TOP_LEVEL.fullmatch(host.rsplit(".", 1)[-1]) is not None
    if loopback or host.endswith((".localhost", ".local", ".internal")) or not named:
        raise InvalidSubscription("The subscription's endpoint is not a public push service.")
    return endpoint


def _check_key(value: Any, *, name: str, length: int) -> str:
    if not isinstance(value, str) or len(value) > 2 * length:
        raise InvalidSubscription(f"The subscription's {name} key is missing or too long.")
    try:
        raw = b64url_decode(value)
    except ValueError:
        raise InvalidSubscription(f"The subscription's {name} key is not base64url.") from None
    if len(raw) != length:
        raise InvalidSubscription(
            f"The subscription's {name} key is {len(raw)} bytes, not {length}."
        )
    if name == "p256dh":
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError:
            raise InvalidSubscription(
                "The subscription's p256dh key is not a P-256 public key."
            ) from None
    return b64url(raw)


def parse_subscription(
    subscription_json: Mapping[str, Any] | str | bytes,
    *,
    person_key: str,
    now: datetime,
    allow_loopback: bool = False,
) -> tuple[Subscription, datetime | None]:
    """Check what a browser's ``PushSubscription.toJSON()`` gave; the subscription and when
    the browser said it ends (None: no end). InvalidSubscription says what is wrong."""
    if isinstance(subscription_json, str | bytes):
        if len(subscription_json) > MAX_SUBSCRIPTION_BYTES:
            raise InvalidSubscription("The subscription is too large.")
        try:
            data = json.loads(subscription_json)
        except (ValueError, UnicodeDecodeError):
            raise InvalidSubscription("The subscription is not JSON.") from None
    else:
        data = subscription_json
        if len(json.dumps(data, default=str)) > MAX_SUBSCRIPTION_BYTES:
            raise InvalidSubscription("The subscription is too large.")
    if not isinstance(data, Mapping):
        raise InvalidSubscription("The subscription is not a JSON object.")
    unknown = set(data) - {"endpoint", "expirationTime", "keys"}
    if unknown:
        raise InvalidSubscription(f"The subscription has unknown fields: {sorted(unknown)}.")
    endpoint = _check_endpoint(data.get("endpoint"), allow_loopback=allow_loopback)
    keys = data.get("keys")
    if not isinstance(keys, Mapping):
        raise InvalidSubscription("The subscription has no keys.")
    if set(keys) != {"p256dh", "auth"}:
        raise InvalidSubscription("The subscription's keys must be exactly p256dh and auth.")
    p256dh = _check_key(keys["p256dh"], name="p256dh", length=65)
    auth = _check_key(keys["auth"], name="auth", length=16)
    ends: datetime | None = None
    expiration = data.get("expirationTime")
    if expiration is not None:
        if isinstance(expiration, bool) or not isinstance(expiration, int | float):
            raise InvalidSubscription("The subscription's expirationTime is not a time.")
        try:
            ends = datetime.fromtimestamp(expiration / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            raise InvalidSubscription("The subscription's expirationTime is not a time.") from None
        if ends <= now:
            raise InvalidSubscription("The subscription has already ended.")
    subscription = Subscription(endpoint, p256dh, auth, person_key, now)
    return subscription, ends


def _check_person(person_key: str) -> None:
    kind, _, rest = person_key.partition(":")
    if kind not in {"parent", "staff"} or not rest:
        raise ValueError(f"not a person key: {person_key!r}")


async def subscribe(
    private: PrivateStore,
    person_key: str,
    subscription_json: Mapping[str, Any] | str | bytes,
    now: datetime,
    *,
    allow_loopback: bool = False,
    max_devices: int = MAX_DEVICES,
) -> Subscription:
    """Store a device for ``person_key`` ("parent:<uuid>" / "staff:<uuid>"). The same device
    subscribing again replaces itself; a device used by someone else before now belongs to
    whoever subscribed last (a shared family tablet). Past ``max_devices`` the oldest goes.
    Raises InvalidSubscription (writing nothing) for anything a browser would not send."""
    _check_person(person_key)
    subscription, ends = parse_subscription(
        subscription_json, person_key=person_key, now=now, allow_loopback=allow_loopback
    )
    await private.put(
        SUBSCRIPTIONS,
        subscription.key,
        subscription.to_doc(),
        now=now,
        group=person_key,
        expires_at=ends,
    )
    devices = await subscriptions_of(private, person_key, now=now)
    for old in devices[: max(len(devices) - max_devices, 0)]:
        await private.delete(SUBSCRIPTIONS, old.key)
    return subscription


async def subscriptions_of(
    private: PrivateStore, person_key: str, *, now: datetime
) -> list[Subscription]:
    """A person's devices, oldest first."""
    docs = await private.in_group(SUBSCRIPTIONS, person_key, now=now)
    found = [Subscription.from_doc(doc) for doc in docs.values()]
    return sorted(found, key=lambda s: (s.created_at, s.key))


async def unsubscribe(
    private: PrivateStore, person_key: str, endpoint: str, *, now: datetime
) -> bool:
    """Forget one of this person's devices; False if it is not theirs (or not stored)."""
    key = endpoint_key(endpoint)
    doc = await private.get(SUBSCRIPTIONS, key, now=now)
    if doc is None or doc.get("person") != person_key:
        return False
    return await private.delete(SUBSCRIPTIONS, key)


async def remove_gone(private: PrivateStore, subscription: Subscription, *, now: datetime) -> bool:
    """Drop a subscription its push service called gone (404/410), unless the device has
    subscribed again since, for the same person or another."""
    doc = await private.get(SUBSCRIPTIONS, subscription.key, now=now)
    if doc is None or Subscription.from_doc(doc) != subscription:
        return False
    return await private.delete(SUBSCRIPTIONS, subscription.key)


async def forget_person(private: PrivateStore, person_key: str) -> int:
    """Every device of a person (account closed or erased); how many went."""
    return await private.delete_group(SUBSCRIPTIONS, person_key)


# -- sending -----------------------------------------------------------------------------------


class Urgency(StrEnum):
    """RFC 8030 §5.3: how soon a phone should wake for it (and spend its battery)."""

    very_low = "very-low"
    low = "low"
    normal = "normal"
    high = "high"


@dataclass(frozen=True)
class PushMessage:
    """What the service worker shows. ``tag`` makes a newer push replace an older one
    with the same tag on the phone (the limiter's collapsed pushes use it)."""

    title: str
    body: str
    url: str = "/"
    tag: str | None = None

    def __post_init__(self) -> None:
        # the worker opens it in the app; only a path of this origin may ride along
        if not self.url.startswith("/") or self.url.startswith("//") or "\\" in self.url:
            raise ValueError("a push opens a path of the app, like /#news")

    def encode(self) -> bytes:
        """Compact JSON, the body shortened (never the title) to fit one push."""
        title = _shorten(self.title, 120)
        body = _shorten(self.body, 600)
        while True:
            doc: dict[str, str] = {"title": title, "body": body, "url": self.url}
            if self.tag is not None:
                doc["tag"] = self.tag[:64]
            data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            if len(data) <= MAX_PAYLOAD_BYTES or not body:
                return data
            body = _shorten(body, len(body) // 2)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


class Outcome(StrEnum):
    delivered = "delivered"
    gone = "gone"
    """404/410: the browser unsubscribed or the subscription expired; remove_gone it.
    Also a subscription whose push service's name leads inside a network."""
    retry = "retry"
    """429, 5xx or no answer: try again later (after ``retry_after`` seconds if given)."""
    rejected = "rejected"
    """Any other 4xx (a bad token, a payload too large): trying again would be rejected
    again, and the subscription itself may be fine."""


@dataclass(frozen=True)
class PushResult:
    subscription: Subscription
    outcome: Outcome
    status: int | None = None
    retry_after: float | None = None
    detail: str = ""


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Retry-After is seconds or an HTTP date (RFC 9110 §10.2.3); bounded, None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        then = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return min(max((then - now).total_seconds(), 0.0), MAX_RETRY_AFTER)


def _check_subject(subject: str) -> str:
    if not (subject.startswith("mailto:") and "@" in subject) and not subject.startswith(
        "https://"
    ):
        raise ValueError("the VAPID subject is a mailto: or https: address push services may use")
    return subject


def encrypt(subscription: Subscription, data: bytes) -> bytes:
    """RFC 8291: aes128gcm for this browser's key and auth secret, with a fresh sender key."""
    browser_key, auth_secret = subscription.keys_raw
    return bytes(
        http_ece.encrypt(
            data,
            private_key=ec.generate_private_key(ec.SECP256R1()),
            dh=browser_key,
            auth_secret=auth_secret,
            version="aes128gcm",
        )
    )


class NotPublic(OSError):
    """A push service's name led to an address inside a network."""


class _PublicOnly(aiohttp.abc.AbstractResolver):
    """Resolves names to public addresses only. A subscription's endpoint is anyone's input:
    its host is checked when it is stored, but a public name may later point inside."""

    def __init__(self) -> None:
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[aiohttp.abc.ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        public = [r for r in found if ipaddress.ip_address(r["host"]).is_global]
        if not public:
            raise NotPublic(f"{host} is not a public address")
        return public

    async def close(self) -> None:
        await self._inner.close()


class PushSender:
    """Sends pushes through one aiohttp session, a bounded number at a time.

    Used as ``async with PushSender(keys, subject=...) as sender``: the session is made in
    the running loop, never at import. ``now`` is the caller's clock; it dates the VAPID
    tokens, one per push-service origin, signed again an hour before they end. Names resolve
    to public addresses only, unless ``allow_private`` (tests that serve pushes on a name)."""

    def __init__(
        self,
        keys: VapidKeys,
        *,
        subject: str,
        concurrency: int = 64,
        timeout_seconds: float = 10.0,
        ttl_seconds: int = 24 * 3600,
        allow_private: bool = False,
    ) -> None:
        self._allow_private = allow_private
        self._vapid = Vapid02(keys.private_key)
        self._subject = _check_subject(subject)
        self._limit = asyncio.Semaphore(concurrency)
        self._concurrency = concurrency
        self._timeout = aiohttp.ClientTimeout(
            total=timeout_seconds, connect=min(timeout_seconds, 5.0)
        )
        self._ttl = ttl_seconds
        self._tokens: dict[str, tuple[datetime, str]] = {}
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> PushSender:
        connector = aiohttp.TCPConnector(
            limit=self._concurrency,
            ttl_dns_cache=300,
            resolver=None if self._allow_private else _PublicOnly(),
        )
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=self._timeout, raise_for_status=False
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def authorization(self, origin: str, *, now: datetime) -> str:
        kept = self._tokens.get(origin)
        if kept is not None and kept[0] - now > TOKEN_RENEW:
            return kept[1]
        ends = now + TOKEN_LIFETIME
        claims = {"aud": origin, "sub": self._subject, "exp": int(ends.timestamp())}
        header = str(self._vapid.sign(claims)["Authorization"])
        self._tokens[origin] = (ends, header)
        return header

    async def send(
        self,
        subscription: Subscription,
        message: PushMessage | bytes,
        *,
        now: datetime,
        urgency: Urgency = Urgency.normal,
        ttl_seconds: int | None = None,
    ) -> PushResult:
        """One push to one device. Never raises for what the push service or the network
        does: the outcome says what to do next."""
        if self._session is None:
            raise RuntimeError("use the PushSender in `async with`")
        data = message if isinstance(message, bytes) else message.encode()
        headers = {
            "Authorization": self.authorization(subscription.origin, now=now),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(self._ttl if ttl_seconds is None else ttl_seconds),
            "Urgency": urgency.value,
        }
        async with self._limit:
            body = encrypt(subscription, data)
            try:
                async with self._session.post(
                    subscription.endpoint, data=body, headers=headers, allow_redirects=False
                ) as answer:
                    # the endpoint is anyone's input: never read a body of any size from it
                    await answer.content.read(MAX_ANSWER_BYTES)
                    status = answer.status
                    retry_after = answer.headers.get("Retry-After")
            except aiohttp.ClientConnectorDNSError as error:
                if isinstance(error.os_error, NotPublic):
                    return PushResult(subscription, Outcome.gone, detail=str(error.os_error))
                return PushResult(subscription, Outcome.retry, detail=type(error).__name__)
            except (aiohttp.ClientError, TimeoutError) as error:
                return PushResult(subscription, Outcome.retry, detail=type(error).__name__)
        return _result(subscription, status, retry_after, now=now)

    async def send_all(
        self,
        pushes: Iterable[tuple[Subscription, PushMessage | bytes]],
        *,
        now: datetime,
        urgency: Urgency = Urgency.normal,
        ttl_seconds: int | None = None,
    ) -> list[PushResult]:
        """Many pushes at once, at most ``concurrency`` in flight; results in order."""
        return list(
            await asyncio.gather(
                *(
                    self.send(sub, message, now=now, urgency=urgency, ttl_seconds=ttl_seconds)
                    for sub, message in pushes
                )
            )
        )


def _result(
    subscription: Subscription, status: int, retry_after: str | None, *, now: datetime
) -> PushResult:
    if 200 <= status < 300:
        return PushResult(subscription, Outcome.delivered, status)
    if status in {404, 410}:
        return PushResult(subscription, Outcome.gone, status)
    if status == 429 or status >= 500:
        wait = parse_retry_after(retry_after, now=now)
        return PushResult(subscription, Outcome.retry, status, wait)
    return PushResult(subscription, Outcome.rejected, status, detail=f"HTTP {status}")


@dataclass(frozen=True)
class LoopResult:
    pushes: int
    delivered: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.pushes / self.seconds if self.seconds else 0.0


async def raw_push_loop(
    subscriptions: Sequence[Subscription],
    payload: PushMessage,
    *,
    keys: VapidKeys,
    subject: str,
    now: datetime,
    concurrency: int = 64,
) -> LoopResult:
    """The benchmark's baseline: the same pushes encrypted and POSTed the same way as the
    notifications service does (one session, same concurrency, same signing), with nothing
    else: no event, no recipients, no store."""
    data = payload.encode()
    async with PushSender(keys, subject=subject, concurrency=concurrency) as sender:
        started = time.perf_counter()
        results = await sender.send_all(((sub, data) for sub in subscriptions), now=now)
        seconds = time.perf_counter() - started
    delivered = sum(1 for r in results if r.outcome is Outcome.delivered)
    return LoopResult(len(results), delivered, seconds)
