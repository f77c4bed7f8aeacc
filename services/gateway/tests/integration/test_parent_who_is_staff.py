"""A parent account whose email is a current colleague's is marked ``also_staff``, so
consent makes its claims on children wait for a leader. Real SQLite read models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from schoolgate_gateway.accounts import Account, Kind
from schoolgate_gateway.projections import STAFF
from schoolgate_gateway.scope import identity_for
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore


@pytest.fixture
async def readmodels(tmp_path: Path) -> AsyncIterator[SqliteReadModelStore]:
    store = await SqliteReadModelStore.open(tmp_path / "readmodels.db")
    generation = await store.start_generation(STAFF)
    await store.activate(STAFF, generation)
    colleague = {"email": "ms.oak@school.example", "left": False, "school_id": "school-2"}
    former = {"email": "mr.ash@school.example", "left": True, "school_id": "school-1"}
    await store.commit(STAFF, generation, {"staff-oak": colleague, "staff-ash": former}, 1)
    yield store
    await store.close()


def parent(email: str) -> Account:
    return Account("a1", Kind.parent, "parent-1", email, "A parent")


@pytest.mark.parametrize(
    ("email", "also_staff"),
    [
        ("Ms.Oak@School.example", True),  # any school, any case
        ("mr.ash@school.example", False),  # has left
        ("family@example.org", False),
    ],
)
async def test_a_parent_with_a_colleagues_email_is_also_staff(
    readmodels: SqliteReadModelStore, email: str, also_staff: bool
) -> None:
    identity = await identity_for(parent(email), readmodels)
    assert identity.also_staff is also_staff
