"""Invite codes and redeemers' addresses leave the private store once they open nothing.

The handlers run in this process on real SQLite files with an injected clock, so days can
pass; what is checked is the bytes of the private store's file and its write-ahead log.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from schoolgate_consent import domain, handlers
from schoolgate_consent.adapters.private import KEPT_AFTER_EXPIRY, USED_CODE_KEPT
from schoolgate_consent.bootstrap import Consent, bootstrap
from schoolgate_consent.handlers import Actor
from schoolgate_consent.settings import ConsentSettings
from schoolgate_kit.eventstore.sqlite import SqliteEventStore
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_kit.testing.events import ManualClock

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADDRESS = "198.51.100.23"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def consent(tmp_path: Path, clock: ManualClock) -> AsyncIterator[Consent]:
    store = await SqliteEventStore.open(tmp_path / "events.db", clock=clock)
    readmodels = await SqliteReadModelStore.open(tmp_path / "readmodels.db")
    settings = ConsentSettings(data_dir=tmp_path, invite_lifetime_days=7)
    built = bootstrap(settings, store=store, readmodels=readmodels, clock=clock)
    yield built
    await built.private.close()
    await readmodels.close()
    await store.close()


def on_disk(path: Path) -> bytes:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    files = [path, path.with_name(path.name + "-wal")]
    return b"".join(p.read_bytes() for p in files if p.exists())


async def test_revoked_used_and_expired_codes_and_addresses_leave_the_file(
    consent: Consent, clock: ManualClock, tmp_path: Path
) -> None:
    private_db = tmp_path / "private.db"
    teacher = Actor(subject="teacher-1", school_id="school-1", correlation_id="c")
    revoked = await handlers.issue_invite("pupil-1", None, actor=teacher, consent=consent)
    used = await handlers.issue_invite("pupil-1", None, actor=teacher, consent=consent)
    lapsed = await handlers.issue_invite("pupil-1", None, actor=teacher, consent=consent)
    codes = [i.code.encode() for i in (revoked, used, lapsed)]
    assert all(code in on_disk(private_db) for code in codes)

    await handlers.revoke_invite(revoked.invite_id, "pupil-1", actor=teacher, consent=consent)
    assert codes[0] not in on_disk(private_db)
    # the school still finds the revoked invite (revoking again is no error), without its code
    known = await consent.private.by_invite(revoked.invite_id)
    assert known is not None and known.code is None and known.pupil_id == "pupil-1"
    await handlers.revoke_invite(revoked.invite_id, "pupil-1", actor=teacher, consent=consent)

    async def redeem(code: str) -> handlers.Redemption:
        return await handlers.redeem(
            code,
            parent_id="parent-1",
            staff_account=False,
            address=ADDRESS,
            correlation_id="c",
            consent=consent,
        )

    assert (await redeem(used.code)).outcome is domain.Outcome.linked
    clock.now += USED_CODE_KEPT / 2
    assert (await redeem(used.code)).outcome is domain.Outcome.linked  # a retry, same answer
    assert ADDRESS.encode() in on_disk(private_db)

    # past the attempt window and the used code's grace: the next read purges both
    clock.now += USED_CODE_KEPT + timedelta(seconds=consent.settings.redeem_window_seconds)
    with pytest.raises(domain.InviteNotValid):
        await redeem(used.code)
    clock.now += timedelta(seconds=consent.settings.redeem_window_seconds + 60)
    assert await consent.private.by_code(lapsed.code) is not None
    stored = on_disk(private_db)
    assert codes[1] not in stored and ADDRESS.encode() not in stored
    assert codes[2] in stored  # still open: kept

    clock.now = lapsed.expires_at + timedelta(minutes=1)
    assert await consent.private.by_code(lapsed.code) is None
    assert codes[2] not in on_disk(private_db)
    assert (await consent.private.by_invite(lapsed.invite_id)) is not None  # lapsed, revocable

    clock.now = lapsed.expires_at + KEPT_AFTER_EXPIRY + timedelta(minutes=1)
    assert await consent.private.by_invite(lapsed.invite_id) is None
    stored = on_disk(private_db)
    assert lapsed.invite_id.encode() not in stored
    assert b"pupil-1" not in stored
