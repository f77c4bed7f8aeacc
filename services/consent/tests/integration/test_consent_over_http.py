"""Consent over real HTTP, with the API and its projection worker as separate processes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
from schoolgate_kit.identity import Role

from .conftest import ConsentService, auth, enrolled, fresh, holds, pupil_known, start_service

TEACHER = auth(Role.teacher, "teacher-1", classes=("class-1",))
LEADER = auth(Role.leader, "leader-1")
OFFICE = auth(Role.office, "office-1")


async def new_pupil(
    consent: ConsentService, client: httpx.AsyncClient, school: str = "school-1"
) -> str:
    pupil = fresh("pupil")
    await consent.seed_async(school, enrolled(pupil))
    await pupil_known(consent, client, school, pupil)
    return pupil


async def issue(client: httpx.AsyncClient, pupil: str, **body: Any) -> dict[str, Any]:
    answer = await client.post(
        f"/schools/school-1/pupils/{pupil}/invites", headers=TEACHER, json=body or None
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["cache-control"] == "no-store"
    invite: dict[str, Any] = answer.json()
    return invite


async def redeem(client: httpx.AsyncClient, parent: str, code: str) -> httpx.Response:
    return await client.post(
        "/invites/redeem", headers=auth(Role.parent, parent), json={"code": code}
    )


def plain(answer: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = answer.json()
    body.pop("instance", None)
    return body


async def test_an_invite_links_a_parent_once_and_its_code_never_enters_the_log(
    consent: ConsentService, client: httpx.AsyncClient
) -> None:
    pupil = await new_pupil(consent, client)
    invite = await issue(client, pupil)
    code = invite["code"]
    assert len(code) == 11 and code[5] == "-"
    assert invite["join_url"] == f"https://schoolgate.test/join?code={code.replace('-', '')}"
    assert invite["qr_svg"].startswith("<svg")

    letter = await client.get(invite["letter_url"], headers=OFFICE)
    assert letter.status_code == 200, letter.text
    assert letter.headers["content-type"].startswith("text/html")
    assert code in letter.text and "<svg" in letter.text and "Ada Lovelace" in letter.text

    parent = fresh("parent")
    typed = code.lower().replace("-", " ")  # as a parent might type it off the letter
    answer = await redeem(client, parent, typed)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "linked"
    assert answer.json()["pupil_id"] == pupil
    again = await redeem(client, parent, code)  # the same parent retrying: same answer
    assert again.status_code == 200 and again.json()["status"] == "linked"

    async def linked() -> bool:
        children = await client.get("/parents/me/children", headers=auth(Role.parent, parent))
        return [c["status"] for c in children.json() if c["pupil_id"] == pupil] == ["linked"]

    await consent.projected()
    assert await holds(linked), "the parent sees their child"
    state = await client.get(f"/schools/school-1/pupils/{pupil}/consent", headers=TEACHER)
    assert [g["parent_id"] for g in state.json()["guardians"]] == [parent]

    used = await redeem(client, fresh("parent"), code)
    unknown = await redeem(client, fresh("parent"), "ABCDE-FGHJK")
    garbage = await redeem(client, fresh("parent"), "!!")
    assert used.status_code == unknown.status_code == garbage.status_code == 422
    assert plain(used) == plain(unknown) == plain(garbage)
    assert used.json()["type"].endswith("/invite-not-valid")

    revoked = await issue(client, pupil)
    answer = await client.post(
        f"/schools/school-1/invites/{revoked['invite_id']}/revoke", headers=TEACHER
    )
    assert answer.status_code == 200, answer.text
    after_revoke = await redeem(client, fresh("parent"), revoked["code"])
    assert plain(after_revoke) == plain(unknown)

    async def letter_closed() -> bool:
        answer = await client.get(invite["letter_url"], headers=OFFICE)
        return answer.status_code == 404

    await consent.projected()
    assert await holds(letter_closed), "a used invite has no letter any more"
    stored = consent.log_bytes()
    assert pupil.encode() in stored  # the file is the right one, and it is readable
    for secret in (code, revoked["code"]):
        assert secret.encode() not in stored
        assert secret.replace("-", "").encode() not in stored


async def test_many_parents_at_once_make_two_guardians_and_the_rest_wait_for_a_leader(
    consent: ConsentService, client: httpx.AsyncClient
) -> None:
    pupil = await new_pupil(consent, client)
    codes = [(await issue(client, pupil))["code"] for _ in range(10)]
    parents = [fresh("parent") for _ in codes]

    answers = await asyncio.gather(
        *(redeem(client, p, c) for p, c in zip(parents, codes, strict=True))
    )

    assert [a.status_code for a in answers] == [200] * 10, [a.text for a in answers]
    outcomes = {p: a.json()["status"] for p, a in zip(parents, answers, strict=True)}
    assert sorted(outcomes.values()) == ["linked"] * 2 + ["pending"] * 8
    waiting = [p for p, status in outcomes.items() if status == "pending"]

    async def pending() -> list[dict[str, Any]]:
        answer = await client.get("/schools/school-1/guardian-requests", headers=LEADER)
        assert answer.status_code == 200, answer.text
        return [r for r in answer.json() if r["pupil_id"] == pupil]

    async def all_waiting() -> bool:
        return len(await pending()) == 8

    await consent.projected()
    assert await holds(all_waiting), "eight requests wait for a leader"
    requests = {r["parent_id"]: r["request_id"] for r in await pending()}
    assert set(requests) == set(waiting)

    decide = f"/schools/school-1/pupils/{pupil}/guardian-requests"
    teacher_try = await client.post(
        f"{decide}/{requests[waiting[0]]}/decision",
        headers=TEACHER,
        json={"decision": "approve", "reason": "Foster carer"},
    )
    assert teacher_try.status_code == 403
    approved = await client.post(
        f"{decide}/{requests[waiting[0]]}/decision",
        headers=LEADER,
        json={"decision": "approve", "reason": "Foster carer named by the local authority"},
    )
    assert approved.status_code == 200, approved.text
    rejected = await client.post(
        f"{decide}/{requests[waiting[1]]}/decision",
        headers=LEADER,
        json={"decision": "reject", "reason": "Not known to the family"},
    )
    assert rejected.status_code == 200, rejected.text
    flip = await client.post(
        f"{decide}/{requests[waiting[1]]}/decision",
        headers=LEADER,
        json={"decision": "approve", "reason": "?"},
    )
    assert flip.status_code == 409 and flip.json()["type"].endswith("/guardian-request-decided")

    async def three_guardians() -> bool:
        state = await client.get(f"/schools/school-1/pupils/{pupil}/consent", headers=LEADER)
        return len(state.json()["guardians"]) == 3

    await consent.projected()
    assert await holds(three_guardians), "the approved parent becomes a third guardian"
    state = (await client.get(f"/schools/school-1/pupils/{pupil}/consent", headers=LEADER)).json()
    assert waiting[0] in {g["parent_id"] for g in state["guardians"]}
    reasons = {r["parent_id"]: (r["status"], r["reason"]) for r in state["requests"]}
    assert reasons[waiting[1]] == ("rejected", "Not known to the family")
    assert len(await pending()) == 6
    stored = consent.log_bytes()
    assert not any(c.replace("-", "").encode() in stored for c in codes)


async def link(client: httpx.AsyncClient, pupil: str) -> str:
    parent = fresh("parent")
    answer = await redeem(client, parent, (await issue(client, pupil))["code"])
    assert answer.json()["status"] == "linked", answer.text
    return parent


async def media(
    client: httpx.AsyncClient, pupil: str, who: dict[str, str] = TEACHER
) -> dict[str, Any]:
    answer = await client.get(f"/schools/school-1/pupils/{pupil}/media", headers=who)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_media_consent_reaches_the_projection_and_a_pupil_in_care_needs_an_exception(
    consent: ConsentService, client: httpx.AsyncClient
) -> None:
    pupil = await new_pupil(consent, client)
    parent = await link(client, pupil)
    path = f"/schools/school-1/pupils/{pupil}"
    await consent.projected()
    assert await holds(lambda: _linked(client, parent, pupil)), "link projected"
    assert (await media(client, pupil))["may_appear"] is False  # no choice yet: no consent

    granted = await client.put(
        f"{path}/media-consent", headers=auth(Role.parent, parent), json={"granted": True}
    )
    assert granted.status_code == 200, granted.text
    assert granted.json() == {"pupil_id": pupil, "granted": True, "may_appear": True}
    await consent.projected()
    assert await holds(lambda: _may_appear(client, pupil, True)), "consent projected"
    assert (await media(client, pupil))["changed_by"] == parent

    withdrawn = await client.put(
        f"{path}/media-consent", headers=auth(Role.parent, parent), json={"granted": False}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    await consent.projected()
    assert await holds(lambda: _may_appear(client, pupil, False)), "withdrawal projected"

    # a pupil in local-authority care
    in_care = await client.put(f"{path}/care-status", headers=LEADER, json={"in_care": True})
    assert in_care.status_code == 200, in_care.text
    refused = await client.put(
        f"{path}/media-consent", headers=auth(Role.parent, parent), json={"granted": True}
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"].endswith("/media-consent-needs-exception")
    teacher_try = await client.post(
        f"{path}/media-exception", headers=TEACHER, json={"reason": "because"}
    )
    assert teacher_try.status_code == 403
    exception = await client.post(
        f"{path}/media-exception",
        headers=LEADER,
        json={"reason": "The local authority agreed to school photos"},
    )
    assert exception.status_code == 200, exception.text
    granted = await client.put(
        f"{path}/media-consent", headers=auth(Role.parent, parent), json={"granted": True}
    )
    assert granted.status_code == 200, granted.text
    await consent.projected()
    assert await holds(lambda: _may_appear(client, pupil, True)), "consent with exception projected"
    doc = await media(client, pupil, OFFICE)
    assert (doc["in_care"], doc["exception"], doc["granted"]) == (True, True, True)

    # the office records a paper form for another pupil; other parents cannot
    other = await new_pupil(consent, client)
    stranger = await client.put(
        f"/schools/school-1/pupils/{other}/media-consent",
        headers=auth(Role.parent, parent),
        json={"granted": True},
    )
    assert stranger.status_code == 403
    paper = await client.put(
        f"/schools/school-1/pupils/{other}/media-consent", headers=OFFICE, json={"granted": True}
    )
    assert paper.status_code == 200, paper.text
    await consent.projected()
    assert await holds(lambda: _may_appear(client, other, True)), "paper form projected"


async def _linked(client: httpx.AsyncClient, parent: str, pupil: str) -> bool:
    children = await client.get("/parents/me/children", headers=auth(Role.parent, parent))
    return any(c["pupil_id"] == pupil and c["status"] == "linked" for c in children.json())


async def _may_appear(client: httpx.AsyncClient, pupil: str, expected: bool) -> bool:
    return bool((await media(client, pupil))["may_appear"] is expected)


async def test_a_suspended_parent_is_refused_until_the_suspension_is_lifted(
    consent: ConsentService, client: httpx.AsyncClient
) -> None:
    pupil = await new_pupil(consent, client)
    parent = await link(client, pupil)
    await consent.projected()
    assert await holds(lambda: _linked(client, parent, pupil)), "link projected"
    as_parent = auth(Role.parent, parent)
    suspension = f"/schools/school-1/parents/{parent}/suspension"

    for who in (TEACHER, OFFICE, auth(Role.leader, "leader-9", "school-2")):
        refused = await client.post(suspension, headers=who, json={"reason": "Abuse"})
        assert refused.status_code in {403, 404}, refused.text
    answer = await client.post(
        suspension, headers=LEADER, json={"reason": "Abusive messages to staff"}
    )
    assert answer.status_code == 200, answer.text

    async def refused() -> bool:
        answer = await client.get("/parents/me/children", headers=as_parent)
        return answer.status_code == 403

    await consent.projected()
    assert await holds(refused), "the suspension takes effect"
    for answer in (
        await client.get("/parents/me/children", headers=as_parent),
        await redeem(client, parent, (await issue(client, pupil))["code"]),
        await client.put(
            f"/schools/school-1/pupils/{pupil}/media-consent",
            headers=as_parent,
            json={"granted": True},
        ),
    ):
        assert answer.status_code == 403, answer.text
        assert answer.json()["type"].endswith("/parent-suspended")
    state = await client.get(suspension, headers=OFFICE)
    assert state.json()["suspended"] is True
    assert state.json()["reason"] == "Abusive messages to staff"

    lifted = await client.delete(suspension, headers=LEADER)
    assert lifted.status_code == 200, lifted.text

    async def restored() -> bool:
        answer = await client.get("/parents/me/children", headers=as_parent)
        return answer.status_code == 200

    await consent.projected()
    assert await holds(restored), "lifting restores access"
    assert (await client.get(suspension, headers=OFFICE)).json()["suspended"] is False


async def test_parents_accept_the_code_of_conduct_and_again_when_it_changes(
    consent: ConsentService, client: httpx.AsyncClient
) -> None:
    school = fresh("school")
    pupil = fresh("pupil")
    await consent.seed_async(school, enrolled(pupil))
    await pupil_known(consent, client, school, pupil)
    leader = auth(Role.leader, "leader-c", school)
    teacher = auth(Role.teacher, "teacher-c", school, classes=("class-1",))
    invite = await client.post(f"/schools/{school}/pupils/{pupil}/invites", headers=teacher)
    parent = fresh("parent")
    as_parent = auth(Role.parent, parent, school)

    published = await client.put(
        f"/schools/{school}/code-of-conduct", headers=leader, json={"text": "Be kind to staff."}
    )
    assert published.json() == {"version": 1}
    assert (
        await client.put(f"/schools/{school}/code-of-conduct", headers=teacher, json={"text": "x"})
    ).status_code == 403

    async def published_v(version: int) -> bool:
        answer = await client.get(f"/schools/{school}/code-of-conduct", headers=as_parent)
        return answer.status_code == 200 and answer.json()["version"] == version

    await consent.projected()
    assert await holds(lambda: published_v(1)), "version 1 projected"
    joined = await redeem(client, parent, invite.json()["code"])
    assert joined.json()["code_of_conduct"]["text"] == "Be kind to staff."
    assert joined.json()["code_of_conduct_accepted"] is False

    accepted = await client.post(
        f"/schools/{school}/code-of-conduct/acceptances", headers=as_parent, json={"version": 1}
    )
    assert accepted.status_code == 200, accepted.text
    acceptance = f"/schools/{school}/parents/{parent}/code-of-conduct"

    async def accepted_v(version: int | None, yes: bool) -> bool:
        answer = await client.get(acceptance, headers=teacher)
        body = answer.json()
        return answer.status_code == 200 and (body["accepted_version"], body["accepted"]) == (
            version,
            yes,
        )

    await consent.projected()
    assert await holds(lambda: accepted_v(1, True)), "acceptance projected"
    await client.put(
        f"/schools/{school}/code-of-conduct", headers=leader, json={"text": "Be kind. Be on time."}
    )
    await consent.projected()
    assert await holds(lambda: published_v(2)), "version 2 projected"
    assert await accepted_v(1, False)  # the new version is not accepted yet
    outdated = await client.post(
        f"/schools/{school}/code-of-conduct/acceptances", headers=as_parent, json={"version": 1}
    )
    assert outdated.status_code == 409
    assert outdated.json()["type"].endswith("/code-of-conduct-changed")
    await client.post(
        f"/schools/{school}/code-of-conduct/acceptances", headers=as_parent, json={"version": 2}
    )
    await consent.projected()
    assert await holds(lambda: accepted_v(2, True)), "version 2 accepted"
    mine = await client.get(acceptance, headers=as_parent)
    assert mine.status_code == 200 and mine.json()["accepted"] is True


async def test_invites_last_fourteen_days_unless_the_school_or_the_request_says(
    consent: ConsentService, client: httpx.AsyncClient
) -> None:
    school = fresh("school")
    pupil = fresh("pupil")
    await consent.seed_async(school, enrolled(pupil))
    await pupil_known(consent, client, school, pupil)
    teacher = auth(Role.teacher, "teacher-e", school, classes=("class-1",))
    path = f"/schools/{school}/pupils/{pupil}/invites"

    async def days(**body: Any) -> int:
        answer = await client.post(path, headers=teacher, json=body or None)
        assert answer.status_code == 201, answer.text
        expires = datetime.fromisoformat(answer.json()["expires_at"])
        return round((expires - datetime.now(UTC)).total_seconds() / 86400)

    assert await days() == 14
    assert await days(expires_in_days=3) == 3
    refused = await client.put(
        f"/schools/{school}/invite-policy", headers=teacher, json={"lifetime_days": 7}
    )
    assert refused.status_code == 403
    answer = await client.put(
        f"/schools/{school}/invite-policy",
        headers=auth(Role.school_admin, "admin-e", school),
        json={"lifetime_days": 7},
    )
    assert answer.status_code == 200, answer.text

    async def school_lifetime() -> bool:
        return await days() == 7

    await consent.projected()
    assert await holds(school_lifetime), "the school's lifetime applies"
    assert await days(expires_in_days=30) == 30
    invites = await client.get(path, headers=teacher)
    assert {i["status"] for i in invites.json()} == {"open"}
    assert not any("code" in i for i in invites.json())


async def test_redemption_is_rate_limited_per_parent_and_per_address(tmp_path: Any) -> None:
    service = start_service(
        tmp_path,
        redeem_attempts_per_parent="3",
        redeem_attempts_per_address="5",
        redeem_window_seconds="900",
    )
    try:
        async with httpx.AsyncClient(base_url=service.url, timeout=20) as client:
            await service.seed_async("school-1", enrolled("p-rate"))
            await pupil_known(service, client, "school-1", "p-rate")
            valid = (await issue(client, "p-rate"))["code"]
            guesser = auth(Role.parent, "guesser")
            here = {"x-forwarded-for": "198.51.100.1"}
            tries = [
                await client.post(
                    "/invites/redeem", headers={**guesser, **here}, json={"code": "AAAAABBBBB"}
                )
                for _ in range(3)
            ]
            assert [t.status_code for t in tries] == [422] * 3
            blocked = await client.post(
                "/invites/redeem", headers={**guesser, **here}, json={"code": valid}
            )
            assert blocked.status_code == 429, blocked.text
            assert blocked.json()["type"].endswith("/too-many-attempts")
            assert blocked.json()["retry_after"] > 0

            # many accounts from one address: the address runs out too
            there = {"x-forwarded-for": "203.0.113.7"}
            statuses = [
                (
                    await client.post(
                        "/invites/redeem",
                        headers={**auth(Role.parent, f"sock-{i}"), **there},
                        json={"code": "AAAAABBBBB"},
                    )
                ).status_code
                for i in range(6)
            ]
            assert statuses == [422] * 5 + [429]
            # checking a code before joining: a working one costs nothing, a wrong one
            # counts as a wrong redemption does
            school_wifi = {"x-forwarded-for": "198.51.100.9"}

            async def check(parent: str, code: str) -> int:
                answer = await client.post(
                    "/invites/check",
                    headers={**auth(Role.parent, parent), **school_wifi},
                    json={"code": code},
                )
                return answer.status_code

            assert [await check(f"family-{i}", valid) for i in range(6)] == [204] * 6
            assert [await check(f"typo-{i}", "AAAAABBBBB") for i in range(5)] == [422] * 5
            assert await check("one-more", valid) == 429
            # an honest parent elsewhere is not affected
            honest = await client.post(
                "/invites/redeem",
                headers={**auth(Role.parent, "honest"), "x-forwarded-for": "192.0.2.5"},
                json={"code": valid},
            )
            assert honest.status_code == 200 and honest.json()["status"] == "linked"
    finally:
        service.stop()


async def test_a_parent_closes_their_account_and_only_they_may(
    consent: ConsentService, client: httpx.AsyncClient
) -> None:
    """Even suspended they may; nobody else may do it for them; their link ends, the other
    guardian's stays, the leaders' activity says so, and doing it twice records it once."""
    pupil = await new_pupil(consent, client)
    parent, other = await link(client, pupil), await link(client, pupil)
    await consent.projected()
    assert await holds(lambda: _linked(client, parent, pupil)), "link projected"
    suspended = await client.post(
        f"/schools/school-1/parents/{parent}/suspension", headers=LEADER, json={"reason": "x"}
    )
    assert suspended.status_code == 200, suspended.text
    close = f"/schools/school-1/parents/{parent}/close"
    body = {"pupil_ids": [pupil]}
    for who in (
        auth(Role.parent, other),
        LEADER,
        TEACHER,
        auth(Role.pupil, pupil),
        auth(Role.leader, "leader-9", "school-2"),
    ):
        refused = await client.post(close, headers=who, json=body)
        assert refused.status_code in {403, 404}, refused.text
    assert (await client.post(close, json=body)).status_code == 401
    closed = await client.post(close, headers=auth(Role.parent, parent), json=body)
    assert closed.status_code == 200 and closed.json() == {"left": [pupil]}, closed.text
    again = await client.post(close, headers=auth(Role.parent, parent), json=body)
    assert again.status_code == 200 and again.json() == {"left": []}
    await consent.projected()
    state = await client.get(f"/schools/school-1/pupils/{pupil}/consent", headers=LEADER)
    assert [g["parent_id"] for g in state.json()["guardians"]] == [other]
    activity = await client.get("/schools/school-1/invite-activity?limit=200", headers=LEADER)
    closures = [a for a in activity.json()["items"] if a["kind"] == "account-closed"]
    assert [(a["pupil_id"], a["parent_id"]) for a in closures] == [(pupil, parent)]
