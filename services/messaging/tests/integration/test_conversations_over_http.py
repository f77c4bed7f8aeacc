"""Conversations over real HTTP: a family and the class, receipts, announcements whose
replies stay private, withdrawal, reports and the kill switch."""

from __future__ import annotations

import io

import httpx
from PIL import Image
from schoolgate_contracts.roster import PupilMovedClass

from services.messaging.tests.integration.conftest import (
    MessagingService,
    School,
    new_school,
    start,
)


async def test_a_parent_writes_to_the_class_and_the_teacher_reads_and_replies(
    client: httpx.AsyncClient, school: School
) -> None:
    started = await start(client, school, school.parent("ada"))
    conversation_id = started["conversation_id"]

    inbox = (await client.get(school.path("/conversations"), headers=school.teacher)).json()
    [summary] = inbox["conversations"]
    assert summary["conversation_id"] == conversation_id
    assert summary["pupil_name"] == "Ada"
    assert summary["unread"] == 1
    assert summary["preview"] == "Ada had a rough night's sleep"

    opened = await client.get(
        school.path(f"/conversations/{conversation_id}"), headers=school.teacher
    )
    assert opened.status_code == 200, opened.text
    assert opened.json()["class_staff"] == ["Ms Oak", "Mr Birch"]
    read = await client.post(
        school.path(f"/conversations/{conversation_id}/read"),
        headers=school.teacher,
        json={"through_message_id": started["message_id"]},
    )
    assert read.status_code == 200, read.text
    await school.service.projected(read)

    family = await client.get(
        school.path(f"/conversations/{conversation_id}"), headers=school.parent("ada")
    )
    [message] = family.json()["messages"]
    assert message["mine"] and message["read"]

    replied = await client.post(
        school.path(f"/conversations/{conversation_id}/messages"),
        headers=school.assistant,
        json={"text": "Thank you for telling us. We will keep an eye on her."},
    )
    assert replied.status_code == 201, replied.text
    await school.service.projected(replied)
    inbox = (await client.get(school.path("/conversations"), headers=school.parent("ada"))).json()
    assert inbox["unread"] == 1


async def test_another_schools_teacher_and_a_parent_of_another_child_see_nothing(
    client: httpx.AsyncClient, school: School
) -> None:
    started = await start(client, school, school.parent("ada"))
    path = school.path(f"/conversations/{started['conversation_id']}")
    for headers in (school.parent("ben"), school.ash_teacher, school.office, school.leader):
        assert (await client.get(path, headers=headers)).status_code == 404
    assert (await client.get(path, headers=school.admin)).status_code == 403
    assert (await client.get(path, headers=school.pupil("ada"))).status_code == 403
    other = f"/schools/{school.other}/conversations/{started['conversation_id']}"
    assert (await client.get(other, headers=school.other_teacher)).status_code == 404
    assert (await client.get(other, headers=school.other_parent)).status_code == 404


async def test_a_class_announcement_is_read_by_every_family_and_replies_stay_private(
    client: httpx.AsyncClient, school: School
) -> None:
    sent = await client.post(
        school.path("/announcements"),
        headers=school.teacher,
        json={"class_id": "oak", "text": "Trip to the farm on Friday: wellies please"},
    )
    assert sent.status_code == 201, sent.text
    await school.service.projected(sent)
    announcement = sent.json()["conversation_id"]
    for child in ("ada", "ben"):
        inbox = (
            await client.get(school.path("/conversations"), headers=school.parent(child))
        ).json()
        assert [c["conversation_id"] for c in inbox["conversations"]] == [announcement]
    cal = (await client.get(school.path("/conversations"), headers=school.parent("cal"))).json()
    assert cal["conversations"] == []

    reply = await client.post(
        school.path(f"/conversations/{announcement}/messages"),
        headers=school.parent("ada"),
        json={"text": "Ada has no wellies, can she wear trainers?"},
    )
    assert reply.status_code == 201, reply.text
    await school.service.projected(reply)
    private = reply.json()["conversation_id"]
    assert private != announcement
    ben = (await client.get(school.path("/conversations"), headers=school.parent("ben"))).json()
    assert [c["conversation_id"] for c in ben["conversations"]] == [announcement]
    opened = (
        await client.get(
            school.path(f"/conversations/{announcement}"), headers=school.parent("ben")
        )
    ).json()
    assert [m["text"] for m in opened["messages"]] == ["Trip to the farm on Friday: wellies please"]
    teacher = (await client.get(school.path("/conversations"), headers=school.teacher)).json()
    assert {c["conversation_id"] for c in teacher["conversations"]} == {announcement, private}


async def test_a_reported_message_reaches_the_leaders_who_hide_it(
    client: httpx.AsyncClient, school: School
) -> None:
    started = await start(client, school, school.parent("ada"), text="You are useless, all of you")
    conversation_id = started["conversation_id"]
    reported = await client.post(
        school.path(f"/conversations/{conversation_id}/messages/{started['message_id']}/report"),
        headers=school.teacher,
        json={"reason": "Abusive"},
    )
    assert reported.status_code == 201, reported.text
    await school.service.projected(reported)
    [report] = (await client.get(school.path("/reports"), headers=school.leader)).json()
    detail = await client.get(school.path(f"/reports/{report['report_id']}"), headers=school.leader)
    assert detail.status_code == 200, detail.text
    assert detail.json()["conversation"]["messages"][0]["text"] == "You are useless, all of you"
    resolved = await client.post(
        school.path(f"/reports/{report['report_id']}/resolve"),
        headers=school.leader,
        json={"action": "hidden", "note": "Not how we speak to staff"},
    )
    assert resolved.status_code == 200, resolved.text
    await school.service.projected(resolved)
    family = (
        await client.get(
            school.path(f"/conversations/{conversation_id}"), headers=school.parent("ada")
        )
    ).json()
    assert family["messages"][0]["hidden"] and family["messages"][0]["text"] == ""


