"""The staff second factor on a real private store, at a given time: codes from the
authenticator work within their step (and one either side), never twice; recovery codes
work once each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from schoolgate_gateway.accounts import Account, Accounts, Kind

NOW = datetime(2026, 9, 1, 8, 0, 10, tzinfo=UTC)
STEP = timedelta(seconds=30)


@pytest.fixture
async def accounts(tmp_path: Path) -> AsyncIterator[Accounts]:
    opened = await Accounts.open(tmp_path / "private.db", clock=lambda: NOW)
    yield opened
    await opened.close()


async def staff_with_second_factor(accounts: Accounts) -> tuple[Account, pyotp.TOTP, list[str]]:
    staff = await accounts.ensure(
        Kind.staff, "s1", display_name="S", email="s@school.org", password="a-long-password"
    )
    secret = await accounts.begin_second_factor(staff)
    totp = pyotp.TOTP(secret)
    assert await accounts.confirm_second_factor(staff, "000000", NOW) is None  # wrong code
    codes = await accounts.confirm_second_factor(staff, totp.at(NOW - STEP), NOW)
    assert codes is not None and len(set(codes)) == 10
    found = await accounts.find(Kind.staff, "s1")
    assert found is not None and found.second_factor
    return found, totp, codes


async def test_a_code_works_in_its_step_and_never_twice(accounts: Accounts) -> None:
    staff, totp, _ = await staff_with_second_factor(accounts)
    # the code that turned it on was used up with it
    assert not await accounts.second_factor_ok(staff, totp.at(NOW - STEP), NOW)
    assert await accounts.second_factor_ok(staff, totp.at(NOW), NOW)
    assert not await accounts.second_factor_ok(staff, totp.at(NOW), NOW)  # replayed
    assert await accounts.second_factor_ok(staff, totp.at(NOW + STEP), NOW)  # a fast clock
    assert not await accounts.second_factor_ok(staff, totp.at(NOW + 2 * STEP), NOW)
    assert not await accounts.second_factor_ok(staff, totp.at(NOW - 3 * STEP), NOW)


async def test_a_recovery_code_works_once(accounts: Accounts) -> None:
    staff, _, codes = await staff_with_second_factor(accounts)
    assert await accounts.second_factor_ok(staff, codes[0].upper(), NOW)
    assert not await accounts.second_factor_ok(staff, codes[0], NOW)
    assert await accounts.second_factor_ok(staff, codes[1], NOW)


async def test_a_challenge_stands_for_a_right_password_for_minutes_only(
    accounts: Accounts,
) -> None:
    staff, _, _ = await staff_with_second_factor(accounts)
    challenge = await accounts.new_challenge(staff, NOW)
    assert await accounts.challenged(challenge, NOW + timedelta(minutes=4)) == staff
    assert await accounts.challenged(challenge, NOW + timedelta(minutes=5)) is None
    await accounts.end_challenge(challenge)
    assert await accounts.challenged(challenge, NOW) is None


async def test_turning_it_off_forgets_the_secret_and_the_codes(accounts: Accounts) -> None:
    staff, totp, codes = await staff_with_second_factor(accounts)
    await accounts.turn_off_second_factor(staff)
    found = await accounts.find(Kind.staff, "s1")
    assert found is not None and not found.second_factor
    assert not await accounts.second_factor_ok(found, totp.at(NOW), NOW)
    assert not await accounts.second_factor_ok(found, codes[2], NOW)
