"""Class board codes and board sessions on a real private store, at a given time: a code
works once and only within its minutes, a session ends with its day or when the teacher
ends the class's boards, and both leave the file once expired."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from schoolgate_gateway.accounts import Accounts, digest
from schoolgate_kit.testing.events import ManualClock

NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
CODE_LIFE = timedelta(minutes=10)
DAY = timedelta(hours=12)


@pytest.fixture
async def accounts(tmp_path: Path) -> AsyncIterator[Accounts]:
    opened = await Accounts.open(tmp_path / "private.db", clock=ManualClock(NOW))
    yield opened
    await opened.close()


async def test_a_code_works_once_and_only_within_its_minutes(accounts: Accounts) -> None:
    late = await accounts.new_board_code("school-1", "class-1", NOW, CODE_LIFE)
    assert await accounts.pair_board(late, NOW + CODE_LIFE, DAY) is None  # expired

    code = await accounts.new_board_code("school-1", "class-1", NOW, CODE_LIFE)
    newer = await accounts.new_board_code("school-1", "class-1", NOW, CODE_LIFE)
    assert await accounts.pair_board(code, NOW, DAY) is None  # a new code retires the old
    paired = await accounts.pair_board(f" {newer.lower()} ", NOW + CODE_LIFE / 2, DAY)
    assert paired is not None
    token, board = paired
    assert (board.school_id, board.class_id) == ("school-1", "class-1")
    assert await accounts.pair_board(newer, NOW + CODE_LIFE / 2, DAY) is None  # used up
    assert await accounts.board(token, NOW + DAY - timedelta(seconds=1)) == board
    assert await accounts.board(token, NOW + DAY + CODE_LIFE) is None  # the day is over


async def test_the_teacher_ends_the_class_boards_and_their_code(accounts: Accounts) -> None:
    first = await accounts.new_board_code("school-1", "class-1", NOW, CODE_LIFE)
    paired = await accounts.pair_board(first, NOW, DAY)
    assert paired is not None
    other_class = await accounts.new_board_code("school-1", "class-2", NOW, CODE_LIFE)
    unused = await accounts.new_board_code("school-1", "class-1", NOW, CODE_LIFE)
    assert await accounts.end_boards("class-1") == 1
    assert await accounts.board(paired[0], NOW) is None
    assert await accounts.pair_board(unused, NOW, DAY) is None
    assert await accounts.pair_board(other_class, NOW, DAY) is not None


def on_disk(path: Path) -> bytes:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    files = [path, path.with_name(path.name + "-wal")]
    return b"".join(p.read_bytes() for p in files if p.exists())


async def test_codes_and_sessions_leave_the_file_once_expired(tmp_path: Path) -> None:
    path = tmp_path / "private.db"
    clock = ManualClock(NOW)
    accounts = await Accounts.open(f"sqlite:///{path}", clock=clock)
    try:
        paired = await accounts.pair_board(
            await accounts.new_board_code("school-1", "class-1", NOW, CODE_LIFE), NOW, DAY
        )
        assert paired is not None
        waiting = await accounts.new_board_code("school-1", "class-2", NOW, CODE_LIFE)
        stored = on_disk(path)
        assert waiting.encode() in stored and digest(paired[0]).encode() in stored

        # the next morning the gateway has only read: nothing written since
        clock.now = NOW + DAY + timedelta(minutes=1)
        assert await accounts.board(paired[0], clock.now) is None
        stored = on_disk(path)
        assert waiting.encode() not in stored
        assert digest(paired[0]).encode() not in stored
    finally:
        await accounts.close()
