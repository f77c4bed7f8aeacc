"""The marker test: plant a unique marker in every personal field a person's data can reach
through the public API, erase them, rebuild every projection from position 0, then search
every byte the deployment keeps (event file, read models, private store, media, logs) for
the marker. Nothing may be found.

As `make run` runs it: one embedded Schoolgate on a data directory of its own, driven over
HTTP through the gateway, stopped before its files are searched (so nothing is left only in
memory or in a write-ahead log that a later start would fold back in).
"""

from __future__ import annotations

import asyncio
import io
import secrets
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from schoolgate_contracts import registry
from schoolgate_contracts.privacy import sealing_plan
from schoolgate_kit.media.filesystem import FilesystemMediaStore
from schoolgate_kit.testing.waiting import GATEWAY_CAUGHT_UP_PATH as CAUGHT_UP
from schoolgate_kit.testing.waiting import until_projected_sync

from ..conftest import demo_ids, start_embedded  # type: ignore[import-not-found]
from .conftest import client_for, signed_in  # type: ignore[import-not-found]

SCHOOL = "demo-school"
LEADER = {"email": "leader@demo.school", "password": "demo-leader-pass"}
TEACHER = {"email": "teacher@demo.school", "password": "demo-teacher-pass"}
PARENT = {"email": "parent2@demo.school", "password": "demo-parent2-pass"}
"""Leo's parent: the parent who closes their account."""
ROSTER = f"/api/roster/schools/{SCHOOL}"
CONSENT = f"/api/consent/schools/{SCHOOL}"
STORIES = f"/api/stories/schools/{SCHOOL}"
MESSAGING = f"/api/messaging/schools/{SCHOOL}"


class Markers:
    """One unique marker per field, so a hit says which field leaked."""

    def __init__(self) -> None:
        self.run = secrets.token_hex(4)
        self.planted: dict[str, str] = {}

    def __call__(self, field: str) -> str:
        value = f"Mk{self.run}{field.replace('.', '')}"
        self.planted[field] = value
        return value


def client(base: str, who: dict[str, str] | None = None) -> httpx.Client:
    """A browser, closed after the test (the e2e conftest's)."""
    return client_for(base) if who is None else signed_in(base, who)


def ok(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, f"{answer.request.url}: {answer.text}"
    return answer.json() if answer.content else None


def png(text: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 60)).save(out, format="PNG")
    return out.getvalue()


NOT_PLANTED = {
    # a flag, not words: nothing to search for (its erasure is tested in the kit's tests)
    "PupilCareStatusRecorded.in_care",
    # written only by a OneRoster import, from a school's own system; the same fields and
    # subject as StaffMemberAdded's, which are planted
    "StaffDetailsChanged.display_name",
    "StaffDetailsChanged.email",
    # an id the server makes, not words anyone types; erased with its week, not with the
    # pupil (tests/e2e/test_points_retention.py)
    "PointAwarded.pupil_id",
    "PointAwardUndone.pupil_id",
}


def talk_about(
    base: str, leader: httpx.Client, teacher: httpx.Client, pupil: str, mark: Markers
) -> None:
    """A new parent of the pupil writes to the class with a photo and reports an absence;
    the teacher reports the message and passes the conversation to the office, which passes
    it back; a leader warns the sender. Every words-field of messaging is planted."""
    who = {"email": f"{secrets.token_hex(6)}@family.example", "password": "a-long-password"}
    made = client(base).post("/api/join/account", json={**who, "display_name": "A parent"})
    assert made.status_code == 202, made.text
    family = client(base, who)
    code = ok(leader.post(f"{CONSENT}/pupils/{pupil}/invites", json={}), 201)["code"]
    redeemed = family.post("/api/join/redeem", json={"code": code})
    assert ok(redeemed)["status"] == "linked"
    until_projected_sync(leader, redeemed, path=CAUGHT_UP)
    accepted = family.post(f"{CONSENT}/code-of-conduct/acceptances", json={"version": 1})
    assert accepted.status_code in (200, 201, 204), accepted.text
    until_projected_sync(leader, accepted, path=CAUGHT_UP)
    photo = ok(
        family.post(
            f"{MESSAGING}/media",
            content=png("message"),
            headers={"content-type": "application/octet-stream"},
        ),
        201,
    )["media_id"]
    started = family.post(
        f"{MESSAGING}/conversations",
        json={
            "pupil_id": pupil,
            "text": mark("MessageSent.text"),
            "attachments": [
                {
                    "media_id": photo,
                    "kind": "image",
                    "alt_text": mark("MessageSent.attachments.alt_text"),
                }
            ],
        },
    )
    sent = ok(started, 201)
    until_projected_sync(leader, started, path=CAUGHT_UP)
    conversation = f"{MESSAGING}/conversations/{sent['conversation_id']}"
    reported = teacher.post(
        f"{conversation}/messages/{sent['message_id']}/report",
        json={"reason": mark("MessageReported.reason")},
    )
    report = ok(reported, 201)["report_id"]
    until_projected_sync(leader, reported, path=CAUGHT_UP)
    ok(
        leader.post(
            f"{MESSAGING}/reports/{report}/resolve",
            json={"action": "warned", "note": mark("ReportResolved.note")},
        )
    )
    passed = teacher.post(
        f"{conversation}/pass",
        json={"to": "office", "note": mark("ConversationPassedToOffice.note")},
    )
    ok(passed)
    until_projected_sync(leader, passed, path=CAUGHT_UP)
    back = leader.post(
        f"{conversation}/pass", json={"to": "class", "note": mark("ConversationPassedToClass.note")}
    )
    ok(back)
    until_projected_sync(leader, back, path=CAUGHT_UP)
    # with the class again, only its staff pass it on: the leader read it for the report
    ok(teacher.post(f"{conversation}/pass", json={"to": "office", "note": "for the office"}))
    today = datetime.now(UTC).date().isoformat()
    ok(
        family.post(
            f"{MESSAGING}/absences",
            json={
                "pupil_id": pupil,
                "first_day": today,
                "last_day": today,
                "reason": "sickness",
                "note": mark("AbsenceReported.note"),
            },
        ),
        201,
    )


