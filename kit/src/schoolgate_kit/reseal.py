"""A one-off migration: an event file written before encryption, written again sealed.

    python -m schoolgate_kit.reseal [DATA_DIR]

Run it once, with Schoolgate stopped, on a data directory from before personal data was
encrypted. Like a rebuild, it writes a new log beside the old one and swaps it in: every
event keeps its id, stream, version, position and time; an event holding personal values
is written with them sealed under their subjects' keys (in its current schema version, as
its upcasters read it), and every other event is copied byte for byte. The new file is
checked (the same events, in the same order, reading back to the same values) before it
replaces the old one, and the old one, which holds the personal data in clear, is then
deleted. Interrupted, it leaves the old file as it was.
"""

from __future__ import annotations

import argparse
import contextlib
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from schoolgate_contracts import Metadata, registry
from schoolgate_contracts.privacy import sealing_plan

from schoolgate_kit.crypto import Keyring
from schoolgate_kit.eventstore.sqlite import COLUMNS, SCHEMA, Row, _decode
from schoolgate_kit.sqlite import insert_many

PAGE = 5000


@dataclass(frozen=True)
class Resealed:
    events: int
    sealed: int
    """Events whose personal values were written sealed."""


class StillRunning(SystemExit):
    """Another process has the event file open for writing: Schoolgate is not stopped."""


def reseal(path: Path, keyring: Keyring) -> Resealed:
    """Write ``path`` again with its personal values sealed, and swap it in."""
    fresh = path.with_name(path.name + ".resealing")
    for leftover in _files(fresh):
        leftover.unlink(missing_ok=True)  # an interrupted run's
    old = sqlite3.connect(path, isolation_level=None, timeout=2)
    new = sqlite3.connect(fresh, isolation_level=None)
    try:
        try:
            old.execute("BEGIN IMMEDIATE")  # held to the end: no writer meanwhile
        except sqlite3.OperationalError as exc:
            raise StillRunning(f"{path} is in use: stop Schoolgate first ({exc})") from exc
        new.execute("PRAGMA journal_mode=WAL")
        new.executescript(SCHEMA)
        new.execute("BEGIN")
        count = sealed = 0
        for rows in _pages(old):
            out = []
            for row in rows:
                written, changed = _sealed_row(row, keyring)
                out.append(written)
                count += 1
                sealed += changed
            insert_many(new, f"events ({COLUMNS})", 9, out)
        new.execute("COMMIT")
        _check(old, new, keyring)
        new.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        new.close()
        # closed, the old file takes back its write-ahead log and deletes it: nothing of it
        # is left to be read into the new file, which then takes its name
        old.execute("ROLLBACK")
        old.close()
        for stale in _files(path)[1:]:
            if stale.exists():
                raise StillRunning(f"{stale} is still there: is Schoolgate running?")
        fresh.replace(path)
        return Resealed(events=count, sealed=sealed)
    finally:
        for conn in (old, new):
            with contextlib.suppress(sqlite3.Error):
                conn.close()
        for leftover in _files(fresh):
            leftover.unlink(missing_ok=True)


def _files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _pages(conn: sqlite3.Connection) -> Iterator[list[Row]]:
    after = 0
    while True:
        rows: list[Row] = conn.execute(
            f"SELECT {COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?",
            (after, PAGE),
        ).fetchall()
        if not rows:
            return
        yield rows
        after = rows[-1][3]


def _sealed_row(row: Row, keyring: Keyring) -> tuple[Row, bool]:
    event_id, stream, version, position, type_, _schema, _data, metadata, at = row
    cls = registry.types().get(type_)
    if cls is None or not sealing_plan(cls):
        return row, False
    event = _decode(registry, row, keyring).event
    school_id = Metadata.model_validate_json(metadata).school_id
    resealed = keyring.seal_event(event, school_id)
    return (
        (event_id, stream, version, position, type_, cls.schema_version, resealed, metadata, at),
        True,
    )


def _check(old: sqlite3.Connection, new: sqlite3.Connection, keyring: Keyring) -> None:
    """The same events, in order, reading back to the same values."""
    olds, news = _pages(old), _pages(new)
    for old_rows, new_rows in zip(olds, news, strict=True):
        assert len(old_rows) == len(new_rows)
        for before, after in zip(old_rows, new_rows, strict=True):
            assert before[:5] == after[:5] and before[7:] == after[7:], (before[:4], after[:4])
            was = _decode(registry, before, keyring).event
            now = _decode(registry, after, keyring).event
            assert was == now, f"event at position {before[3]} reads differently"


def main(argv: list[str] | None = None) -> None:
    from schoolgate_kit.adapters import open_keyring
    from schoolgate_kit.keys import with_data_dir_secrets
    from schoolgate_kit.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m schoolgate_kit.reseal")
    parser.add_argument("data_dir", nargs="?", type=Path, help="default: SCHOOLGATE_DATA_DIR")
    args = parser.parse_args(argv)
    settings = Settings() if args.data_dir is None else Settings(data_dir=args.data_dir)
    settings = with_data_dir_secrets(settings)
    path = settings.data_dir / "events.db"
    if not path.exists():
        raise SystemExit(f"no event file at {path}")
    keyring = open_keyring(settings)
    assert keyring is not None  # with_data_dir_secrets made the master key
    try:
        done = reseal(path, keyring)
    finally:
        keyring.store.close()
    print(
        f"{path}: {done.events} events, {done.sealed} with personal values now sealed",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
