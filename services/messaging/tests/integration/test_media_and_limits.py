"""Photos and PDFs in messages, media consent, the rate limit, withdrawal, and bad input
answered with problem+json and nothing written, over real HTTP."""

from __future__ import annotations

import io
import struct
import uuid
from typing import Any

import httpx
import pytest
from PIL import Image
from pypdf import PdfWriter

from services.messaging.tests.integration.conftest import (
    FAMILY_LIMIT,
    MessagingService,
    School,
    new_school,
    start,
)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 120, 200)).save(out, "PNG")
    return out.getvalue()


def pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4() -> bytes:
    """The smallest file the media safety takes for a video: ftyp, moov, mdat."""
    return (
        box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41")
        + box(b"moov", box(b"mvhd", bytes(100)) + box(b"trak", box(b"tkhd", bytes(84))))
        + box(b"mdat", b"FRAMES" * 50)
    )


async def upload(client: httpx.AsyncClient, school: School, who: dict, data: bytes) -> dict:
    answer = await client.post(school.path("/media"), headers=who, content=data)
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def test_a_family_sends_a_photo_and_a_pdf_that_only_the_class_sees(
    client: httpx.AsyncClient, school: School
) -> None:
    family = school.parent("ada")
    photo = await upload(client, school, family, png())
    letter = await upload(client, school, family, pdf())
    assert (photo["kind"], letter["kind"]) == ("image", "document")
    started = await start(
        client,
        school,
        family,
        text="The rash, and the doctor's letter",
        attachments=[
            {"media_id": photo["media_id"], "kind": "image", "alt_text": "A rash on an arm"},
            {"media_id": letter["media_id"], "kind": "document"},
        ],
    )
    base = f"/conversations/{started['conversation_id']}/media/"
    shown = await client.get(school.path(base + photo["media_id"]), headers=school.teacher)
    assert shown.status_code == 200, shown.text
    assert shown.headers["content-type"].startswith("image/")
    Image.open(io.BytesIO(shown.content)).verify()
    thumb = await client.get(
        school.path(base + photo["media_id"] + "?size=thumb"), headers=school.assistant
    )
    assert thumb.status_code == 200
    document = await client.get(school.path(base + letter["media_id"]), headers=school.teacher)
    assert document.status_code == 200
    assert document.headers["content-type"] == "application/pdf"
    assert document.headers["content-disposition"] == "attachment"
    assert document.content.startswith(b"%PDF")
    for outsider in (school.parent("ben"), school.ash_teacher, school.office):
        for media in (photo, letter):
            refused = await client.get(school.path(base + media["media_id"]), headers=outsider)
            assert refused.status_code == 404

    # another family cannot attach what Ada's parent uploaded
    before = school.service.newest_position()
    borrowed = await client.post(
        school.path("/conversations"),
        headers=school.parent("ben"),
        json={
            "pupil_id": school.p("ben"),
            "text": "look",
            "attachments": [{"media_id": photo["media_id"], "kind": "image"}],
        },
    )
    assert borrowed.status_code == 422
    assert school.service.newest_position() == before


async def test_a_video_is_refused_for_messages(client: httpx.AsyncClient, school: School) -> None:
    answer = await client.post(school.path("/media"), headers=school.parent("ada"), content=mp4())
    assert answer.status_code == 422, answer.text
    assert "video" in answer.json()["detail"]


async def test_a_staff_photo_needs_consent_for_every_other_child_in_it(
    client: httpx.AsyncClient, school: School
) -> None:
    photo = await upload(client, school, school.teacher, png())

    async def send(tagged: list[str]) -> httpx.Response:
        return await client.post(
            school.path("/conversations"),
            headers=school.teacher,
            json={
                "pupil_id": school.p("ada"),
                "text": "Ada at the farm",
                "attachments": [
                    {
                        "media_id": photo["media_id"],
                        "kind": "image",
                        "tagged_pupil_ids": [school.p(t) for t in tagged],
                    }
                ],
            },
        )

    before = school.service.newest_position()
    no_consent = await send(["ada", "cal"])  # cal's family gave no photo consent
    assert no_consent.status_code == 422, no_consent.text
    assert no_consent.json()["type"].endswith("/no-media-consent")
    untagged = await send([])
    assert untagged.status_code == 422, untagged.text
    assert untagged.json()["detail"].startswith("Say which children")
    assert school.service.newest_position() == before
    allowed = await send(["ada", "ben"])
    assert allowed.status_code == 201, allowed.text


