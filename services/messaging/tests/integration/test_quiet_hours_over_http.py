"""Quiet hours over real HTTP: what a family is told at night, receipts held until the
morning, staff replies scheduled for the start of hours, and the leaders' count of
conversations waiting too long (counts by class, never staff names)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from schoolgate_contracts.messaging import ConversationStarted, MessageSent
from schoolgate_messaging import domain

from services.messaging.tests.integration.conftest import (
    MessagingService,
    School,
    new_school,
    start,
)


async def opened(client: httpx.AsyncClient, school: School, conversation: str, who: dict) -> dict:
    answer = await client.get(school.path(f"/conversations/{conversation}"), headers=who)
    assert answer.status_code == 200, answer.text
    body: dict = answer.json()
    return body


async def read_all(
    client: httpx.AsyncClient, school: School, started: dict, who: dict[str, str]
) -> dict:
    read = await client.post(
        school.path(f"/conversations/{started['conversation_id']}/read"),
        headers=who,
        json={"through_message_id": started["message_id"]},
    )
    assert read.status_code == 200, read.text
    await school.service.projected(read)
    body: dict = read.json()
    return body


async def test_at_night_families_are_told_when_and_a_teachers_receipt_waits_for_morning(
    client: httpx.AsyncClient, messaging: MessagingService, school: School
) -> None:
    night = await new_school(messaging, inside_hours=False)
    status = (await client.get(night.path("/messaging/status"), headers=night.parent("ada"))).json()
    assert status["school"]["in_hours"] is False
    reply_after = datetime.fromisoformat(status["school"]["reply_after"])
    assert datetime.now(UTC) < reply_after < datetime.now(UTC) + timedelta(hours=6)
    assert datetime.fromisoformat(status["school"]["reply_after_local"]).hour == 8

    started = await start(client, night, night.parent("ada"))
    receipt = await read_all(client, night, started, night.teacher)
    assert datetime.fromisoformat(receipt["receipt_shown_from"]) == reply_after
    family = await opened(client, night, started["conversation_id"], night.parent("ada"))
    assert family["messages"][0]["read"] is False
    staff = await opened(client, night, started["conversation_id"], night.teacher)
    assert staff["unread"] == 0  # read for the school, only not yet shown to the family

    by_day = await start(client, school, school.parent("ada"))
    await read_all(client, school, by_day, school.teacher)
    family = await opened(client, school, by_day["conversation_id"], school.parent("ada"))
    assert family["messages"][0]["read"] is True


async def test_a_reply_scheduled_for_the_morning_is_hidden_from_the_family_until_then(
    client: httpx.AsyncClient, messaging: MessagingService
) -> None:
    night = await new_school(messaging, inside_hours=False)
    status = (await client.get(night.path("/messaging/status"), headers=night.teacher)).json()
    morning = status["school"]["reply_after"]
    started = await start(client, night, night.parent("ada"))
    conversation = started["conversation_id"]
    scheduled = await client.post(
        night.path(f"/conversations/{conversation}/messages"),
        headers=night.teacher,
        json={"text": "See you at the gate tomorrow", "send_at": morning},
    )
    assert scheduled.status_code == 201, scheduled.text
    assert datetime.fromisoformat(scheduled.json()["visible_from"]) == datetime.fromisoformat(
        morning
    )
    await night.service.projected(scheduled)

    family = await opened(client, night, conversation, night.parent("ada"))
    assert [m["text"] for m in family["messages"]] == ["Ada had a rough night's sleep"]
    inbox = (await client.get(night.path("/conversations"), headers=night.parent("ada"))).json()
    assert inbox["unread"] == 0
    assert inbox["conversations"][0]["preview"] == "Ada had a rough night's sleep"
    staff = await opened(client, night, conversation, night.assistant)
    assert [(m["text"], m["scheduled"]) for m in staff["messages"]] == [
        ("Ada had a rough night's sleep", False),
        ("See you at the gate tomorrow", True),
    ]
    # a family cannot schedule: theirs is sent now whatever they ask
    theirs = await client.post(
        night.path(f"/conversations/{conversation}/messages"),
        headers=night.parent("ada"),
        json={"text": "Thank you", "send_at": morning},
    )
    assert theirs.status_code == 201, theirs.text
    assert datetime.fromisoformat(theirs.json()["visible_from"]) < datetime.fromisoformat(morning)


async def test_leaders_see_how_many_wait_too_long_by_class_never_who(
    client: httpx.AsyncClient, messaging: MessagingService
) -> None:
    night = await new_school(messaging, inside_hours=False)
    await start(client, night, night.parent("ben"), pupil="ben", text="Ben lost his coat")
    old = uuid.uuid4().hex
    long_ago = datetime.now(UTC) - timedelta(days=30)
    await messaging.append(
        domain.CONVERSATIONS.stream(old),
        night.id,
        ConversationStarted(
            conversation_id=old,
            kind="family",
            pupil_id=night.p("ada"),
            class_id="oak",
            inbox="class",
            parent_ids=("parent-of-ada",),
            started_by="parent-of-ada",
            started_by_side="family",
        ),
        MessageSent(
            conversation_id=old,
            message_id=uuid.uuid4().hex,
            sender_id="parent-of-ada",
            side="family",
            text="Is anyone there?",
            visible_from=long_ago,
            pupil_id=night.p("ada"),
            class_id="oak",
            inbox="class",
            parent_ids=("parent-of-ada",),
        ),
    )
    await night.caught_up()
    answer = await client.get(night.path("/response-times"), headers=night.leader)
    assert answer.status_code == 200, answer.text
    [row] = answer.json()["rows"]
    assert row["class_id"] == "oak"
    assert (row["waiting"], row["overdue"]) == (2, 1)
    assert datetime.fromisoformat(row["oldest_since"]) == long_ago
    for staff in ("Ms Oak", "Mr Birch", "teacher-oak", "ta-oak"):
        assert staff not in answer.text

    # answered, it no longer waits
    replied = await client.post(
        night.path(f"/conversations/{old}/messages"),
        headers=night.teacher,
        json={"text": "Sorry for the wait"},
    )
    assert replied.status_code == 201, replied.text
    await night.service.projected(replied)
    [row] = (await client.get(night.path("/response-times"), headers=night.leader)).json()["rows"]
    assert (row["waiting"], row["overdue"]) == (1, 0)
