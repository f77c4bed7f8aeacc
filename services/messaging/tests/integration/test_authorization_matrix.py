"""Every endpoint of the messaging API against every kind of caller: the family of the
child, other families (same class, other class, another school naming this school's pupil),
the class's staff, another class's teacher, another school's teacher with the same staff and
class ids, the office, leaders, the school's IT administrator, a pupil, a suspended parent
and a school whose messaging is switched off.

What a reader may not see answers 404 (conversation ids cannot be probed); a role never
allowed answers 403. A refused write appends nothing, and nobody without the right to see
the child's conversation finds a word of it in any answer."""

from __future__ import annotations

import io
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from PIL import Image
from schoolgate_contracts.consent import ParentSuspended
from schoolgate_kit.identity import Role

from services.messaging.tests.integration.conftest import (
    MessagingService,
    School,
    auth,
    new_school,
    start,
)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Targets:
    """What the callers act on, made fresh after a write that changes who sees what."""

    marker: str
    family: dict[str, str]
    """The child's parent's headers: a parent of their own per endpoint, so that one
    endpoint's suspension or rate limit never reaches another's."""
    conversation: str = ""
    message: str = ""
    media: str = ""
    reported_conversation: str = ""
    reported_message: str = ""
    report: str = ""
    absence: str = ""


async def make_targets(
    client: httpx.AsyncClient, school: School, needs: set[str], family: dict[str, str]
) -> Targets:
    marker = f"secret{uuid.uuid4().hex[:10]}"
    targets = Targets(marker, family)
    attachments: list[dict[str, Any]] = []
    if "media" in needs:
        uploaded = await client.post(school.path("/media"), headers=family, content=png())
        assert uploaded.status_code == 201, uploaded.text
        targets.media = uploaded.json()["media_id"]
        attachments = [{"media_id": targets.media, "kind": "image", "alt_text": "a rash"}]
    started = await start(
        client, school, family, text=f"Ada is upset {marker}", attachments=attachments
    )
    targets.conversation, targets.message = started["conversation_id"], started["message_id"]
    if "report" in needs:
        other = await start(client, school, family, text=f"Rude words {marker}")
        targets.reported_conversation = other["conversation_id"]
        targets.reported_message = other["message_id"]
        reported = await client.post(
            school.path(f"/conversations/{other['conversation_id']}/messages/")
            + f"{other['message_id']}/report",
            headers=school.teacher,
            json={"reason": "rude"},
        )
        assert reported.status_code == 201, reported.text
        await school.service.projected(reported)
        targets.report = reported.json()["report_id"]
    if "absence" in needs:
        absent = await client.post(
            school.path("/absences"),
            headers=family,
            json={
                "pupil_id": school.p("ada"),
                "first_day": "2099-01-05",
                "last_day": "2099-01-06",
                "reason": "sickness",
                "note": f"Chickenpox {marker}",
            },
        )
        assert absent.status_code == 201, absent.text
        await school.service.projected(absent)
        targets.absence = absent.json()["absence_id"]
    return targets


Call = Callable[
    [httpx.AsyncClient, str, School, Targets, dict[str, str]], Awaitable[httpx.Response]
]


@dataclass
class Endpoint:
    name: str
    call: Call
    expected: dict[str, int | tuple[int, str]]
    """Per caller; every caller left out gets ``default``."""
    default: int = 403
    writes: bool = True
    changes_access: bool = False
    """After a success, the targets are made again (a pass or report changes who sees)."""
    needs: set[str] = field(default_factory=set)


def conv(t: Targets, rest: str = "") -> str:
    return f"/conversations/{t.conversation}{rest}"


def get(rest: Callable[[Targets], str]) -> Call:
    async def call(
        c: httpx.AsyncClient, sid: str, s: School, t: Targets, h: dict[str, str]
    ) -> httpx.Response:
        return await c.get(f"/schools/{sid}{rest(t)}", headers=h)

    return call


def post(
    rest: Callable[[Targets], str], body: Callable[[School, Targets], Any] | None = None
) -> Call:
    async def call(
        c: httpx.AsyncClient, sid: str, s: School, t: Targets, h: dict[str, str]
    ) -> httpx.Response:
        return await c.post(
            f"/schools/{sid}{rest(t)}", headers=h, json=body(s, t) if body else None
        )

    return call