async def test_a_parent_who_sends_too_much_waits(
    client: httpx.AsyncClient, messaging: MessagingService
) -> None:
    school = await new_school(messaging)
    family = school.parent("ada")
    started = await start(client, school, family)
    path = school.path(f"/conversations/{started['conversation_id']}/messages")
    for n in range(FAMILY_LIMIT - 1):
        sent = await client.post(path, headers=family, json={"text": f"and another {n}"})
        assert sent.status_code == 201, sent.text
    await school.caught_up()
    before = messaging.newest_position()
    refused = await client.post(path, headers=family, json={"text": "one too many"})
    assert refused.status_code == 429, refused.text
    assert 0 < refused.json()["retry_after"] <= 600
    assert messaging.newest_position() == before
    # the limit is the sender's: the other parent and the class write on
    assert (await client.post(path, headers=school.teacher, json={"text": "ok"})).status_code == 201


async def test_a_parent_who_uploads_too_much_waits(
    client: httpx.AsyncClient, messaging: MessagingService
) -> None:
    school = await new_school(messaging)
    family = {**school.parent("ada"), "content-type": "application/octet-stream"}
    image = io.BytesIO()
    Image.new("RGB", (8, 8), "teal").save(image, format="PNG")
    for _ in range(FAMILY_LIMIT):
        stored = await client.post(school.path("/media"), headers=family, content=image.getvalue())
        assert stored.status_code == 201, stored.text
    refused = await client.post(school.path("/media"), headers=family, content=image.getvalue())
    assert refused.status_code == 429, refused.text
    assert 0 < refused.json()["retry_after"] <= 600


async def test_a_sender_withdraws_within_the_window_and_nobody_else_can(
    client: httpx.AsyncClient, school: School
) -> None:
    started = await start(client, school, school.parent("ada"), text="Sorry, wrong child")
    message = f"/conversations/{started['conversation_id']}/messages/{started['message_id']}"
    before = school.service.newest_position()
    not_theirs = await client.post(school.path(message + "/withdraw"), headers=school.teacher)
    assert not_theirs.status_code == 403, not_theirs.text
    assert school.service.newest_position() == before
    withdrawn = await client.post(school.path(message + "/withdraw"), headers=school.parent("ada"))
    assert withdrawn.status_code == 200, withdrawn.text
    await school.service.projected(withdrawn)
    seen = (
        await client.get(
            school.path(f"/conversations/{started['conversation_id']}"), headers=school.teacher
        )
    ).json()
    [shown] = seen["messages"]
    assert shown["withdrawn"] and shown["text"] == ""
    inbox = (await client.get(school.path("/conversations"), headers=school.teacher)).json()
    assert inbox["conversations"][0]["preview"] == "Message withdrawn"


@pytest.fixture(scope="module")
def one_conversation() -> dict[str, Any]:
    return {}


