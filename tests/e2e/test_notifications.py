"""Issue 22 through the gateway, as `make run` serves it: the notification centre.

A point, a message or an emergency notice reaches exactly the people it concerns, by first
name only; another family, a pupil's tablet and another school see nothing of it. The
centre is a reactor's work, fed over the bus: a test waits for the entry to appear (bounded),
never for a fixed time.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from schoolgate_kit.testing.waiting import GATEWAY_CAUGHT_UP_PATH, until_projected_sync

from ..conftest import until  # type: ignore[import-not-found]
from .conftest import client_for, signed_in  # type: ignore[import-not-found]

TEACHER = {"email": "teacher@demo.school", "password": "demo-teacher-pass"}
LEADER = {"email": "leader@demo.school", "password": "demo-leader-pass"}
PARENT = {"email": "parent@demo.school", "password": "demo-parent-pass"}
PARENT2 = {"email": "parent2@demo.school", "password": "demo-parent2-pass"}
PARENT3 = {"email": "parent3@demo.school", "password": "demo-parent3-pass"}
SCHOOL = "demo-school"
CENTRE = f"/api/notifications/schools/{SCHOOL}/notifications"


def centre(client: httpx.Client) -> dict[str, Any]:
    answer = client.get(CENTRE)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def shown(client: httpx.Client, title: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    def there() -> bool:
        for item in centre(client)["items"]:
            if item["title"] == title:
                found.update(item)
                return True
        return False

    await until(there, within=20, why=f"{title!r} in the notification centre")
    return found


async def test_a_point_reaches_the_childs_family_and_no_other(
    embedded: str, ids: dict[str, str]
) -> None:
    teacher, parent = signed_in(embedded, TEACHER), signed_in(embedded, PARENT)
    other = signed_in(embedded, PARENT3)  # Sam K., in Ada's class
    assert parent.post(f"{CENTRE}/seen").status_code == 200
    awarded = teacher.post(
        "/api/awards", json={"pupil_id": ids["ada"], "school_way_id": ids["kindness"]}
    )
    assert awarded.status_code == 201, awarded.text
    item = await shown(parent, "Ada got 1 point")
    assert item["unread"] is True and item["kind"] == "points"
    assert item["url"] == "#home"
    assert parent.get(f"{CENTRE}/unread").json()["unread"] >= 1
    # the other family hears nothing of Ada: a point of their own child comes after it
    awarded = teacher.post(
        "/api/awards", json={"pupil_id": ids["sam-k"], "school_way_id": ids["kindness"]}
    )
    assert awarded.status_code == 201, awarded.text
    await shown(other, "Sam got 1 point")
    assert "Ada" not in json.dumps(centre(other))
    # opened: nothing unread any more
    assert parent.post(f"{CENTRE}/seen").json() == {"unread": 0}
    assert parent.get(f"{CENTRE}/unread").json() == {"unread": 0}
    assert all(not i["unread"] for i in centre(parent)["items"])


async def test_messages_tell_the_other_side_who_wrote_never_what(
    embedded: str, ids: dict[str, str]
) -> None:
    teacher, parent = signed_in(embedded, TEACHER), signed_in(embedded, PARENT)
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
    replied = teacher.post(
        f"{messaging}/conversations/{conversation}/messages", json={"text": "Thank you"}
    )
    assert replied.status_code == 201, replied.text
    item = await shown(parent, "Message from Ms Oak about Ada")
    assert item["kind"] == "messages"


async def test_an_emergency_notice_reaches_every_family(embedded: str) -> None:
    leader, teacher = signed_in(embedded, LEADER), signed_in(embedded, TEACHER)
    refused = teacher.post(f"{CENTRE}/emergency", json={"text": "Closed"})
    assert refused.status_code == 403, refused.text
    sent = leader.post(f"{CENTRE}/emergency", json={"text": "The school is closed today (snow)."})
    assert sent.status_code == 201, sent.text
    for who in (PARENT, PARENT2):
        item = await shown(signed_in(embedded, who), "Demo Primary School: urgent")
        assert item["body"] == "The school is closed today (snow)."
        assert item["kind"] == "emergency"
    bad = leader.post(f"{CENTRE}/emergency", json={"text": ""})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    support = leader.get(f"{CENTRE}/handled")
    assert support.status_code == 200, support.text
    assert any(i["kind"] == "EmergencyNoticeSent" for i in support.json()["items"])
    assert "snow" not in support.text


def test_who_may_open_a_notification_centre(embedded: str) -> None:
    assert client_for(embedded).get(CENTRE).status_code == 401
    parent = signed_in(embedded, PARENT)
    other_school = parent.get("/api/notifications/schools/another-school/notifications")
    assert other_school.status_code in (403, 404), other_school.text
    assert parent.put(f"{CENTRE}/settings", json={"digest_at": "18:00"}).status_code == 403
    leader = signed_in(embedded, LEADER)
    changed = leader.put(f"{CENTRE}/settings", json={"digest_at": "18:00"})
    assert changed.status_code == 200, changed.text
    assert parent.get(f"{CENTRE}/handled").status_code == 403


def test_a_parent_chooses_what_they_hear_about_and_cannot_mute_safety(embedded: str) -> None:
    parent = signed_in(embedded, PARENT)
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
