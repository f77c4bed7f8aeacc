"""Issue 22 through the gateway, as `make demo` runs it with a mail server and a push service.

The notification centre: a point, a message or an emergency notice reaches exactly the
people it concerns, by first name only; another family, a pupil's tablet and another school
see nothing of it. The centre is a reactor's work, fed over the bus: a test waits for the
entry to appear (bounded), never for a fixed time.

Notifications leave the building, as `make demo` runs with a mail server and a
push service: a real SMTP server (aiosmtpd) and a loopback push service that checks each
push's VAPID signature and decrypts it with the device's own keys.

A family's phone gets a push for their child's point and nothing about anyone else's; a
message from school comes by push and by email (both bodies, one-click unsubscribe headers,
never the message's words); the unsubscribe link turns that email off and nothing else; an
emergency notice comes by email with no way to unsubscribe from it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Collection, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from schoolgate_kit.testing.push_service import BrowserSubscription, LoopbackPushService
from schoolgate_kit.testing.smtp import Arrived, LoopbackSmtp
from schoolgate_kit.testing.waiting import GATEWAY_CAUGHT_UP_PATH, until_projected_sync

from ..conftest import demo_ids, start_demo, until  # type: ignore[import-not-found]
from .conftest import client_for, signed_in  # type: ignore[import-not-found]

TEACHER = {"email": "teacher@demo.school", "password": "demo-teacher-pass"}
LEADER = {"email": "leader@demo.school", "password": "demo-leader-pass"}
PARENT = {"email": "parent@demo.school", "password": "demo-parent-pass"}
PARENT2 = {"email": "parent2@demo.school", "password": "demo-parent2-pass"}
PARENT3 = {"email": "parent3@demo.school", "password": "demo-parent3-pass"}
OFFICE = {"email": "office@demo.school", "password": "demo-office-pass"}
SCHOOL = "demo-school"
CENTRE = f"/api/notifications/schools/{SCHOOL}/notifications"
MESSAGING = f"/api/messaging/schools/{SCHOOL}"


def centre(client: httpx.Client) -> dict[str, Any]:
    answer = client.get(CENTRE)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def seen_ids(client: httpx.Client) -> set[str]:
    return {item["id"] for item in centre(client)["items"]}


async def shown(client: httpx.Client, title: str, besides: Collection[str] = ()) -> dict[str, Any]:
    """The newest notification called ``title`` that is not one of ``besides``."""
    found: dict[str, Any] = {}

    def there() -> bool:
        for item in centre(client)["items"]:
            if item["title"] == title and item["id"] not in besides:
                found.update(item)
                return True
        return False

    await until(there, within=20, why=f"{title!r} in the notification centre")
    return found


@pytest.fixture(scope="module")
def smtp() -> Iterator[LoopbackSmtp]:
    with LoopbackSmtp.running() as server:
        yield server


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory, smtp: LoopbackSmtp) -> Iterator[str]:
    env = {
        "SCHOOLGATE_SMTP_URL": smtp.url,
        "SCHOOLGATE_MAIL_FROM": "Demo Primary <office@demo.school>",
        "SCHOOLGATE_ALLOW_LOOPBACK_PUSH": "1",
        "SCHOOLGATE_PUBLIC_BASE_URL": "this server",
        "SCHOOLGATE_NOTIFICATIONS_FLUSH_EVERY_SECONDS": "1",
        # a push a second at most, not a minute: the limiter's own tests use a clock
        "SCHOOLGATE_PUSH_GAP_SECONDS": "1",
    }
    base, proc = start_demo(tmp_path_factory.mktemp("channels"), env=env)
    yield base
    proc.stop()


@pytest.fixture(scope="module")
def ids(school: str) -> dict[str, str]:
    return demo_ids(school)


SUBSCRIBED: list[tuple[str, dict[str, str], str]] = []
"""(server, session cookies, endpoint) of each device a test turned on."""


@pytest.fixture
async def pushes() -> AsyncIterator[LoopbackPushService]:
    async with LoopbackPushService() as service:
        yield service
    # the devices go with their push service: later tests' pushes would find it gone
    while SUBSCRIBED:
        base, cookies, endpoint = SUBSCRIBED.pop()
        async with httpx.AsyncClient(base_url=base, cookies=cookies) as client:
            forgot = await client.request(
                "DELETE", "/api/notifications/push/subscriptions", json={"endpoint": endpoint}
            )
            assert forgot.status_code == 200, forgot.text


def subscribe(client: httpx.Client, service: LoopbackPushService) -> BrowserSubscription:
    key = client.get("/api/notifications/push/key")
    assert key.status_code == 200, key.text
    device = service.new_subscription(key.json()["application_server_key"])
    answer = client.post("/api/notifications/push/subscriptions", json=device.to_json())
    assert answer.status_code == 201, answer.text
    SUBSCRIBED.append((str(client.base_url).rstrip("/"), dict(client.cookies), device.endpoint))
    return device


async def pushed(
    service: LoopbackPushService, device: BrowserSubscription, title: str
) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def there() -> bool:
        for payload in service.received(device):
            if payload.get("title") == title:
                found.update(payload)
                return True
        return False

    await until(there, within=20, why=f"a push {title!r}")
    return found


async def mailed(smtp: LoopbackSmtp, address: str, subject: str) -> Arrived:
    def found() -> list[Arrived]:
        return [m for m in smtp.to(address) if m.message["Subject"] == subject]

    await until(lambda: bool(found()), within=20, why=f"an email {subject!r} to {address}")
    return found()[-1]


async def test_a_familys_phone_hears_of_their_own_child_only(
    school: str, ids: dict[str, str], pushes: LoopbackPushService
) -> None:
    teacher, parent, other = (signed_in(school, who) for who in (TEACHER, PARENT, PARENT3))
    mine, theirs = subscribe(parent, pushes), subscribe(other, pushes)
    for pupil in ("ada", "sam-k"):
        answer = teacher.post(
            "/api/awards", json={"pupil_id": ids[pupil], "school_way_id": ids["kindness"]}
        )
        assert answer.status_code == 201, answer.text
    push = await pushed(pushes, mine, "Ada got 1 point")
    assert push["url"] == "/#home" and push["body"] == "For Kindness."
    await pushed(pushes, theirs, "Sam got 1 point")
    assert "Ada" not in json.dumps(pushes.received(theirs))
    # a device whose push service says it is gone is forgotten: asked once, never again
    leader = signed_in(school, LEADER)
    consent = leader.get(f"/api/consent/schools/{SCHOOL}/pupils/{ids['ada']}/consent")
    [parent_id] = [g["parent_id"] for g in consent.json()["guardians"]]

    def nowhere() -> int:
        seen = leader.get(f"{CENTRE}/sent", params={"person": f"parent:{parent_id}"})
        assert seen.status_code == 200, seen.text
        return sum(
            1 for s in seen.json()["sent"] if s["channel"] == "push" and s["outcome"] == "nowhere"
        )

    before = nowhere()  # the family's first notices, from before it had a device
    pushes.make_gone(mine)
    for _ in range(2):
        answer = teacher.post(
            "/api/awards", json={"pupil_id": ids["ada"], "school_way_id": ids["kindness"]}
        )
        assert answer.status_code == 201, answer.text
        await until(lambda: pushes.gone_asked.get(mine.id, 0) >= 1, within=20, why="asked once")
    await until(lambda: nowhere() >= before + 2, within=20, why="both points went nowhere")
    assert pushes.gone_asked[mine.id] == 1
    # and the support view says what went where, never the words
    assert "Ada" not in leader.get(f"{CENTRE}/sent", params={"person": f"parent:{parent_id}"}).text


async def test_a_message_from_school_comes_by_push_and_email_and_can_be_unsubscribed(
    school: str, ids: dict[str, str], smtp: LoopbackSmtp, pushes: LoopbackPushService
) -> None:
    # Leo's family and the office: the other tests' pushes to Ada's family could be
    # collapsed with these by the limiter, as a real phone's would
    office, parent = signed_in(school, OFFICE), signed_in(school, PARENT2)
    device = subscribe(parent, pushes)
    started = parent.post(
        f"{MESSAGING}/conversations",
        json={"pupil_id": ids["leo"], "to": "office", "text": "Leo has the dentist on Tuesday"},
    )
    assert started.status_code == 201, started.text
    conversation = started.json()["conversation_id"]
    until_projected_sync(parent, started, path=GATEWAY_CAUGHT_UP_PATH)
    said = "Thank you, the secret word is marmalade"
    replied = office.post(f"{MESSAGING}/conversations/{conversation}/messages", json={"text": said})
    assert replied.status_code == 201, replied.text
    push = await pushed(pushes, device, "Message from Mrs Elm about Leo")
    assert push["url"] == f"/#conversation={conversation}"
    mail = await mailed(smtp, "parent2@demo.school", "Message from Mrs Elm about Leo")
    message = mail.message
    assert message["Subject"] == "Message from Mrs Elm about Leo"
    assert message["From"] == "Demo Primary <office@demo.school>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"].strip().strip("<>")
    assert link.startswith(f"{school}/api/unsubscribe?t=")
    text, html = mail.body("plain"), mail.body("html")
    assert "marmalade" not in text + html  # who wrote, never what
    assert f"#conversation={conversation}" in text and "Stop these emails" in html
    # one click (RFC 8058): the mail program posts, with no session
    async with httpx.AsyncClient() as mail_program:
        form = {"content-type": "application/x-www-form-urlencoded"}
        stopped = await mail_program.post(link, content=b"List-Unsubscribe=One-Click", headers=form)
        assert stopped.status_code == 200, stopped.text
        scanned = await mail_program.get(link)  # a link scanner's GET changes nothing
        assert scanned.status_code == 405, scanned.text
        forged = await mail_program.post(link[:-4] + "AAAA")
        assert forged.status_code == 401, forged.text
    until_projected_sync(parent, stopped, path=GATEWAY_CAUGHT_UP_PATH)
    choices = parent.get(f"{CENTRE}/preferences").json()["choices"]
    assert choices["messages"]["email"] == "off" and choices["messages"]["push"] == "instant"
    assert choices["announcements"]["email"] == "instant"
    # the next message comes by push only
    before = len(smtp.to("parent2@demo.school"))
    again = office.post(
        f"{MESSAGING}/conversations/{conversation}/messages", json={"text": "See you Tuesday"}
    )
    assert again.status_code == 201, again.text
    await until(lambda: len(pushes.received(device)) >= 2, within=20, why="the second push")
    leader = signed_in(school, LEADER)
    notice = leader.post(f"{CENTRE}/emergency", json={"text": "Snow: the school is closed."})
    assert notice.status_code == 201, notice.text
    urgent = await mailed(smtp, "parent2@demo.school", "Demo Primary School: urgent")
    assert urgent.message["List-Unsubscribe"] is None  # an emergency cannot be muted
    assert "always sent" in urgent.body("plain")
    assert len(smtp.to("parent2@demo.school")) == before + 1  # no email for "See you Tuesday"


def test_a_device_subscription_is_checked_and_only_for_people(school: str, tmp_path: Path) -> None:
    parent = signed_in(school, PARENT)
    for bad in (
        {"endpoint": "ftp://push.example/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}},
        {"endpoint": "https://push.example/x"},
        {"endpoint": "https://push.example/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}},
        {"nonsense": True},
    ):
        answer = parent.post("/api/notifications/push/subscriptions", json=bad)
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert httpx.get(f"{school}/api/notifications/push/key").status_code == 401


async def test_a_point_reaches_the_childs_family_and_no_other(
    school: str, ids: dict[str, str]
) -> None:
    teacher, parent = signed_in(school, TEACHER), signed_in(school, PARENT)
    other = signed_in(school, PARENT3)  # Sam K., in Ada's class
    assert parent.post(f"{CENTRE}/seen").status_code == 200
    known, theirs = seen_ids(parent), seen_ids(other)
    awarded = teacher.post(
        "/api/awards", json={"pupil_id": ids["ada"], "school_way_id": ids["kindness"]}
    )
    assert awarded.status_code == 201, awarded.text
    item = await shown(parent, "Ada got 1 point", besides=known)
    assert item["unread"] is True and item["kind"] == "points"
    assert item["url"] == "#home"
    assert parent.get(f"{CENTRE}/unread").json()["unread"] >= 1
    # the other family hears nothing of Ada: a point of their own child comes after it
    awarded = teacher.post(
        "/api/awards", json={"pupil_id": ids["sam-k"], "school_way_id": ids["kindness"]}
    )
    assert awarded.status_code == 201, awarded.text
    await shown(other, "Sam got 1 point", besides=theirs)
    assert "Ada" not in json.dumps(centre(other))
    # opened: nothing unread any more
    assert parent.post(f"{CENTRE}/seen").json() == {"unread": 0}
    assert parent.get(f"{CENTRE}/unread").json() == {"unread": 0}
    assert all(not i["unread"] for i in centre(parent)["items"])


async def test_a_story_is_told_only_while_families_can_see_it(
    school: str, ids: dict[str, str]
) -> None:
    teacher, parent = signed_in(school, TEACHER), signed_in(school, PARENT)
    known = seen_ids(parent)
    posts = f"/api/stories/schools/{SCHOOL}/posts"
    audience = {"kind": "classes", "class_ids": [ids["oak"]]}
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    for text, more in (("Our trip on Friday", {"visible_from": later}), ("Today's painting", {})):
        answer = teacher.post(posts, json={"audience": audience, "text": text, **more})
        assert answer.status_code == 201, answer.text
    # the two are told in the order written: once today's is listed, the scheduled one was
    # handled too, and it is not listed
    today = await shown(parent, "New story for Oak", besides=known)
    new = [i for i in centre(parent)["items"] if i["id"] not in known]
    assert [i["id"] for i in new] == [today["id"]], new
    # deleted, a story is no longer told of
    deleted = teacher.delete(f"{posts}/{answer.json()['post_id']}")
    assert deleted.status_code == 200, deleted.text
    until_projected_sync(teacher, deleted, path=GATEWAY_CAUGHT_UP_PATH)
    assert today["id"] not in seen_ids(parent)


async def test_messages_tell_the_other_side_who_wrote_never_what(
    school: str, ids: dict[str, str]
) -> None:
    teacher, parent = signed_in(school, TEACHER), signed_in(school, PARENT)
    messaging = f"/api/messaging/schools/{SCHOOL}"
    started = parent.post(
        f"{messaging}/conversations",
        json={"pupil_id": ids["ada"], "text": "Ada's grandmother collects her on Friday"},
    )
    assert started.status_code == 201, started.text
    heard = await shown(teacher, "A family wrote about Ada")
    assert heard["url"] == f"#conversation={started.json()['conversation_id']}"
    assert "grandmother" not in json.dumps(centre(teacher))
    conversation = started.json()["conversation_id"]
    until_projected_sync(parent, started, path=GATEWAY_CAUGHT_UP_PATH)
    replied = teacher.post(
        f"{messaging}/conversations/{conversation}/messages", json={"text": "Thank you"}
    )
    assert replied.status_code == 201, replied.text
    item = await shown(parent, "Message from Ms Oak about Ada")
    assert item["kind"] == "messages"


async def test_an_emergency_notice_reaches_every_family(school: str) -> None:
    leader, teacher = signed_in(school, LEADER), signed_in(school, TEACHER)
    refused = teacher.post(f"{CENTRE}/emergency", json={"text": "Closed"})
    assert refused.status_code == 403, refused.text
    families = [signed_in(school, who) for who in (PARENT, PARENT2)]
    known = [seen_ids(family) for family in families]
    sent = leader.post(f"{CENTRE}/emergency", json={"text": "The school is closed today (snow)."})
    assert sent.status_code == 201, sent.text
    for family, before in zip(families, known, strict=True):
        item = await shown(family, "Demo Primary School: urgent", besides=before)
        assert item["body"] == "The school is closed today (snow)."
        assert item["kind"] == "emergency"
    # three an hour per school: a leader's account taken over cannot wake every family all
    # night (one was sent above; another test of this module may have sent one more)
    answers = [
        leader.post(f"{CENTRE}/emergency", json={"text": f"Test {n}"}).status_code for n in range(3)
    ]
    assert answers[-1] == 429 and answers == sorted(answers), answers
    bad = leader.post(f"{CENTRE}/emergency", json={"text": ""})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    support = leader.get(f"{CENTRE}/handled")
    assert support.status_code == 200, support.text
    assert any(i["kind"] == "EmergencyNoticeSent" for i in support.json()["items"])
    assert "snow" not in support.text


def test_who_may_open_a_notification_centre(school: str) -> None:
    assert client_for(school).get(CENTRE).status_code == 401
    parent = signed_in(school, PARENT)
    other_school = parent.get("/api/notifications/schools/another-school/notifications")
    assert other_school.status_code in (403, 404), other_school.text
    assert parent.put(f"{CENTRE}/settings", json={"digest_at": "18:00"}).status_code == 403
    leader = signed_in(school, LEADER)
    changed = leader.put(f"{CENTRE}/settings", json={"digest_at": "18:00"})
    assert changed.status_code == 200, changed.text
    assert parent.get(f"{CENTRE}/handled").status_code == 403


def test_a_parent_chooses_what_they_hear_about_and_cannot_mute_safety(school: str) -> None:
    parent = signed_in(school, PARENT)
    shown = parent.get(f"{CENTRE}/preferences")
    assert shown.status_code == 200, shown.text
    choices = shown.json()["choices"]
    assert choices["messages"] == {"in_app": "instant", "push": "instant", "email": "instant"}
    assert set(shown.json()["locked"]) == {"account", "safety", "emergency"}
    change = {"choices": {"class_stories": {"push": "digest"}, "points": {"email": "digest"}}}
    changed = parent.put(f"{CENTRE}/preferences", json=change)
    assert changed.status_code == 200, changed.text
    assert changed.json()["choices"]["class_stories"]["push"] == "digest"
    assert changed.json()["choices"]["points"]["email"] == "digest"
    for refused in (
        {"choices": {"safety": {"email": "off"}}},
        {"choices": {"messages": {"in_app": "off"}}},
        {"choices": {"gossip": {"push": "off"}}},
        {"choices": {"messages": {"push": "sometimes"}}},
        {"choices": {}, "also": 1},
    ):
        answer = parent.put(f"{CENTRE}/preferences", json=refused)
        assert answer.status_code == 422, (refused, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    # a refused change wrote nothing: the earlier choices stand
    until_projected_sync(parent, changed, path=GATEWAY_CAUGHT_UP_PATH)
    kept = parent.get(f"{CENTRE}/preferences").json()["choices"]
    assert kept["class_stories"]["push"] == "digest"
    assert kept["safety"]["email"] == "instant"
