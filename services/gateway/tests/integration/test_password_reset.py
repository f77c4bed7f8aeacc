"""Account emails, over the gateway's HTTP API: a forgotten password and a sign-in from a new
browser. Real SQLite stores, a real SMTP server on loopback (what arrived is read), and the
time given."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyotp
import pytest
from pydantic import SecretStr
from schoolgate_gateway.accounts import Account, Accounts, Kind
from schoolgate_gateway.entrypoints.http import create_app
from schoolgate_gateway.projections import STAFF
from schoolgate_gateway.service import build_gateway
from schoolgate_gateway.settings import GatewaySettings
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.testing.smtp import LoopbackSmtp
from schoolgate_kit.testing.waiting import until

NOW = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)
RESET = "/api/password-reset"
SAM = {"email": "sam@family.example", "password": "the-old-password"}


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def mail() -> Iterator[LoopbackSmtp]:
    with LoopbackSmtp.running() as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def _gateway(
    tmp_path: Path, clock: Clock, smtp_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Accounts, SqliteReadModelStore]]:
    settings = GatewaySettings(
        data_dir=tmp_path,
        smtp_url=SecretStr(smtp_url),
        mail_from="Schoolgate <schoolgate@elm.example>",
        public_base_url="https://elm.example",
        password_resets_per_address=8,
    )
    accounts = await Accounts.open(tmp_path / "private.db", clock=clock)
    readmodels = await SqliteReadModelStore.open(tmp_path / "readmodels.db")
    gateway = build_gateway(settings, accounts, readmodels, services={}, clock=clock)
    transport = httpx.ASGITransport(app=create_app(gateway))
    async with httpx.AsyncClient(transport=transport, base_url="https://elm.example") as client:
        yield client, accounts, readmodels
    await gateway.close()
    await readmodels.close()
    await accounts.close()


@pytest.fixture
async def school(
    tmp_path: Path, clock: Clock, mail: LoopbackSmtp
) -> AsyncIterator[tuple[httpx.AsyncClient, Accounts, SqliteReadModelStore]]:
    async for made in _gateway(tmp_path, clock, mail.url):
        yield made


@pytest.fixture
async def client(
    school: tuple[httpx.AsyncClient, Accounts, SqliteReadModelStore],
) -> httpx.AsyncClient:
    return school[0]


@pytest.fixture
async def accounts(school: tuple[httpx.AsyncClient, Accounts, SqliteReadModelStore]) -> Accounts:
    await school[1].create_parent(
        email=SAM["email"], password=SAM["password"], display_name="Sam <Okafor>"
    )
    return school[1]


def token_in(text: str) -> str:
    found = re.findall(r"https://elm\.example/#reset=([A-Za-z0-9_-]+)", text)
    assert found, text
    return str(found[-1])


async def signed_in(client: httpx.AsyncClient, who: dict[str, str]) -> httpx.AsyncClient:
    other = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    answer = await other.post("/api/session", json=who)
    assert answer.status_code == 200, answer.text
    return other


async def test_a_parent_resets_a_forgotten_password_with_the_emailed_link(
    client: httpx.AsyncClient, accounts: Accounts, mail: LoopbackSmtp
) -> None:
    assert (await client.get("/api/email")).json() == {"email": "configured"}
    phone = await signed_in(client, SAM)
    asked = await client.post(RESET, json={"email": "SAM@family.example"})
    assert asked.status_code == 202, asked.text
    arrived = await mail.wait_for("sam@family.example")
    assert arrived.message["Subject"] == "Choose a new password"
    assert "List-Unsubscribe" not in arrived.message  # an account notice is always sent
    assert "Sam &lt;Okafor&gt;" in arrived.body("html")
    token = token_in(arrived.body("plain"))
    assert token == token_in(arrived.body("html"))
    assert (await client.post(f"{RESET}/check", json={"token": token})).status_code == 204
    short = {"token": token, "password": "short"}
    assert (await client.post(f"{RESET}/new-password", json=short)).status_code == 422
    chosen = {"token": token, "password": "the-new-password"}
    done = await client.post(f"{RESET}/new-password", json=chosen)
    assert done.status_code == 204, done.text
    assert "schoolgate_session" not in done.headers.get("set-cookie", "")  # nobody signed in
    assert (await phone.get("/api/me")).status_code == 401  # every session ended
    await phone.aclose()
    again = await client.post(f"{RESET}/new-password", json={**chosen, "password": "x" * 12})
    assert again.status_code == 401 and again.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert (await client.post(f"{RESET}/check", json={"token": token})).status_code == 401
    assert (await client.post("/api/session", json=SAM)).status_code == 401
    new = {**SAM, "password": "the-new-password"}
    assert (await client.post("/api/session", json=new)).status_code == 200


async def test_the_answer_is_the_same_whether_or_not_an_account_has_the_email(
    client: httpx.AsyncClient, accounts: Accounts, mail: LoopbackSmtp
) -> None:
    unknown = await client.post(RESET, json={"email": "nobody@family.example"})
    known = await client.post(RESET, json={"email": SAM["email"]})
    assert (unknown.status_code, unknown.json()) == (known.status_code, known.json())
    assert unknown.status_code == 202
    await mail.wait_for(SAM["email"])
    assert mail.to("nobody@family.example") == []
    bad = await client.post(RESET, json={"email": "not an email"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith(
        "application/problem+json"
    )


async def test_a_reset_email_the_server_defers_is_tried_again(
    client: httpx.AsyncClient, accounts: Accounts, mail: LoopbackSmtp
) -> None:
    mail.defer(SAM["email"])
    # in process, the answer waits for its background work: ask beside the test
    asked = asyncio.create_task(client.post(RESET, json={"email": SAM["email"]}))
    await until(lambda: SAM["email"] in mail.refused, within=10, why="the first try")
    mail.accept(SAM["email"])
    await mail.wait_for(SAM["email"])  # the next try, a second later
    assert (await asked).status_code == 202
    assert mail.refused == [SAM["email"]]


async def test_a_link_expires_and_only_the_newest_works(
    client: httpx.AsyncClient, accounts: Accounts, mail: LoopbackSmtp, clock: Clock
) -> None:
    await client.post(RESET, json={"email": SAM["email"]})
    first = token_in((await mail.wait_for(SAM["email"])).body("plain"))
    await client.post(RESET, json={"email": SAM["email"]})
    second = token_in((await mail.wait_for(SAM["email"], count=2)).body("plain"))
    chosen = {"password": "the-new-password"}
    answer = await client.post(f"{RESET}/new-password", json={**chosen, "token": first})
    assert answer.status_code == 401
    clock.now = NOW + timedelta(minutes=30)
    answer = await client.post(f"{RESET}/new-password", json={**chosen, "token": second})
    assert answer.status_code == 401
    assert (await client.post("/api/session", json=SAM)).status_code == 200


async def test_asking_is_limited_per_email_and_per_client(
    client: httpx.AsyncClient, accounts: Accounts, mail: LoopbackSmtp
) -> None:
    # three emails an address may be sent; the fourth ask is refused, known or not
    for email in (SAM["email"], "nobody@family.example"):
        answers = [await client.post(RESET, json={"email": email}) for _ in range(4)]
        assert [a.status_code for a in answers] == [202, 202, 202, 429]
        assert answers[3].headers["retry-after"].isdigit()
    await mail.wait_for(SAM["email"], count=3)
    # the client has asked eight times, each counted against it: its limit (eight here)
    fresh = await client.post(RESET, json={"email": "someone@family.example"})
    assert fresh.status_code == 429
    assert len(mail.to(SAM["email"])) == 3


async def _staff_with_a_second_factor(
    accounts: Accounts, readmodels: SqliteReadModelStore
) -> Account:
    generation = await readmodels.start_generation(STAFF)
    teacher = {"role": "teacher", "school_id": "elm", "class_ids": [], "left": False}
    await readmodels.commit(STAFF, generation, {"s1": {**teacher, "email": "t@elm.example"}}, 1)
    await readmodels.activate(STAFF, generation)
    staff = await accounts.ensure(
        Kind.staff, "s1", display_name="Ms T", email="t@elm.example", password="old-password-1"
    )
    assert await accounts.first_sign_in(staff)  # set up in school, on the office computer
    secret = await accounts.begin_second_factor(staff)
    assert await accounts.confirm_second_factor(staff, pyotp.TOTP(secret).at(NOW), NOW)
    return staff


async def test_staff_with_a_second_factor_still_need_it_after_a_reset(
    client: httpx.AsyncClient,
    school: tuple[httpx.AsyncClient, Accounts, SqliteReadModelStore],
    mail: LoopbackSmtp,
) -> None:
    await _staff_with_a_second_factor(*school[1:])
    await client.post(RESET, json={"email": "t@elm.example"})
    token = token_in((await mail.wait_for("t@elm.example")).body("plain"))
    chosen = {"token": token, "password": "new-password-1"}
    assert (await client.post(f"{RESET}/new-password", json=chosen)).status_code == 204
    answer = await client.post(
        "/api/session", json={"email": "t@elm.example", "password": "new-password-1"}
    )
    assert answer.status_code == 202 and answer.json()["second_factor_required"] is True
    assert "schoolgate_session" not in answer.headers.get("set-cookie", "")


async def test_without_a_mail_server_the_page_is_told_to_send_people_to_the_office(
    tmp_path: Path, clock: Clock
) -> None:
    async for client, accounts, _ in _gateway(tmp_path, clock, ""):
        await accounts.create_parent(email=SAM["email"], password="x" * 12, display_name="S")
        assert (await client.get("/api/email")).json() == {"email": "not configured"}
        answer = await client.post(RESET, json={"email": SAM["email"]})
        assert answer.status_code == 503
        assert "ask the school office" in answer.json()["detail"]


# -- a sign-in from a browser the account has not used ---------------------------------

FIREFOX_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
)


async def test_a_sign_in_from_a_new_browser_is_emailed_to_the_owner_and_only_that(
    client: httpx.AsyncClient, accounts: Accounts, mail: LoopbackSmtp
) -> None:
    phone = await signed_in(client, SAM)  # the account's first sign-in: not news
    assert (await phone.delete("/api/session")).status_code == 204
    assert (await phone.post("/api/session", json=SAM)).status_code == 200  # a known browser
    laptop = httpx.AsyncClient(
        transport=client._transport,
        base_url=str(client.base_url),
        headers={"user-agent": FIREFOX_ON_WINDOWS},
    )
    wrong = await laptop.post("/api/session", json={**SAM, "password": "not-the-password"})
    assert wrong.status_code == 401
    assert (await laptop.post("/api/session", json=SAM)).status_code == 200
    arrived = await mail.wait_for(SAM["email"])
    assert arrived.message["Subject"] == "A new sign-in to your Schoolgate account"
    assert "List-Unsubscribe" not in arrived.message  # an account notice is always sent
    text = arrived.body("plain")
    assert "Firefox on Windows, on Monday 7 December at 18:00" in " ".join(text.split())
    assert "https://elm.example/#forgot" in text and "https://elm.example/#forgot" in (
        arrived.body("html")
    )
    # in process, each answer waited for its background work: only the laptop was news
    assert len(mail.to(SAM["email"])) == 1
    assert (await laptop.post("/api/session", json=SAM)).status_code == 200  # known now
    assert len(mail.to(SAM["email"])) == 1
    await phone.aclose()
    await laptop.aclose()


async def test_a_right_password_is_news_even_when_the_second_factor_stops_it(
    client: httpx.AsyncClient,
    school: tuple[httpx.AsyncClient, Accounts, SqliteReadModelStore],
    mail: LoopbackSmtp,
) -> None:
    staff = await _staff_with_a_second_factor(*school[1:])
    assert not await school[1].first_sign_in(staff)  # she set up the account in school
    stranger = httpx.AsyncClient(
        transport=client._transport,
        base_url=str(client.base_url),
        headers={"user-agent": "x" * 100_000},  # says nothing we know, at length
    )
    answer = await stranger.post(
        "/api/session", json={"email": "t@elm.example", "password": "old-password-1"}
    )
    assert answer.status_code == 202  # the second factor is next, and may never come
    arrived = await mail.wait_for("t@elm.example")
    assert "a web browser, on Monday" in " ".join(arrived.body("plain").split())
    await stranger.aclose()