async def test_switched_off_nobody_sends_and_families_see_the_notice(
    client: httpx.AsyncClient, messaging: MessagingService
) -> None:
    school = await new_school(messaging)
    off = await client.put(
        school.path("/messaging/switch"),
        headers=school.leader,
        json={"on": False, "notice": "Messaging is paused while we fix a problem."},
    )
    assert off.status_code == 200, off.text
    await school.service.projected(off)
    refused = await client.post(
        school.path("/conversations"),
        headers=school.parent("ada"),
        json={"pupil_id": school.p("ada"), "text": "hello"},
    )
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/messaging-switched-off")
    status = (
        await client.get(school.path("/messaging/status"), headers=school.parent("ada"))
    ).json()
    assert status["switched_off"] and status["notice"].startswith("Messaging is paused")


async def test_a_warned_sender_reads_the_leaders_words_in_the_conversation(
    client: httpx.AsyncClient, school: School
) -> None:
    started = await start(client, school, school.parent("ada"), text="Sort it out or else")
    conversation_id = started["conversation_id"]
    reported = await client.post(
        school.path(f"/conversations/{conversation_id}/messages/{started['message_id']}/report"),
        headers=school.teacher,
        json={"reason": "Threatening"},
    )
    await school.service.projected(reported)
    resolved = await client.post(
        school.path(f"/reports/{reported.json()['report_id']}/resolve"),
        headers=school.leader,
        json={"action": "warned", "note": "Please keep messages polite: our staff deserve it."},
    )
    assert resolved.status_code == 200, resolved.text
    await school.service.projected(resolved)
    path = school.path(f"/conversations/{conversation_id}")
    family = (await client.get(path, headers=school.parent("ada"))).json()
    assert [w["note"] for w in family["warnings"]] == [
        "Please keep messages polite: our staff deserve it."
    ]
    assert (await client.get(path, headers=school.teacher)).json()["warnings"] == []


async def test_a_leader_reading_a_reported_conversation_leaves_no_receipt(
    client: httpx.AsyncClient, school: School
) -> None:
    started = await start(client, school, school.parent("ada"), text="Nobody listens here")
    conversation_id = started["conversation_id"]
    reported = await client.post(
        school.path(f"/conversations/{conversation_id}/messages/{started['message_id']}/report"),
        headers=school.teacher,
        json={"reason": "Rude"},
    )
    await school.service.projected(reported)
    before = school.service.newest_position()
    read = await client.post(
        school.path(f"/conversations/{conversation_id}/read"),
        headers=school.leader,
        json={"through_message_id": started["message_id"]},
    )
    assert read.status_code == 200, read.text
    assert school.service.newest_position() == before
    family = await client.get(
        school.path(f"/conversations/{conversation_id}"), headers=school.parent("ada")
    )
    assert not family.json()["messages"][0]["read"]


async def test_the_name_check_tells_a_family_of_their_childs_classmates_only(
    client: httpx.AsyncClient, school: School
) -> None:
    async def named(headers: dict[str, str], text: str) -> list[str]:
        answer = await client.post(
            school.path("/messaging/check"), headers=headers, json={"text": text}
        )
        assert answer.status_code == 200, answer.text
        return [n["name"] for n in answer.json()["full_names"]]

    text = "Ben Okri and Cal Jones were lovely to Ada Lovelace today"
    assert await named(school.parent("ada"), text) == ["Ben Okri"]
    assert await named(school.teacher, text) == ["Ben Okri", "Cal Jones", "Ada Lovelace"]


async def test_a_photo_sent_as_a_document_is_refused(
    client: httpx.AsyncClient, school: School
) -> None:
    image = io.BytesIO()
    Image.new("RGB", (40, 30), "orange").save(image, format="PNG")
    uploaded = await client.post(
        school.path("/media"),
        headers={**school.teacher, "content-type": "application/octet-stream"},
        content=image.getvalue(),
    )
    assert uploaded.status_code == 201, uploaded.text
    media_id = uploaded.json()["media_id"]
    before = school.service.newest_position()
    answer = await client.post(
        school.path("/conversations"),
        headers=school.teacher,
        json={
            "pupil_id": school.p("ada"),
            "text": "Look at this",
            "attachments": [{"media_id": media_id, "kind": "document"}],
        },
    )
    assert answer.status_code == 422, answer.text
    assert school.service.newest_position() == before


async def test_a_conversation_moves_with_the_child_and_the_old_class_keeps_its_part_read_only(
    client: httpx.AsyncClient, school: School
) -> None:
    started = await start(client, school, school.parent("ada"), text="Said in Oak")
    conversation_id = started["conversation_id"]
    await school.service.append(
        f"roster-{school.id}-move",
        school.id,
        PupilMovedClass(
            pupil_id=school.p("ada"), from_class_id="oak", to_class_id="ash", year_group_id="y1"
        ),
    )
    await school.caught_up()
    path = school.path(f"/conversations/{conversation_id}")
    later = await client.post(
        f"{path}/messages", headers=school.parent("ada"), json={"text": "Said in Ash"}
    )
    assert later.status_code == 201, later.text
    await school.service.projected(later)

    old = (await client.get(path, headers=school.teacher)).json()
    assert [m["text"] for m in old["messages"]] == ["Said in Oak"]
    assert old["may_write"] is False
    refused = await client.post(f"{path}/messages", headers=school.teacher, json={"text": "Hi"})
    assert refused.status_code == 403
    new = (await client.get(path, headers=school.ash_teacher)).json()
    assert [m["text"] for m in new["messages"]] == ["Said in Ash"]
    assert new["may_write"] is True