def put(rest: str, body: Any) -> Call:
    async def call(
        c: httpx.AsyncClient, sid: str, s: School, t: Targets, h: dict[str, str]
    ) -> httpx.Response:
        return await c.put(f"/schools/{sid}{rest}", headers=h, json=body)

    return call


async def upload(
    c: httpx.AsyncClient, sid: str, s: School, t: Targets, h: dict[str, str]
) -> httpx.Response:
    # no file: who passes the role gate hears so (422), without a costly decode each time
    return await c.post(f"/schools/{sid}/media", headers=h, content=b"")


MESSENGERS_200 = {
    k: 200
    for k in (
        "parent",
        "parent_same_class",
        "parent_other_class",
        "parent_other_school",
        "teacher",
        "assistant",
        "ash_teacher",
        "other_teacher",
        "office",
        "leader",
        "suspended",
        "off_parent",
        "off_teacher",
    )
}
OFF = (403, "messaging-switched-off")
SUSPENDED = (403, "account-suspended")
CONVERSATION_READERS = {"parent": 200, "teacher": 200, "assistant": 200, "suspended": 200}
ONLY_LEADER = {"leader": 200}

ENDPOINTS = [
    Endpoint("status", get(lambda t: "/messaging/status"), MESSENGERS_200, writes=False),
    Endpoint(
        "check",
        post(
            lambda t: "/messaging/check",
            lambda s, t: {"text": "Ada is off sick today", "to": "class"},
        ),
        MESSENGERS_200,
    ),
    Endpoint("inbox", get(lambda t: "/conversations"), MESSENGERS_200, writes=False),
    Endpoint(
        "start",
        post(lambda t: "/conversations", lambda s, t: {"pupil_id": s.p("ada"), "text": "Hi"}),
        {
            "parent": 201,
            "parent_other_school": 404,
            "teacher": 201,
            "assistant": 201,
            "other_teacher": 404,
            "office": 201,
            "leader": 201,
            "suspended": SUSPENDED,
            "off_parent": OFF,
            "off_teacher": OFF,
        },
    ),
    Endpoint(
        "announce",
        post(lambda t: "/announcements", lambda s, t: {"class_id": "oak", "text": "Trip"}),
        {
            "teacher": 201,
            "assistant": 201,
            "other_teacher": 201,  # their own school's class oak
            "leader": 201,
            "off_teacher": OFF,
        },
    ),
    Endpoint(
        "conversation",
        get(lambda t: conv(t)),
        {**CONVERSATION_READERS, "off_parent": 200, "off_teacher": 200},
        default=404,
        writes=False,
    ),
    Endpoint(
        "reply",
        post(lambda t: conv(t, "/messages"), lambda s, t: {"text": "More"}),
        {
            "parent": 201,
            "teacher": 201,
            "assistant": 201,
            "suspended": SUSPENDED,
            "off_parent": OFF,
            "off_teacher": OFF,
        },
        default=404,
    ),
    Endpoint(
        "read",
        post(lambda t: conv(t, "/read"), lambda s, t: {"through_message_id": t.message}),
        {**CONVERSATION_READERS, "off_parent": 200, "off_teacher": 200},
        default=404,
    ),
    Endpoint(
        "withdraw",
        post(lambda t: conv(t, f"/messages/{t.message}/withdraw")),
        {
            "parent": 200,
            "teacher": 403,
            "assistant": 403,
            "suspended": 200,
            "off_parent": 200,
            "off_teacher": 403,
        },
        default=404,
        changes_access=True,
    ),
    Endpoint(
        "report",
        post(lambda t: conv(t, f"/messages/{t.message}/report"), lambda s, t: {"reason": "x"}),
        {
            "parent": 403,
            "teacher": 201,
            "assistant": 201,
            "suspended": 403,
            "off_parent": 403,
            "off_teacher": 201,
        },
        default=404,
        changes_access=True,  # leaders read a reported conversation
    ),
    Endpoint(
        "pass",
        post(lambda t: conv(t, "/pass"), lambda s, t: {"to": "office", "note": "n"}),
        {
            "parent": 403,
            "teacher": 200,
            "assistant": 200,
            "suspended": 403,
            "off_parent": 403,
            "off_teacher": 200,
        },
        default=404,
        changes_access=True,
    ),
    Endpoint(
        "hide",
        post(lambda t: conv(t, f"/messages/{t.message}/hide")),
        # a leader hides what they may see (a reported message); not a class's private talk
        {"leader": 404},
        changes_access=True,
    ),
    Endpoint(
        "hide reported",
        post(
            lambda t: f"/conversations/{t.reported_conversation}/messages/{t.reported_message}/hide"
        ),
        ONLY_LEADER,
        changes_access=True,
        needs={"report"},
    ),
    Endpoint(
        "upload",
        upload,
        {
            **{k: 422 for k in MESSENGERS_200},
            "suspended": SUSPENDED,
            "off_parent": OFF,
            "off_teacher": OFF,
        },
    ),
    Endpoint(
        "media",
        get(lambda t: conv(t, f"/media/{t.media}")),
        {**CONVERSATION_READERS, "off_parent": 200, "off_teacher": 200},
        default=404,
        writes=False,
        needs={"media"},
    ),
    Endpoint(
        "report absence",
        post(
            lambda t: "/absences",
            lambda s, t: {
                "pupil_id": s.p("ada"),
                "first_day": "2099-02-02",
                "last_day": "2099-02-02",
                "reason": "appointment",
            },
        ),
        # switched off, the office still hears that a child is away: an absence is a record
        {"parent": 201, "parent_other_school": 404, "suspended": SUSPENDED, "off_parent": 201},
    ),
    Endpoint(
        "absences",
        get(lambda t: "/absences"),
        {
            k: 200
            for k in (
                "parent",
                "parent_same_class",
                "parent_other_class",
                "parent_other_school",
                "office",
                "leader",
                "suspended",
                "off_parent",
            )
        },
        writes=False,
        needs={"absence"},
    ),
    Endpoint(
        "record absence",
        post(lambda t: f"/absences/{t.absence}/record"),
        {"office": 200, "leader": 200},
        changes_access=True,
        needs={"absence"},
    ),
    Endpoint("reports", get(lambda t: "/reports"), ONLY_LEADER, writes=False),
    Endpoint(
        "report detail",
        get(lambda t: f"/reports/{t.report}"),
        ONLY_LEADER,
        writes=False,
        needs={"report"},
    ),
    Endpoint(
        "resolve",
        post(lambda t: f"/reports/{t.report}/resolve", lambda s, t: {"action": "dismissed"}),
        ONLY_LEADER,
        changes_access=True,
        needs={"report"},
    ),
    Endpoint("response times", get(lambda t: "/response-times"), ONLY_LEADER, writes=False),
    Endpoint("switch", put("/messaging/switch", {"on": True}), ONLY_LEADER),
    Endpoint(
        "settings",
        get(lambda t: "/messaging/settings"),
        {
            k: 200
            for k in (
                "teacher",
                "assistant",
                "ash_teacher",
                "other_teacher",
                "office",
                "leader",
                "off_teacher",
            )
        },
        writes=False,
    ),
    Endpoint(
        "change settings",
        put("/messaging/settings", {"phone": "01234 567890"}),
        ONLY_LEADER,
    ),
]

