"""Accounts on a real SQLite private store, with the time given: what expires, what a
password change ends, and that two gateways over one store are one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from schoolgate_gateway.accounts import Accounts, EmailTaken, HasPassword, Kind

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def accounts(tmp_path: Path, clock: Clock) -> AsyncIterator[Accounts]:
    opened = await Accounts.open(f"sqlite:///{tmp_path / 'private.db'}", clock=clock)
    yield opened
    await opened.close()


@pytest.fixture
async def other_replica(tmp_path: Path, clock: Clock) -> AsyncIterator[Accounts]:
    opened = await Accounts.open(tmp_path / "private.db", clock=clock)
    yield opened
    await opened.close()


async def test_a_pupil_card_stops_working_when_it_expires(accounts: Accounts) -> None:
    token = await accounts.new_pupil_card("ada", NOW, timedelta(days=365))
    assert await accounts.pupil_for_card(token, NOW + timedelta(days=364)) == "ada"
    assert await accounts.pupil_for_card(token, NOW + timedelta(days=365)) is None


async def test_a_password_change_ends_every_session(accounts: Accounts) -> None:
    account = await accounts.ensure(
        Kind.parent, "p1", display_name="P", email="p@x.org", password="first-password"
    )
    phone = await accounts.start_session(account, NOW)
    laptop = await accounts.start_session(account, NOW)
    await accounts.set_password(account, "second-password")
    assert await accounts.session(phone, NOW) is None
    assert await accounts.session(laptop, NOW) is None
    assert await accounts.sign_in("P@X.org", "second-password") is not None
    assert await accounts.sign_in("p@x.org", "first-password") is None


async def test_a_set_up_link_never_replaces_a_password(accounts: Accounts) -> None:
    staff = await accounts.ensure(Kind.staff, "s1", display_name="S", email="s@school.org")
    early = await accounts.new_setup_link(staff, NOW, timedelta(days=7))
    late = await accounts.new_setup_link(staff, NOW, timedelta(days=7))
    assert await accounts.use_setup_link(early, "chosen-password", NOW) is not None
    # the other link made before the password was chosen no longer opens the account
    assert await accounts.use_setup_link(late, "takeover-password", NOW) is None
    again = await accounts.new_setup_link(staff, NOW, timedelta(days=7))
    with pytest.raises(HasPassword):
        await accounts.use_setup_link(again, "takeover-password", NOW)
    assert await accounts.sign_in("s@school.org", "chosen-password") is not None


async def test_two_replicas_share_accounts_and_sessions(
    accounts: Accounts, other_replica: Accounts
) -> None:
    made = await accounts.create_parent(
        email="Family@Example.org", password="a-long-password", display_name="F"
    )
    with pytest.raises(EmailTaken):
        await other_replica.create_parent(
            email="family@example.ORG", password="another-password", display_name="G"
        )
    session = await other_replica.start_session(made, NOW)
    assert await accounts.session(session, NOW) == made
    assert await accounts.session(session, NOW + timedelta(days=14)) is None
    assert await accounts.count() == 1


async def test_the_address_book_follows_the_account(accounts: Accounts, clock: Clock) -> None:
    book = accounts.contacts
    parent = await accounts.create_parent(
        email="sam@family.example", password="a-long-password", display_name="Sam"
    )
    key = f"parent:{parent.person_id}"
    found = await book.get(key, NOW)
    assert found is not None and (found.email, found.name, found.language) == (
        "sam@family.example",
        "Sam",
        "en",
    )
    parent = await accounts.change_email(parent, "sam@new.example")
    parent = await accounts.change_details(parent, display_name="Sam Okafor")
    found = await book.get(key, NOW)
    assert found is not None and (found.email, found.name) == ("sam@new.example", "Sam Okafor")
    # an account from before the book is written to it when it signs in
    await book.forget(key)
    clock.now = NOW + timedelta(days=1)
    assert await accounts.sign_in("sam@new.example", "a-long-password") is not None
    found = await book.get(key, clock.now)
    assert found is not None and found.email == "sam@new.example"
    assert found.updated_at == clock.now
    staff = await accounts.ensure(Kind.staff, "s1", display_name="Ms S", email="s@school.org")
    assert (await book.get("staff:s1", NOW)) is not None
    await accounts.ensure(Kind.pupil, "ada", display_name="")
    assert await book.get("pupil:ada", NOW) is None
    assert await accounts.forget(Kind.parent, parent.person_id)
    assert await accounts.forget(Kind.staff, staff.person_id)
    assert await book.get(key, NOW) is None and await book.get("staff:s1", NOW) is None


async def test_a_reset_link_works_once_ends_every_session_and_signs_nobody_in(
    accounts: Accounts,
) -> None:
    parent = await accounts.create_parent(
        email="sam@family.example", password="a-long-password", display_name="Sam"
    )
    phone = await accounts.start_session(parent, NOW)
    older = await accounts.new_reset_link(parent, NOW, timedelta(minutes=30))
    link = await accounts.new_reset_link(parent, NOW, timedelta(minutes=30))
    assert not await accounts.reset_link_works(older, NOW)  # only the newest works
    assert await accounts.use_reset_link(older, "a-takeover-pass", NOW) is None
    assert await accounts.reset_link_works(link, NOW)
    assert await accounts.use_reset_link(link, "a-new-password", NOW) is not None
    assert await accounts.session(phone, NOW) is None
    assert await accounts.use_reset_link(link, "again-a-password", NOW) is None
    assert await accounts.sign_in("sam@family.example", "a-new-password") is not None
    late = await accounts.new_reset_link(parent, NOW, timedelta(minutes=30))
    assert await accounts.use_reset_link(late, "too-late-pass", NOW + timedelta(minutes=30)) is None
