"""An invite letter emailed to a family, over real HTTP, to a real SMTP server on loopback:
the code and join link arrive, the hand-out is recorded as a print is, and only those who
may print the letter may email it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from schoolgate_kit.identity import Role
from schoolgate_kit.testing.smtp import LoopbackSmtp

from .conftest import ConsentService, auth, enrolled, fresh, pupil_known, start_service

TEACHER = auth(Role.teacher, "teacher-1", classes=("class-1",))
OTHER_TEACHER = auth(Role.teacher, "teacher-2", classes=("class-2",))
LEADER = auth(Role.leader, "leader-1")


@pytest.fixture(scope="module")
def mail() -> Iterator[LoopbackSmtp]:
    with LoopbackSmtp.running() as server:
        yield server


@pytest.fixture(scope="module")
def mailing(
    tmp_path_factory: pytest.TempPathFactory, mail: LoopbackSmtp
) -> Iterator[ConsentService]:
    service = start_service(tmp_path_factory.mktemp("consent-mail"), smtp_url=mail.url)
    yield service
    service.stop()


@pytest.fixture
async def http(mailing: ConsentService) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=mailing.url, timeout=20) as client:
        yield client


async def an_invite(service: ConsentService, http: httpx.AsyncClient) -> dict[str, str]:
    pupil = fresh("pupil")
    await service.seed_async("school-1", enrolled(pupil))
    await pupil_known(service, http, "school-1", pupil)
    answer = await http.post(f"/schools/school-1/pupils/{pupil}/invites", headers=TEACHER)
    assert answer.status_code == 201, answer.text
    invite: dict[str, str] = answer.json()
    return invite


def email_route(invite: dict[str, str]) -> str:
    return f"/schools/school-1/invites/{invite['invite_id']}/email"


async def test_the_letter_arrives_with_its_code_and_link_and_is_recorded(
    mailing: ConsentService, http: httpx.AsyncClient, mail: LoopbackSmtp
) -> None:
    invite = await an_invite(mailing, http)
    family = f"{fresh('family')}@family.example"
    sent = await http.post(email_route(invite), headers=TEACHER, json={"email": family})
    assert sent.status_code == 204, sent.text
    arrived = mail.to(family)
    assert len(arrived) == 1 and arrived[0].message["Subject"] == "Join Schoolgate"
    for body in (arrived[0].body("plain"), arrived[0].body("html")):
        assert invite["code"] in body and "Ada Lovelace" in body
        assert invite["join_url"] in body
        assert "sent you this letter" in body and "always sent" not in body
    await mailing.projected()
    activity = await http.get("/schools/school-1/invite-activity", headers=LEADER)
    kinds = [a["kind"] for a in activity.json()["items"] if a["invite_id"] == invite["invite_id"]]
    assert kinds == ["printed", "issued"]


async def test_only_who_may_print_it_may_email_it_and_a_bounce_says_so(
    mailing: ConsentService, http: httpx.AsyncClient, mail: LoopbackSmtp
) -> None:
    invite = await an_invite(mailing, http)
    family = f"{fresh('family')}@family.example"
    refused = await http.post(email_route(invite), headers=OTHER_TEACHER, json={"email": family})
    assert refused.status_code in {403, 404}, refused.text
    parent = auth(Role.parent, fresh("parent"))
    assert (
        await http.post(email_route(invite), headers=parent, json={"email": family})
    ).status_code == 403
    bad = await http.post(email_route(invite), headers=TEACHER, json={"email": "no address"})
    assert bad.status_code == 422
    assert mail.to(family) == []
    gone = f"{fresh('gone')}@family.example"
    mail.bounce(gone)
    bounced = await http.post(email_route(invite), headers=TEACHER, json={"email": gone})
    assert bounced.status_code == 422 and bounced.json()["type"].endswith("/address-refused")
    assert gone not in bounced.text


async def test_without_a_mail_server_the_letter_is_to_be_printed(
    consent: ConsentService, client: httpx.AsyncClient
) -> None:
    pupil = fresh("pupil")
    await consent.seed_async("school-1", enrolled(pupil))
    await pupil_known(consent, client, "school-1", pupil)
    answer = await client.post(f"/schools/school-1/pupils/{pupil}/invites", headers=TEACHER)
    sent = await client.post(
        email_route(answer.json()), headers=TEACHER, json={"email": "a@family.example"}
    )
    assert sent.status_code == 503 and "print the letter" in sent.json()["detail"]
