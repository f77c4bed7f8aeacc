"""The key stores against one contract: SQLite on a real file, MongoDB on a real server.

The MongoDB run happens when ``SCHOOLGATE_TEST_MONGODB_URL`` names one, e.g.
``mongodb://localhost:27017``; each test gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import os
import pickle
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from schoolgate_kit.crypto import ERASED, Keyring, KeyStore
from schoolgate_kit.keys import random_token
from schoolgate_kit.keystores import MongoKeyStore, SqliteKeyStore

MONGODB_URL = os.environ.get("SCHOOLGATE_TEST_MONGODB_URL", "")


@pytest.fixture(params=["sqlite", "mongodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KeyStore]:
    if request.param == "sqlite":
        sqlite = SqliteKeyStore(tmp_path / "private.db")
        yield sqlite
        sqlite.close()
        return
    if not MONGODB_URL:
        pytest.skip("SCHOOLGATE_TEST_MONGODB_URL is not set")
    database = f"schoolgate_test_{uuid.uuid4().hex[:12]}"
    mongo = MongoKeyStore(MONGODB_URL, database)
    yield mongo
    mongo._client.drop_database(database)
    mongo.close()


def test_a_key_is_made_once_whoever_asks_first(store: KeyStore) -> None:
    first = store.create({"s1/person/p1": ("person/p1", b"first")})
    again = store.create({"s1/person/p1": ("person/p1", b"second")})
    assert first == again == {"s1/person/p1": b"first"}
    assert store.find(["s1/person/p1", "s1/person/nobody"]) == {"s1/person/p1": b"first"}


def test_erasing_a_person_leaves_tombstones_in_every_school_and_only_theirs(
    store: KeyStore,
) -> None:
    store.create(
        {
            "s1/person/p1": ("person/p1", b"one"),
            "s2/person/p1": ("person/p1", b"two"),
            "s1/person/p2": ("person/p2", b"other"),
        }
    )
    assert sorted(store.erase("person/p1", school_id=None)) == ["s1/person/p1", "s2/person/p1"]
    assert store.find(["s1/person/p1", "s2/person/p1", "s1/person/p2"]) == {
        "s1/person/p1": ERASED,
        "s2/person/p1": ERASED,
        "s1/person/p2": b"other",
    }
    # a tombstone is never replaced by a new key
    assert store.create({"s1/person/p1": ("person/p1", b"new")}) == {"s1/person/p1": ERASED}


def test_erasing_in_one_school_leaves_another_schools_record_of_the_same_id(
    store: KeyStore,
) -> None:
    store.create({"s1/post/x": ("post/x", b"a"), "s2/post/x": ("post/x", b"b")})
    assert store.erase("post/x", school_id="s1") == ["s1/post/x"]
    assert store.find(["s1/post/x", "s2/post/x"]) == {"s1/post/x": ERASED, "s2/post/x": b"b"}
    # never written: still never to be made
    assert store.erase("post/y", school_id="s1") == ["s1/post/y"]
    assert store.create({"s1/post/y": ("post/y", b"c")}) == {"s1/post/y": ERASED}


def test_a_keyring_over_the_store_travels_to_another_process(store: KeyStore) -> None:
    keyring = Keyring(random_token(), store)
    keyring.load(["s1/person/p1"], create=True)
    elsewhere = pickle.loads(pickle.dumps(keyring))
    try:
        assert elsewhere.store.find(["s1/person/p1"]) == store.find(["s1/person/p1"])
    finally:
        elsewhere.store.close()


def test_keys_past_a_date_are_found_per_school_and_kind_never_erased_ones(
    store: KeyStore,
) -> None:
    weeks = ["2025-01-06", "2025-01-13", "2025-12-01", "2026-01-05"]
    store.create({f"s1/points-week/{w}": (f"points-week/{w}", b"k") for w in weeks})
    store.create({"s2/points-week/2025-01-06": ("points-week/2025-01-06", b"k")})
    store.create({"s1/post/2025-01-01": ("post/2025-01-01", b"k")})  # another kind
    store.erase("points-week/2025-01-06", school_id="s1")

    assert store.held_before("s1", "points-week", "2025-12-01") == ["2025-01-13"]
    assert store.held_before("s1", "points-week", "2026-02-01") == [
        "2025-01-13",
        "2025-12-01",
        "2026-01-05",
    ]
    assert store.held_before("s2", "points-week", "2025-12-01") == ["2025-01-06"]
    assert store.held_before("s1", "points-week", "2025-01-01") == []