# Callers that must never find a word of the child's conversation or absence in any answer.
OUTSIDERS = {
    "parent_same_class",
    "parent_other_class",
    "parent_other_school",
    "parent_other_school_here",
    "ash_teacher",
    "other_teacher",
    "other_teacher_here",
    "admin",
    "pupil",
}


def callers(school: School, family: dict[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    """(name, the school of the path, headers), before the parent is suspended."""
    here, other = school.id, school.other
    return [
        ("parent", here, family),
        ("parent_same_class", here, school.parent("ben")),
        ("parent_other_class", here, school.parent("cal")),
        ("parent_other_school", other, school.other_parent),
        ("parent_other_school_here", here, school.other_parent),
        ("teacher", here, school.teacher),
        ("assistant", here, school.assistant),
        ("ash_teacher", here, school.ash_teacher),
        ("other_teacher", other, school.other_teacher),
        ("other_teacher_here", here, school.other_teacher),
        ("office", here, school.office),
        ("leader", here, school.leader),
        ("admin", here, school.admin),
        ("pupil", here, school.pupil("ada")),
    ]


async def check(
    client: httpx.AsyncClient,
    school: School,
    endpoint: Endpoint,
    targets: Targets,
    name: str,
    sid: str,
    headers: dict[str, str],
    *,
    renew: bool = True,
) -> Targets:
    service = school.service
    before = service.newest_position()
    answer = await endpoint.call(client, sid, school, targets, headers)
    # a token of another school at this school's address: refused before anything is looked up
    # and roles that never message (IT administrators, pupils): refused whatever the target
    never = name.endswith("_here") or name in {"admin", "pupil"}
    wanted = 403 if never else endpoint.expected.get(name, endpoint.default)
    status, slug = wanted if isinstance(wanted, tuple) else (wanted, None)
    where = f"{endpoint.name} as {name}"
    assert answer.status_code == status, f"{where}: {answer.status_code} {answer.text}"
    if slug is not None:
        assert answer.json()["type"].endswith(f"/{slug}"), where
    if status >= 400:
        assert answer.headers["content-type"].startswith("application/problem+json"), where
    if status >= 400 or not endpoint.writes or endpoint.name == "check":
        assert service.newest_position() == before, f"{where} wrote"
    if name in OUTSIDERS:
        assert targets.marker not in answer.text, f"{where} saw the family's words"
    if status < 300 and endpoint.changes_access and renew:
        return await make_targets(client, school, endpoint.needs, targets.family)
    return targets


def parent_of_ada(school: School, subject: str) -> dict[str, str]:
    return auth(Role.parent, subject, school.id, pupils=(school.p("ada"),))


def shared_key(endpoint: Endpoint) -> str:
    """Suspended or switched off, nothing changes who sees what but a teacher passing the
    conversation on (still allowed): that endpoint has targets of its own, the rest share."""
    return "pass" if endpoint.name == "pass" else ",".join(sorted(endpoint.needs))


@pytest.fixture(scope="module")
def worlds() -> dict[str, Any]:
    """Schools shared by the module's tests (each endpoint acts through its own parent):
    one as it is (with a suspended parent), one whose messaging is switched off once the
    targets are in it. Built on first use, in the running test's event loop."""
    return {}


async def shared(
    worlds: dict[str, Any], client: httpx.AsyncClient, messaging: MessagingService
) -> dict[str, Any]:
    if worlds:
        return worlds
    main, off = await new_school(messaging), await new_school(messaging)
    suspended = parent_of_ada(main, "parent-suspended")
    switched_off = parent_of_ada(off, "parent-of-ada")
    for_suspended: dict[str, Targets] = {}
    for_off: dict[str, Targets] = {}
    for e in ENDPOINTS:
        if shared_key(e) not in for_off:
            for_suspended[shared_key(e)] = await make_targets(client, main, e.needs, suspended)
            for_off[shared_key(e)] = await make_targets(client, off, e.needs, switched_off)
    # the parent suspended as the consent service records it; the other school switched off
    await messaging.append(
        "parent-parent-suspended",
        main.id,
        ParentSuspended(parent_id="parent-suspended", suspended_by="leader", reason="abuse"),
    )
    switched = await client.put(
        off.path("/messaging/switch"),
        headers=off.leader,
        json={"on": False, "notice": "Paused for the holidays."},
    )
    assert switched.status_code == 200, switched.text
    await off.caught_up()
    worlds.update(main=main, off=off, suspended=for_suspended, switched_off=for_off)
    return worlds


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.name)
async def test_each_caller_gets_what_their_role_and_relation_allow(
    client: httpx.AsyncClient,
    messaging: MessagingService,
    worlds: dict[str, Any],
    endpoint: Endpoint,
) -> None:
    world = await shared(worlds, client, messaging)
    school, off = world["main"], world["off"]
    family = parent_of_ada(school, f"parent-{ENDPOINTS.index(endpoint)}")
    targets = await make_targets(client, school, endpoint.needs, family)
    for name, sid, headers in callers(school, family):
        targets = await check(client, school, endpoint, targets, name, sid, headers)

    mine = world["suspended"][shared_key(endpoint)]
    await check(client, school, endpoint, mine, "suspended", school.id, mine.family, renew=False)
    theirs = world["switched_off"][shared_key(endpoint)]
    for name, headers in (("off_parent", theirs.family), ("off_teacher", off.teacher)):
        theirs = await check(client, off, endpoint, theirs, name, off.id, headers, renew=False)
