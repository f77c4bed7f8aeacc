"""Web push end to end: keys in a real SQLite private store, pushes encrypted and POSTed to a
loopback push service that checks the VAPID signature and decrypts with the browser's keys."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02  # type: ignore[import-untyped]
from schoolgate_kit.private.sqlite import SqlitePrivateStore
from schoolgate_kit.testing.push_service import LoopbackPushService, PushServiceProcess
from schoolgate_notifications.push import (
    SUBSCRIPTIONS,
    InvalidSubscription,
    Outcome,
    PushMessage,
    PushSender,
    Urgency,
    encrypt,
    forget_person,
    raw_push_loop,
    remove_gone,
    subscribe,
    subscriptions_of,
    unsubscribe,
    vapid_keys,
)

PARENT = "parent:6f1c1f3e-8a43-4c2a-9a55-0d5d1b1f2a01"
OTHER = "parent:0b8e2f57-2d7c-4a51-b2a9-7c1e4c0b9e02"
SUBJECT = "mailto:office@demo.school"
STORY = PushMessage("Year 3 story", "Ada's class planted beans.", "/#news", "story-1")


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def private(tmp_path: Path) -> AsyncIterator[SqlitePrivateStore]:
    store = await SqlitePrivateStore.open(tmp_path / "private.db")
    yield store
    await store.close()


@pytest.fixture
async def push() -> AsyncIterator[LoopbackPushService]:
    async with LoopbackPushService() as service:
        yield service


async def test_a_push_arrives_signed_and_decrypts_with_the_browser_s_keys(
    private: SqlitePrivateStore, push: LoopbackPushService
) -> None:
    # given a phone that subscribed with the server's application key
    keys = await vapid_keys(private, now=now())
    phone = push.new_subscription(application_server_key=keys.application_server_key)
    stored = await subscribe(private, PARENT, phone.to_json(), now(), allow_loopback=True)
    # when the service sends it a story
    async with PushSender(keys, subject=SUBJECT) as sender:
        [result] = await sender.send_all(
            [(s, STORY) for s in await subscriptions_of(private, PARENT, now=now())],
            now=now(),
            urgency=Urgency.low,
            ttl_seconds=3600,
        )
    # then the phone decrypts exactly the note, and the push service accepted the signature
    assert push.refusals == []
    assert (result.outcome, result.status, result.subscription) == (Outcome.delivered, 201, stored)
    assert push.received(phone) == [
        {
            "title": "Year 3 story",
            "body": "Ada's class planted beans.",
            "url": "/#news",
            "tag": "story-1",
        }
    ]
    [delivery] = push.deliveries[phone.id]
    assert (delivery.ttl, delivery.urgency) == (3600, "low")
    assert delivery.vapid_key == keys.application_server_key
    assert delivery.claims["aud"] == push.origin
    assert delivery.claims["sub"] == SUBJECT
    assert 0 < delivery.claims["exp"] - now().timestamp() <= 24 * 3600


async def test_the_key_pair_is_made_once_and_shared_by_replicas(tmp_path: Path) -> None:
    path = tmp_path / "private.db"
    one, two = await SqlitePrivateStore.open(path), await SqlitePrivateStore.open(path)
    try:
        first, second = await asyncio.gather(vapid_keys(one, now=now()), vapid_keys(two, now=now()))
        assert first.application_server_key == second.application_server_key
        again = await vapid_keys(two, now=now() + timedelta(days=400))
        assert again.application_server_key == first.application_server_key
        assert len(first.public_raw) == 65 and first.public_raw[0] == 4
    finally:
        await one.close()
        await two.close()


@pytest.mark.parametrize("status", [404, 410])
async def test_a_gone_subscription_is_reported_and_removed(
    private: SqlitePrivateStore, push: LoopbackPushService, status: int
) -> None:
    keys = await vapid_keys(private, now=now())
    kept, dropped = push.new_subscription(), push.new_subscription()
    for phone in (kept, dropped):
        await subscribe(private, PARENT, phone.to_json(), now(), allow_loopback=True)
    push.make_gone(dropped, status)
    async with PushSender(keys, subject=SUBJECT) as sender:
        results = await sender.send_all(
            [(s, STORY) for s in await subscriptions_of(private, PARENT, now=now())], now=now()
        )
    outcomes = {r.subscription.endpoint: r.outcome for r in results}
    assert outcomes == {kept.endpoint: Outcome.delivered, dropped.endpoint: Outcome.gone}
    for result in results:
        if result.outcome is Outcome.gone:
            assert await remove_gone(private, result.subscription, now=now())
    left = await subscriptions_of(private, PARENT, now=now())
    assert [s.endpoint for s in left] == [kept.endpoint]


async def test_a_gone_answer_does_not_remove_a_device_that_subscribed_again(
    private: SqlitePrivateStore, push: LoopbackPushService
) -> None:
    phone = push.new_subscription()
    old = await subscribe(private, PARENT, phone.to_json(), now(), allow_loopback=True)
    await subscribe(
        private, OTHER, phone.to_json(), now() + timedelta(seconds=1), allow_loopback=True
    )
    assert not await remove_gone(private, old, now=now())
    assert [s.endpoint for s in await subscriptions_of(private, OTHER, now=now())] == [
        phone.endpoint
    ]
    assert await subscriptions_of(private, PARENT, now=now()) == []


@pytest.mark.parametrize(
    ("status", "retry_after", "wait"),
    [(429, "7", 7.0), (503, None, None), (500, "Thu, 01 Jan 2099 00:00:00 GMT", 3600.0)],
)
async def test_busy_or_failing_push_services_ask_for_a_retry(
    private: SqlitePrivateStore,
    push: LoopbackPushService,
    status: int,
    retry_after: str | None,
    wait: float | None,
) -> None:
    keys = await vapid_keys(private, now=now())
    phone = push.new_subscription()
    stored = await subscribe(private, PARENT, phone.to_json(), now(), allow_loopback=True)
    push.fail_next(1, status, retry_after)
    async with PushSender(keys, subject=SUBJECT) as sender:
        first = await sender.send(stored, STORY, now=now())
        second = await sender.send(stored, STORY, now=now())
    assert (first.outcome, first.status, first.retry_after) == (Outcome.retry, status, wait)
    assert second.outcome is Outcome.delivered
    assert len(push.received(phone)) == 1


async def test_no_answer_at_all_asks_for_a_retry(private: SqlitePrivateStore) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with LoopbackPushService() as push:
        phone = push.new_subscription()
    doc = phone.to_json() | {"endpoint": f"http://127.0.0.1:{port}/push/{phone.id}"}
    stored = await subscribe(private, PARENT, doc, now(), allow_loopback=True)
    async with PushSender(await vapid_keys(private, now=now()), subject=SUBJECT) as sender:
        result = await sender.send(stored, STORY, now=now())
    assert result.outcome is Outcome.retry and result.status is None


async def test_a_push_signed_with_another_key_is_rejected_not_retried(
    private: SqlitePrivateStore, push: LoopbackPushService, tmp_path: Path
) -> None:
    elsewhere = await SqlitePrivateStore.open(tmp_path / "other.db")
    try:
        other_keys = await vapid_keys(elsewhere, now=now())
    finally:
        await elsewhere.close()
    phone = push.new_subscription(application_server_key=other_keys.application_server_key)
    stored = await subscribe(private, PARENT, phone.to_json(), now(), allow_loopback=True)
    async with PushSender(await vapid_keys(private, now=now()), subject=SUBJECT) as sender:
        result = await sender.send(stored, STORY, now=now())
    assert (result.outcome, result.status) == (Outcome.rejected, 403)
    assert push.received(phone) == []


def _good(push: LoopbackPushService) -> dict[str, Any]:
    """A browser's subscription at a real push service's address (never POSTed to here)."""
    return push.new_subscription().to_json() | {"endpoint": "https://fcm.googleapis.com/fcm/send/x"}


def _with_keys(doc: dict[str, Any], **keys: str) -> dict[str, Any]:
    return doc | {"keys": doc["keys"] | keys}


BAD: list[tuple[str, Any, str]] = [
    ("plain http", lambda d: d | {"endpoint": "http://fcm.googleapis.com/fcm/send/x"}, "https"),
    ("ftp", lambda d: d | {"endpoint": "ftp://push.example.com/x"}, "https"),
    ("internal IP", lambda d: d | {"endpoint": "https://10.0.0.5/x"}, "public push service"),
    ("IPv6", lambda d: d | {"endpoint": "https://[fd00::1]/x"}, "public push service"),
    ("localhost https", lambda d: d | {"endpoint": "https://localhost/x"}, "public push service"),
    ("numeric name", lambda d: d | {"endpoint": "https://0x7f.1/x"}, "public push service"),
    ("single label", lambda d: d | {"endpoint": "https://intranet/x"}, "public push service"),
    ("no endpoint", lambda d: {"keys": d["keys"]}, "no endpoint"),
    ("long endpoint", lambda d: d | {"endpoint": "https://push.example.com/" + "a" * 3000}, "too"),
    ("credentials", lambda d: d | {"endpoint": "https://u:p@push.example.com/x"}, "not a push"),
    ("short p256dh", lambda d: _with_keys(d, p256dh="BAAA"), "p256dh key is 3 bytes"),
    ("off-curve p256dh", lambda d: _with_keys(d, p256dh="BA" + "A" * 85), "not a P-256"),
    ("long auth", lambda d: _with_keys(d, auth="A" * 24), "auth key is 18 bytes"),
    ("not base64", lambda d: _with_keys(d, auth="!!!!!!!!!!!!!!!!!!!!!!"), "not base64url"),
    ("extra key", lambda d: _with_keys(d, extra="AAAA"), "exactly p256dh and auth"),
    ("no keys", lambda d: {"endpoint": "https://push.example.com/x"}, "no keys"),
    ("extra field", lambda d: d | {"owner": "someone"}, "unknown fields"),
    ("ended", lambda d: d | {"expirationTime": 1000}, "already ended"),
    ("expiration text", lambda d: d | {"expirationTime": "soon"}, "not a time"),
    ("a list", lambda d: [d], "not a JSON object"),
]


@pytest.mark.parametrize(("case", "spoil", "says"), BAD, ids=[b[0] for b in BAD])
async def test_a_bad_subscription_is_refused_with_a_reason_and_nothing_stored(
    private: SqlitePrivateStore, push: LoopbackPushService, case: str, spoil: Any, says: str
) -> None:
    bad = spoil(_good(push))
    with pytest.raises(InvalidSubscription, match=says):
        await subscribe(private, PARENT, bad, now(), allow_loopback=False)
    assert await private.count(SUBSCRIPTIONS, now=now()) == 0


async def test_loopback_endpoints_need_the_test_flag_and_text_is_bounded(
    private: SqlitePrivateStore, push: LoopbackPushService
) -> None:
    with pytest.raises(InvalidSubscription, match="https"):
        await subscribe(private, PARENT, push.new_subscription().to_json(), now())
    with pytest.raises(InvalidSubscription, match="too large"):
        await subscribe(private, PARENT, "{" + " " * 5000 + "}", now())
    with pytest.raises(InvalidSubscription, match="not JSON"):
        await subscribe(private, PARENT, "{endpoint", now())
    assert await private.count(SUBSCRIPTIONS, now=now()) == 0


async def test_a_person_keeps_their_newest_devices_and_only_they_remove_them(
    private: SqlitePrivateStore, push: LoopbackPushService
) -> None:
    start = now()
    phones = [push.new_subscription() for _ in range(4)]
    for i, phone in enumerate(phones):
        at = start + timedelta(minutes=i)
        await subscribe(private, PARENT, phone.to_json(), at, allow_loopback=True, max_devices=3)
    devices = await subscriptions_of(private, PARENT, now=start)
    assert [d.endpoint for d in devices] == [p.endpoint for p in phones[1:]]
    assert not await unsubscribe(private, OTHER, phones[1].endpoint, now=start)
    assert await unsubscribe(private, PARENT, phones[1].endpoint, now=start)
    assert len(await subscriptions_of(private, PARENT, now=start)) == 2
    assert await forget_person(private, PARENT) == 2
    assert await subscriptions_of(private, PARENT, now=start) == []


async def test_a_browser_given_end_removes_the_subscription_then(
    private: SqlitePrivateStore, push: LoopbackPushService
) -> None:
    start = now()
    ends = start + timedelta(days=2)
    doc = push.new_subscription().to_json() | {"expirationTime": ends.timestamp() * 1000}
    await subscribe(private, PARENT, doc, start, allow_loopback=True)
    assert len(await subscriptions_of(private, PARENT, now=start + timedelta(days=1))) == 1
    assert await subscriptions_of(private, PARENT, now=start + timedelta(days=3)) == []


async def test_the_raw_loop_delivers_every_push(
    private: SqlitePrivateStore, push: LoopbackPushService
) -> None:
    keys = await vapid_keys(private, now=now())
    phones = [push.new_subscription() for _ in range(40)]
    subs = [
        await subscribe(private, f"parent:{i}", p.to_json(), now(), allow_loopback=True)
        for i, p in enumerate(phones)
    ]
    result = await raw_push_loop(subs, STORY, keys=keys, subject=SUBJECT, now=now())
    assert (result.pushes, result.delivered) == (40, 40)
    assert push.refusals == [] and push.delivered == 40
    assert all(push.received(p) == [push.received(phones[0])[0]] for p in phones)


async def test_the_loopback_push_service_refuses_what_a_real_one_would(
    private: SqlitePrivateStore, push: LoopbackPushService
) -> None:
    """The stand-in is only worth its passes if it fails a wrong sender."""
    keys = await vapid_keys(private, now=now())
    phone = push.new_subscription()
    stored = await subscribe(private, PARENT, phone.to_json(), now(), allow_loopback=True)
    vapid = Vapid02(keys.private_key)
    exp = int(now().timestamp()) + 3600

    def signed(**claims: Any) -> str:
        return str(
            vapid.sign({"aud": push.origin, "sub": SUBJECT, "exp": exp} | claims)["Authorization"]
        )

    # a token signed by someone else, presented with this server's key
    stolen = Vapid02(ec.generate_private_key(ec.SECP256R1())).sign(
        {"aud": push.origin, "sub": SUBJECT, "exp": exp}
    )["Authorization"]
    forged = stolen.split(",k=")[0] + ",k=" + keys.application_server_key
    good = {"Authorization": signed(), "Content-Encoding": "aes128gcm", "TTL": "60"}
    body = encrypt(stored, STORY.encode())
    stranger = push.new_subscription()
    cases = [
        ({"Authorization": signed(exp=exp + 24 * 3600)}, body, "longer than 24 hours"),
        ({"Authorization": signed(aud="https://fcm.googleapis.com")}, body, "not valid"),
        ({"Authorization": signed(exp=exp - 7200)}, body, "not valid"),
        ({"Authorization": forged}, body, "not valid"),
        ({"Authorization": "WebPush " + signed()[6:]}, body, "scheme"),
        ({"Content-Encoding": "aesgcm"}, body, "aes128gcm"),
        ({"TTL": ""}, body, "TTL"),
        ({"Urgency": "urgent"}, body, "Urgency"),
        ({}, body[:-1] + bytes([body[-1] ^ 1]), "does not decrypt"),
        (
            {},
            encrypt(
                await subscribe(private, OTHER, stranger.to_json(), now(), allow_loopback=True),
                b"x",
            ),
            "does not decrypt",
        ),
    ]
    async with aiohttp.ClientSession() as session:
        for headers, data, says in cases:
            async with session.post(phone.endpoint, data=data, headers=good | headers) as answer:
                assert answer.status in {400, 401, 415}, says
        async with session.post(phone.endpoint, data=body, headers=good) as answer:
            assert answer.status == 201
    assert len(push.refusals) == len(cases)
    for reason, (_, _, says) in zip(push.refusals, cases, strict=True):
        assert says in reason
    assert push.received(phone) == [json.loads(STORY.encode())]


async def test_the_push_service_in_a_process_of_its_own_counts_what_arrived(
    private: SqlitePrivateStore,
) -> None:
    """How the benchmark runs it, so its decryption does not slow the sender it measures."""
    keys = await vapid_keys(private, now=now())
    with PushServiceProcess() as push:
        docs = await push.new_subscriptions(5, keys.application_server_key)
        subs = [
            await subscribe(private, f"parent:{i}", doc, now(), allow_loopback=True)
            for i, doc in enumerate(docs)
        ]
        before = now().timestamp()
        result = await raw_push_loop(subs, STORY, keys=keys, subject=SUBJECT, now=now())
        stats = await push.stats()
    assert result.delivered == 5
    assert (stats["delivered"], stats["subscriptions_reached"], stats["refusals"]) == (5, 5, [])
    assert before <= stats["first_at"] <= stats["last_at"] <= now().timestamp()


async def test_a_push_service_name_that_leads_inside_the_network_is_never_posted_to(
    private: SqlitePrivateStore, push: LoopbackPushService
) -> None:
    # given a stored subscription whose public-looking name now resolves to this machine
    phone = push.new_subscription()
    stored = await subscribe(private, PARENT, phone.to_json(), now(), allow_loopback=True)
    inside = replace(stored, endpoint=phone.endpoint.replace("127.0.0.1", "localhost"))
    async with PushSender(await vapid_keys(private, now=now()), subject=SUBJECT) as sender:
        result = await sender.send(inside, STORY, now=now())
    assert (result.outcome, result.detail) == (Outcome.gone, "localhost is not a public address")
    assert push.received(phone) == [] and push.refusals == []
