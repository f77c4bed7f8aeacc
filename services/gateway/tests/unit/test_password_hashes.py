"""Sign-in against a stored password hash that is damaged: the answer is "no match", never
an exception (which would reach the parent as a 500). Real Argon2, real SQLite file.

How a hash gets damaged does not matter here (a restored backup, a hand edit, a truncated
copy); the account is made through the normal path with the hasher told to store it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from schoolgate_gateway import accounts as accounts_module
from schoolgate_gateway.accounts import Accounts, Kind

EMAIL = "parent@example.org"
PASSWORD = "correct horse battery staple"
A_REAL_HASH = accounts_module.hasher.hash(PASSWORD)


@pytest.fixture
async def accounts(tmp_path: Path) -> AsyncIterator[Accounts]:
    opened = await Accounts.open(tmp_path / "accounts.db")
    yield opened
    await opened.close()


async def parent_whose_stored_hash_is(
    accounts: Accounts, stored: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patched:
        patched.setattr(accounts_module.hasher, "hash", lambda password: stored)
        await accounts.ensure(
            Kind.parent, "parent-1", display_name="A parent", email=EMAIL, password=PASSWORD
        )


async def test_a_sound_hash_still_signs_in(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    await parent_whose_stored_hash_is(accounts, A_REAL_HASH, monkeypatch)

    signed_in = await accounts.sign_in(EMAIL, PASSWORD)

    assert signed_in is not None and signed_in.email == EMAIL
    assert await accounts.sign_in(EMAIL, "wrong password") is None


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param(A_REAL_HASH[:-12], id="argon2-truncated"),
        pytest.param("$argon2id$v=19$m=65536,t=3,p=4$not*base64$not*base64", id="argon2-garbled"),
        # pwdlib raises UnknownHashError for a hash no hasher claims: sign_in catches it
        pytest.param("not-a-password-hash", id="unrecognised"),
    ],
)
async def test_a_damaged_hash_is_no_match_not_an_error(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch, stored: str
) -> None:
    await parent_whose_stored_hash_is(accounts, stored, monkeypatch)

    assert await accounts.sign_in(EMAIL, PASSWORD) is None
    assert await accounts.sign_in(EMAIL, "wrong password") is None