def every_personal_field() -> set[str]:
    return {
        f"{event_type}.{'.'.join(step for step in sealed.path if step != '*')}"
        for event_type, cls in registry.types().items()
        for sealed in sealing_plan(cls)
    }


def settle(leader: httpx.Client, job: str) -> dict[str, Any]:
    """An import job once it waits for a leader or has finished (polled: it runs apart)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found: dict[str, Any] = ok(leader.get(job))
        if found["status"] in {"previewed", "done", "failed", "expired"}:
            return found
        time.sleep(0.05)
    raise AssertionError(f"import {job} did not settle")


def kept_media(data_dir: Path, media_id: str) -> bool:
    async def look() -> bool:
        store = await FilesystemMediaStore.open(data_dir / "media", clock=lambda: datetime.now(UTC))
        try:
            return await store.info(media_id) is not None
        finally:
            await store.close()

    return asyncio.run(look())


def every_byte(data_dir: Path) -> Iterator[tuple[Path, bytes]]:
    for path in sorted(data_dir.rglob("*")):
        if path.is_file():
            yield path, path.read_bytes()


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[tuple[Path, list[Any]]]:
    running: list[Any] = []
    yield tmp_path, running
    for proc in running:
        proc.stop()


def test_an_erased_pupil_leaves_no_trace_in_any_byte_the_school_keeps(
    deployment: tuple[Path, list[Any]],
) -> None:
    data_dir, running = deployment
    base, proc = start_embedded(data_dir, demo=True)
    running.append(proc)
    ids = demo_ids(base)
    mark = Markers()
    leader, teacher = client(base, LEADER), client(base, TEACHER)

    # -- a pupil, and everything a school writes about one ------------------------------
    enrolled = leader.post(
        f"{ROSTER}/pupils",
        json={
            "first_name": mark("PupilEnrolled.first_name"),
            "surname": mark("PupilEnrolled.surname"),
            "source_id": mark("PupilEnrolled.source_id"),
            "class_id": ids["oak"],
        },
    )
    pupil = ok(enrolled, 201)["pupil_id"]
    until_projected_sync(leader, enrolled, path=CAUGHT_UP)  # every service knows them now
    # their names changed by a roster import (a pupil list), as a school's system would
    pupil_list = (
        "pupil_id,first_name,surname,year_group,class\r\n"
        f"{mark.planted['PupilEnrolled.source_id']},{mark('PupilDetailsChanged.first_name')},"
        f"{mark('PupilDetailsChanged.surname')},Year 3,Oak\r\n"
    )
    started = leader.post(
        f"{ROSTER}/imports", content=pupil_list.encode(), headers={"content-type": "text/csv"}
    )
    job = f"{ROSTER}/imports/{ok(started, 202)['import_id']}"
    assert settle(leader, job)["status"] == "previewed"
    ok(leader.post(f"{job}/apply"), 202)
    assert settle(leader, job)["status"] == "done"
    ok(leader.put(f"{CONSENT}/pupils/{pupil}/media-consent", json={"granted": True}))
    code = ok(teacher.post(f"/api/classes/{ids['oak']}/code"), 201)["code"]
    tablet = client(base)
    ok(tablet.post("/api/pupil/session", json={"code": code, "pupil_id": pupil}))
    upload = ok(
        tablet.post(
            f"{STORIES}/media",
            content=png("portfolio"),
            headers={"content-type": "application/octet-stream"},
        ),
        201,
    )["media_id"]
    item = ok(
        tablet.post(
            f"{STORIES}/portfolio",
            json={
                "text": mark("PortfolioItemSubmitted.text"),
                "attachments": [
                    {
                        "media_id": upload,
                        "kind": "image",
                        "alt_text": mark("PortfolioItemSubmitted.attachments.alt_text"),
                        "tagged_pupil_ids": [pupil],
                    }
                ],
            },
        ),
        201,
    )["item_id"]
    ok(
        teacher.post(
            f"{STORIES}/portfolio/{item}/send-back",
            json={"note": mark("PortfolioItemSentBack.note")},
        )
    )
    ok(leader.put(f"{CONSENT}/pupils/{pupil}/care-status", json={"in_care": True}))
    ok(
        leader.post(
            f"{CONSENT}/pupils/{pupil}/media-exception",
            json={"reason": mark("MediaConsentExceptionRecorded.reason")},
        )
    )
    assert kept_media(data_dir, upload)

    # -- their family writes to the school about them, and the school answers ----------
    talk_about(base, leader, teacher, pupil, mark)

    # -- a parent's words, and the school's about them ---------------------------------
    parent = client(base, PARENT)
    ok(leader.put(f"{STORIES}/settings", json={"comments_enabled": True}))
    published = leader.post(
        f"{STORIES}/posts", json={"audience": {"kind": "school"}, "text": "Harvest festival"}
    )
    post = ok(published, 201)["post_id"]
    until_projected_sync(leader, published, path=CAUGHT_UP)
    commented = parent.post(
        f"{STORIES}/posts/{post}/comments", json={"text": mark("CommentAdded.text")}
    )
    ok(commented, 201)
    leo = ok(leader.get(f"{CONSENT}/pupils/{ids['leo']}/consent"))
    [parent_id] = [g["parent_id"] for g in leo["guardians"]]
    ok(
        leader.post(
            f"{CONSENT}/parents/{parent_id}/suspension",
            json={"reason": mark("ParentSuspended.reason")},
        )
    )

    # -- a story with words and a photo, deleted ---------------------------------------
    photo = ok(
        teacher.post(
            f"{STORIES}/media",
            content=png("story"),
            headers={"content-type": "application/octet-stream"},
        ),
        201,
    )["media_id"]
    story = ok(
        teacher.post(
            f"{STORIES}/posts",
            json={
                "audience": {"kind": "classes", "class_ids": [ids["oak"]]},
                "text": mark("PostPublished.text"),
                "attachments": [
                    {
                        "media_id": photo,
                        "kind": "image",
                        "alt_text": mark("PostPublished.attachments.alt_text"),
                        "tagged_pupil_ids": [],
                        "no_child_recognisable": True,
                    }
                ],
            },
        ),
        201,
    )["post_id"]
    ok(
        teacher.put(
            f"{STORIES}/posts/{story}",
            json={
                "text": mark("PostEdited.text"),
                "attachments": [
                    {
                        "media_id": photo,
                        "kind": "image",
                        "alt_text": mark("PostEdited.attachments.alt_text"),
                        "tagged_pupil_ids": [],
                        "no_child_recognisable": True,
                    }
                ],
            },
        )
    )
    ok(teacher.delete(f"{STORIES}/posts/{story}"))

    # -- the parent closes their account (suspended, they still may) --------------------
    assert parent.post("/api/me/close", json={"password": "not it"}).status_code == 403
    closed = parent.post("/api/me/close", json={"password": PARENT["password"]})
    assert closed.status_code == 204, closed.text
    assert parent.get("/api/me").status_code == 401
    assert client(base).post("/api/session", json=PARENT).status_code == 401

    # -- a third and a fourth parent of Ben wait for a leader, who says why ------------
    def new_parent() -> tuple[httpx.Client, dict[str, str]]:
        who = {"email": f"{secrets.token_hex(6)}@family.example", "password": "a-long-password"}
        made = client(base).post("/api/join/account", json={**who, "display_name": "A parent"})
        assert made.status_code == 202, made.text
        return client(base, who), who

    def invite() -> str:
        return str(ok(leader.post(f"{CONSENT}/pupils/{ids['ben']}/invites", json={}), 201)["code"])

    for _ in range(2):
        assert (
            ok(new_parent()[0].post("/api/join/redeem", json={"code": invite()}))["status"]
            == "linked"
        )
    waiting: list[tuple[httpx.Client, dict[str, str]]] = []
    for decision in ("approve", "reject"):
        asking, who = new_parent()
        asked = asking.post("/api/join/redeem", json={"code": invite()})
        assert ok(asked)["status"] == "pending"
        until_projected_sync(leader, asked, path=CAUGHT_UP)
        [request] = [
            r for r in ok(leader.get(f"{CONSENT}/guardian-requests")) if r["pupil_id"] == ids["ben"]
        ]
        field = "GuardianRequestApproved" if decision == "approve" else "GuardianRequestRejected"
        ok(
            leader.post(
                f"{CONSENT}/pupils/{ids['ben']}/guardian-requests/{request['request_id']}/decision",
                json={"decision": decision, "reason": mark(f"{field}.reason")},
            )
        )
        waiting.append((asking, who))
    for asking, who in waiting:  # both close their accounts
        closed = asking.post("/api/me/close", json={"password": who["password"]})
        assert closed.status_code == 204, closed.text

    # -- a member of staff, with a set-up link (their account keeps name and email) ----
    added = leader.post(
        f"{ROSTER}/staff",
        json={
            "display_name": mark("StaffMemberAdded.display_name"),
            "email": f"{mark('StaffMemberAdded.email')}@elm.example",
            "source_id": mark("StaffMemberAdded.source_id"),
            "role": "teaching_assistant",
        },
    )
    staff = ok(added, 201)["staff_id"]
    until_projected_sync(leader, added, path=CAUGHT_UP)
    ok(leader.post(f"/api/staff/{staff}/setup-link"), 201)
    ok(leader.post(f"{ROSTER}/staff/{staff}/leave"))
    assert ok(leader.post(f"{ROSTER}/staff/{staff}/erase"))["display_name"] == "removed"

    # -- the pupil leaves, and a leader erases them ------------------------------------
    ok(leader.post(f"{ROSTER}/pupils/{pupil}/leave"))
    erased = leader.post(f"{ROSTER}/pupils/{pupil}/erase")
    assert ok(erased)["first_name"] == "removed"
    until_projected_sync(leader, erased, path=CAUGHT_UP)  # and everything before it
    # the conversations about them go too: messaging hears of the erasure on the bus
    conversations = f"{MESSAGING}/conversations"
    assert ok(leader.get(f"{MESSAGING}/absences")) == [], "their absence is still listed"
    deadline = time.monotonic() + 60
    while ok(leader.get(conversations))["conversations"]:  # the reactor runs apart: polled
        assert time.monotonic() < deadline, "a conversation about the erased pupil is kept"
        time.sleep(0.05)
    with sqlite3.connect(data_dir / "events.db") as conn:
        (head,) = conn.execute("SELECT max(position) FROM events").fetchone()
    until_projected_sync(leader, head, path=CAUGHT_UP)
    # live, before any rebuild: what the parent wrote already reads as removed
    comments = ok(leader.get(f"{STORIES}/posts/{post}/comments"))
    assert [c["text"] for c in comments] == ["removed"]
    ben = ok(leader.get(f"{CONSENT}/pupils/{ids['ben']}/consent"))
    assert mark.run not in str(ben), "what the leader said of them is still shown"
    assert not kept_media(data_dir, photo), "the deleted story's photo is still kept"

    # -- every projection rebuilt from position 0 --------------------------------------
    proc.stop()
    for path in data_dir.glob("readmodels.db*"):
        path.unlink()
    base, proc = start_embedded(data_dir, demo=True)
    running.append(proc)
    with sqlite3.connect(data_dir / "events.db") as conn:
        (head,) = conn.execute("SELECT max(position) FROM events").fetchone()
    until_projected_sync(
        client(base), head, path=CAUGHT_UP
    )  # every projection, from 0, up to the last event
    leader = client(base, LEADER)
    listed = {p["pupil_id"]: p for p in ok(leader.get(f"{ROSTER}/pupils?include_left=true"))}
    assert listed[pupil]["first_name"] == "removed" and listed[pupil]["erased"]
    proc.stop()

    # -- every personal field of every event type was planted ---------------------------
    assert set(mark.planted) == every_personal_field() - NOT_PLANTED

    # -- nothing of them anywhere ------------------------------------------------------
    hits = [
        f"{field} in {path.relative_to(data_dir)}"
        for path, content in every_byte(data_dir)
        for field, marker in mark.planted.items()
        if marker.encode() in content
    ]
    assert hits == []
    assert not kept_media(data_dir, upload), "their photo is still kept"