BAD = [
    ("post", "/conversations", {"pupil_id": "ada", "text": "hi", "cc": "everyone"}),
    ("post", "/conversations", {"pupil_id": "ada", "text": "x" * 6_000}),
    ("post", "/conversations", {"pupil_id": "ada", "text": "hi", "to": "head"}),
    ("post", "/conversations", {"pupil_id": "ada", "text": "   "}),
    ("post", "/conversations/c!d/messages", {"text": "hi"}),
    ("post", "/conversations/{c}/messages", {"text": "hi", "send_at": "tomorrow"}),
    ("post", "/conversations/{c}/read", {"through_message_id": "../../etc"}),
    ("post", "/conversations/{c}/pass", {"to": "headteacher"}),
    ("post", "/reports/r1/resolve", {"action": "banished"}),
    ("put", "/messaging/switch", {"on": False, "notice": ""}),
    ("put", "/messaging/settings", {"office_days": [9]}),
]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    BAD,
    ids=[
        "extra-field",
        "6000-chars",
        "unknown-inbox",
        "blank",
        "bad-id-in-path",
        "bad-send-at",
        "bad-message-id",
        "unknown-pass",
        "unknown-action",
        "off-without-notice",
        "bad-day",
    ],
)
async def test_bad_input_is_a_problem_and_writes_nothing(
    client: httpx.AsyncClient,
    messaging: MessagingService,
    one_conversation: dict[str, Any],
    method: str,
    path: str,
    body: dict[str, Any],
) -> None:
    if not one_conversation:  # nothing here writes, so the cases share a school
        school = await new_school(messaging)
        one_conversation.update(
            school=school, started=await start(client, school, school.parent("ada"))
        )
    school, started = one_conversation["school"], one_conversation["started"]
    who = school.leader if path.startswith(("/reports", "/messaging")) else school.teacher
    if "pupil_id" in body:
        body = {**body, "pupil_id": school.p(body["pupil_id"])}
    before = school.service.newest_position()
    answer = await client.request(
        method,
        school.path(path.replace("{c}", started["conversation_id"])),
        headers=who,
        json=body,
    )
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert school.service.newest_position() == before


async def test_a_message_id_of_ones_own_choosing_cannot_take_over_anothers_message(
    client: httpx.AsyncClient, school: School
) -> None:
    """A retry id is the sender's to choose; an id seen in an announcement, used again in
    one's own conversation, must not move the announcement's message out of every family's
    view."""
    sent = await client.post(
        school.path("/announcements"),
        headers=school.teacher,
        json={"class_id": "oak", "text": "Harvest festival on Friday"},
    )
    assert sent.status_code == 201, sent.text
    await school.service.projected(sent)
    announcement = sent.json()
    own = await start(client, school, school.parent("ada"))
    reused = await client.post(
        school.path(f"/conversations/{own['conversation_id']}/messages"),
        headers=school.parent("ada"),
        json={"text": "Mine now", "message_id": announcement["message_id"]},
    )
    assert reused.status_code == 201, reused.text
    await school.service.projected(reused)
    for child in ("ada", "ben"):
        seen = await client.get(
            school.path(f"/conversations/{announcement['conversation_id']}"),
            headers=school.parent(child),
        )
        assert [m["text"] for m in seen.json()["messages"]] == ["Harvest festival on Friday"]
    mine = await client.get(
        school.path(f"/conversations/{own['conversation_id']}"), headers=school.parent("ada")
    )
    assert [m["text"] for m in mine.json()["messages"]][-1] == "Mine now"


async def test_starting_again_with_ones_own_conversation_id_is_a_safe_retry(
    client: httpx.AsyncClient, school: School
) -> None:
    chosen = uuid.uuid4().hex
    first = await start(client, school, school.parent("ada"), conversation_id=chosen)
    before = school.service.newest_position()
    again = await client.post(
        school.path("/conversations"),
        headers=school.parent("ada"),
        json={
            "pupil_id": school.p("ada"),
            "text": "Ada had a rough night's sleep",
            "conversation_id": chosen,
        },
    )
    assert again.status_code == 201, again.text
    assert again.json() == first
    assert school.service.newest_position() == before
    taken = await client.post(
        school.path("/conversations"),
        headers=school.parent("ben"),
        json={"pupil_id": school.p("ben"), "text": "hello", "conversation_id": chosen},
    )
    assert taken.status_code == 409, taken.text
    assert school.service.newest_position() == before
    seen = await client.get(school.path(f"/conversations/{chosen}"), headers=school.parent("ada"))
    assert len(seen.json()["messages"]) == 1
