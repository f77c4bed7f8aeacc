"""Client addresses in sign-in counters, and set-up links, leave the private store's file
once expired, even when the gateway only reads from then on (checking sessions): a real
SQLite file, the time given, and the bytes of the file and its write-ahead log checked."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from schoolgate_gateway.accounts import Accounts, Kind, digest
from schoolgate_gateway.opening import LINK_LIFETIME, new_link
from schoolgate_gateway.security import DeviceCookies, Limit, Limits, SignInThrottle
from schoolgate_kit.testing.events import ManualClock

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
ADDRESS = "192.0.2.44"
WINDOW = timedelta(minutes=15)


def on_disk(path: Path) -> bytes:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    files = [path, path.with_name(path.name + "-wal")]
    return b"".join(p.read_bytes() for p in files if p.exists())


async def test_addresses_and_set_up_links_are_gone_from_the_file_once_expired(
    tmp_path: Path,
) -> None:
    path = tmp_path / "private.db"
    clock = ManualClock(NOW)
    accounts = await Accounts.open(f"sqlite:///{path}", clock=clock)
    try:
        limits = Limits(accounts.store, clock)
        throttle = SignInThrottle(
            limits,
            DeviceCookies(accounts.store, clock),
            per_account=Limit("sign_in_account", 10, WINDOW),
            per_device=Limit("sign_in_device", 10, WINDOW),
            per_address=Limit("sign_in_address", 60, WINDOW),
        )
        parent = await accounts.ensure(
            Kind.parent, "p1", display_name="P", email="p@x.org", password="a-long-password"
        )
        session = await accounts.start_session(parent, NOW)
        await throttle.failed("someone@x.org", ADDRESS, None)
        link = await new_link(accounts.store, "https://school.test", NOW)
        token = link.split("#open=")[1]
        stored = on_disk(path)
        assert ADDRESS.encode() in stored and digest(token).encode() in stored

        # a week later the gateway has only checked sessions: nothing written since
        clock.now = NOW + LINK_LIFETIME + timedelta(minutes=1)
        assert await accounts.session(session, clock.now) is not None

    finally:
        await accounts.close()
    # read once the store has let go: while it is open, another connection's checkpoint may
    # find it busy and leave the log's older frames (written before the purge) in place
    stored = on_disk(path)
    assert b"p@x.org" in stored  # the account is kept: the right file, readable
    assert ADDRESS.encode() not in stored
    assert digest(token).encode() not in stored
    assert token.encode() not in stored
