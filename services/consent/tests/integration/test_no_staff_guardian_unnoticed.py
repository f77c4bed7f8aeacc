"""No member of staff becomes a child's guardian unnoticed.

Over real HTTP, against the API and its projection worker as separate processes: invites
are traced from issue through every print to redemption where leaders see it, a staff
member's own parent account waits for a leader, new guardians are news to the others and
to leaders, the code of conduct comes before anything else, and care status and guardians
stay with those who keep them.
"""

from __future__ import annotations

from typing import Any

import httpx
from schoolgate_kit.identity import Role

from .conftest import ConsentService, auth, enrolled, fresh, holds, pupil_known


class School:
    """A school of its own per test: codes of conduct bind all of a school's parents."""

    def __init__(self) -> None:
        self.id = fresh("school")
        self.leader = auth(Role.leader, "leader-n", self.id)
        self.office = auth(Role.office, "office-n", self.id)
        self.admin = auth(Role.school_admin, "admin-n", self.id)
        self.teacher = auth(Role.teacher, "teacher-n", self.id, classes=("class-1",))
        self.other_teacher = auth(Role.teacher, "teacher-m", self.id, classes=("class-2",))
        self.assistant = auth(Role.teaching_assistant, "ta-n", self.id, classes=("class-1",))

    def path(self, rest: str) -> str:
        return f"/schools/{self.id}{rest}"

    def parent(self, parent_id: str, *, also_staff: bool = False) -> dict[str, str]:
        return auth(Role.parent, parent_id, self.id, also_staff=also_staff)

    async def pupil(self, consent: ConsentService, client: httpx.AsyncClient) -> str:
        pupil = fresh("pupil")
        await consent.seed_async(self.id, enrolled(pupil))
        await pupil_known(consent, client, self.id, pupil)
        return pupil

    async def issue(
        self, client: httpx.AsyncClient, pupil: str, who: dict[str, str] | None = None
    ) -> dict[str, Any]:
        answer = await client.post(
            self.path(f"/pupils/{pupil}/invites"), headers=who or self.teacher
        )
        assert answer.status_code == 201, answer.text
        invite: dict[str, Any] = answer.json()
        return invite

    async def redeem(
        self, client: httpx.AsyncClient, parent: str, code: str, *, also_staff: bool = False
    ) -> dict[str, Any]:
        answer = await client.post(
            "/invites/redeem",
            headers=self.parent(parent, also_staff=also_staff),
            json={"code": code},
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    async def link(self, client: httpx.AsyncClient, pupil: str) -> str:
        parent = fresh("parent")
        code = (await self.issue(client, pupil))["code"]
        assert (await self.redeem(client, parent, code))["status"] == "linked"
        return parent


async def _get(client: httpx.AsyncClient, path: str, who: dict[str, str]) -> Any:
    answer = await client.get(path, headers=who)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_staff_members_parent_account_waits_for_a_leader_whatever_the_guardians(
    consent: ConsentService, client: httpx.AsyncClient
) -> None:
    school = School()
    pupil = await school.pupil(consent, client)
    staff_parent = fresh("parent")
    code = (await school.issue(client, pupil))["code"]

    # the pupil has no guardian yet: an ordinary account would be linked at once
    redeemed = await school.redeem(client, staff_parent, code, also_staff=True)
    assert redeemed["status"] == "pending"

    async def waiting() -> list[dict[str, Any]]:
        requests = await _get(client, school.path("/guardian-requests"), school.leader)
        return [r for r in requests if r["pupil_id"] == pupil]

    await consent.projected()
    assert await holds(lambda: _non_empty(waiting())), "the request reaches the leader"
    [request] = await waiting()
    assert (request["parent_id"], request["because"]) == (staff_parent, "staff_account")
    children = await _get(client, "/parents/me/children", school.parent(staff_parent))
    assert [(c["pupil_id"], c["status"]) for c in children] == [(pupil, "pending")]
    assert "media" not in children[0] or children[0]["media"] is None

    approved = await client.post(
        school.path(f"/pupils/{pupil}/guardian-requests/{request['request_id']}/decision"),
        headers=school.leader,
        json={"decision": "approve", "reason": "Her own son: confirmed with the family"},
    )
    assert approved.status_code == 200, approved.text

    async def linked() -> bool:
        state = await _get(client, school.path(f"/pupils/{pupil}/consent"), school.leader)
        return [g["parent_id"] for g in state["guardians"]] == [staff_parent]

    await consent.projected()
    assert await holds(linked), "the approved account becomes a guardian"


async def _non_empty(items: Any) -> bool:
    return bool(await items)


async def test_every_issue_print_revocation_and_redemption_is_recorded_for_leaders(
    consent: ConsentService, client: httpx.AsyncClient
) -> None:
    school = School()
    pupil = await school.pupil(consent, client)
    kept = await school.issue(client, pupil, school.teacher)
    for who in (school.office, school.assistant):
        letter = await client.get(kept["letter_url"], headers=who)
        assert letter.status_code == 200, letter.text
    dropped = await school.issue(client, pupil, school.office)
    revoked = await client.post(
        school.path(f"/invites/{dropped['invite_id']}/revoke"), headers=school.leader
    )
    assert revoked.status_code == 200, revoked.text
    closed = await client.get(dropped["letter_url"], headers=school.leader)
    assert closed.status_code == 404 and closed.json()["type"].endswith("/invite-not-open")
    parent = fresh("parent")
    await school.redeem(client, parent, kept["code"])

    expected = [
        ("redeemed-linked", kept["invite_id"], parent),
        ("revoked", dropped["invite_id"], "leader-n"),
        ("issued", dropped["invite_id"], "office-n"),
        ("printed", kept["invite_id"], "ta-n"),
        ("printed", kept["invite_id"], "office-n"),
        ("issued", kept["invite_id"], "teacher-n"),
    ]

    async def everything(limit: int) -> list[tuple[str, str, str]]:
        seen: list[tuple[str, str, str]] = []
        before: int | None = None
        while True:
            query: dict[str, Any] = {"limit": limit, **({"before": before} if before else {})}
            answer = await client.get(
                school.path("/invite-activity"), headers=school.admin, params=query
            )
            assert answer.status_code == 200, answer.text
            page = answer.json()
            assert len(page["items"]) <= limit
            seen += [(a["kind"], a["invite_id"], a["by"]) for a in page["items"]]
            before = page["next_before"]
            if before is None:
                return seen

    async def all_recorded() -> bool:
        return await everything(50) == expected

    await consent.projected()
    assert await holds(all_recorded), "the activity is projected"
    assert await everything(2) == expected  # page by page, nothing lost or repeated
    for who in (school.teacher, school.office, school.parent(parent)):
        refused = await client.get(school.path("/invite-activity"), headers=who)
        assert refused.status_code == 403, refused.text
    stored = consent.log_bytes()
    for code in (kept["code"], dropped["code"]):
        assert code.replace("-", "").encode() not in stored


async def test_a_new_guardian_is_news_to_the_other_guardians_and_to_leaders(
    consent: ConsentService, client: httpx.AsyncClient
) -> None:
    school = School()
    pupil = await school.pupil(consent, client)
    first = await school.link(client, pupil)
    second = await school.link(client, pupil)

    async def school_notices() -> list[tuple[str, str]]:
        page = await _get(client, school.path("/notices"), school.leader)
        return [(n["pupil_id"], n["parent_id"]) for n in page["items"]]

    async def both_told() -> bool:
        return await school_notices() == [(pupil, second), (pupil, first)]

    await consent.projected()
    assert await holds(both_told), "leaders are told of both guardians, newest first"
    told = await _get(client, "/parents/me/notices", school.parent(first))
    assert [(n["kind"], n["pupil_id"], n["parent_id"]) for n in told["items"]] == [
        ("guardian-linked", pupil, second)
    ]
    # nobody is told of their own link
    assert (await _get(client, "/parents/me/notices", school.parent(second)))["items"] == []


async def test_a_parent_may_only_read_and_accept_the_code_of_conduct_until_they_do(
    consent: ConsentService, client: httpx.AsyncClient
) -> None:
    school = School()
    pupil = await school.pupil(consent, client)
    parent = await school.link(client, pupil)
    as_parent = school.parent(parent)
    media = school.path(f"/pupils/{pupil}/media-consent")

    async def version_is(version: int) -> bool:
        answer = await client.get(school.path("/code-of-conduct"), headers=as_parent)
        return answer.status_code == 200 and answer.json()["version"] == version

    async def media_answer() -> httpx.Response:
        return await client.put(media, headers=as_parent, json={"granted": True})

    await consent.projected()
    assert await holds(lambda: _status(media_answer(), 200)), "the link is projected"
    await client.put(
        school.path("/code-of-conduct"), headers=school.leader, json={"text": "Be kind."}
    )
    await consent.projected()
    assert await holds(lambda: version_is(1)), "version 1 projected"

    for answer in (
        await media_answer(),
        await client.get("/parents/me/notices", headers=as_parent),
    ):
        assert answer.status_code == 403, answer.text
        assert answer.json()["type"].endswith("/code-of-conduct-not-accepted")
    assert (await client.get("/parents/me/children", headers=as_parent)).status_code == 200

    accepted = await client.post(
        school.path("/code-of-conduct/acceptances"), headers=as_parent, json={"version": 1}
    )
    assert accepted.status_code == 200, accepted.text
    await consent.projected()
    assert await holds(lambda: _status(media_answer(), 200)), "the acceptance is projected"

    await client.put(
        school.path("/code-of-conduct"),
        headers=school.leader,
        json={"text": "Be kind. Be on time."},
    )
    await consent.projected()
    assert await holds(lambda: version_is(2)), "version 2 projected"
    again = await media_answer()
    assert again.status_code == 403 and again.json()["type"].endswith(
        "/code-of-conduct-not-accepted"
    )


async def _status(answer: Any, status: int) -> bool:
    return bool((await answer).status_code == status)


async def test_care_status_and_guardians_stay_with_those_who_keep_them(
    consent: ConsentService, client: httpx.AsyncClient
) -> None:
    school = School()
    pupil = await school.pupil(consent, client)
    parent = await school.link(client, pupil)
    recorded = await client.put(
        school.path(f"/pupils/{pupil}/care-status"), headers=school.leader, json={"in_care": True}
    )
    assert recorded.status_code == 200, recorded.text

    async def in_care_projected() -> bool:
        doc = await _get(client, school.path(f"/pupils/{pupil}/media"), school.office)
        return bool(doc["in_care"] is True)

    await consent.projected()
    assert await holds(in_care_projected), "care status projected"
    for who in (school.office, school.leader, school.admin):
        media = await _get(client, school.path(f"/pupils/{pupil}/media"), who)
        everyone = await _get(client, school.path("/media"), who)
        assert media["in_care"] is True
        assert [m["in_care"] for m in everyone if m["pupil_id"] == pupil] == [True]
    for who in (school.teacher, school.assistant, school.other_teacher):
        media = await _get(client, school.path(f"/pupils/{pupil}/media"), who)
        everyone = await _get(client, school.path("/media"), who)
        shown = (media["granted"], media["in_care"], media["exception"], media["may_appear"])
        assert shown == (None, None, None, False)
        assert {(m["granted"], m["in_care"]) for m in everyone} == {(None, None)}

    async def guardians(who: dict[str, str]) -> httpx.Response:
        return await client.get(school.path(f"/pupils/{pupil}/consent"), headers=who)

    for who in (school.office, school.leader, school.admin, school.teacher):
        answer = await guardians(who)
        assert answer.status_code == 200, answer.text
        assert [g["parent_id"] for g in answer.json()["guardians"]] == [parent]
    assert (await guardians(school.teacher)).json()["media"]["in_care"] is None
    for who in (school.assistant, school.other_teacher):
        refused = await guardians(who)
        assert refused.status_code == 403, refused.text
        assert parent not in refused.text
