"""The MongoDB read-model store against the read-model contract, on a real server.

Runs when ``SCHOOLGATE_TEST_MONGODB_URL`` names one, e.g. ``mongodb://localhost:27017``.
Each test gets a fresh database with a random name, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from pymongo import AsyncMongoClient
from schoolgate_kit.readmodels.mongo import MongoReadModelStore
from schoolgate_kit.testing.readmodels_contract import ReadModelStoreContract

URL = os.environ.get("SCHOOLGATE_TEST_MONGODB_URL", "")

pytestmark = pytest.mark.skipif(not URL, reason="SCHOOLGATE_TEST_MONGODB_URL is not set")


@pytest.fixture
async def database() -> AsyncIterator[str]:
    name = f"schoolgate_test_{uuid.uuid4().hex[:12]}"
    yield name
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(URL)
    try:
        await client.drop_database(name)
    finally:
        await client.close()


@pytest.fixture
async def readmodels(database: str) -> AsyncIterator[MongoReadModelStore]:
    readmodels = await MongoReadModelStore.open(URL, database)
    yield readmodels
    await readmodels.close()


class TestMongoReadModelStore(ReadModelStoreContract):
    async def test_documents_survive_reopening(
        self, readmodels: MongoReadModelStore, database: str
    ) -> None:
        name = self.name()
        generation = await readmodels.start_generation(name)
        await readmodels.activate(name, generation)
        await readmodels.commit(name, generation, {"a": {"n": 1}}, 4)
        again = await MongoReadModelStore.open(URL, database)
        try:
            assert await again.active_generation(name) == generation
            assert await again.get(name, "a") == {"n": 1}
            assert await again.checkpoint(name, generation) == 4
        finally:
            await again.close()

    async def test_activating_a_missing_generation_is_refused(
        self, readmodels: MongoReadModelStore
    ) -> None:
        name = self.name()
        with pytest.raises(LookupError):
            await readmodels.activate(name, 7)
        assert await readmodels.active_generation(name) is None

    async def test_find_does_not_treat_values_as_operators(
        self, readmodels: MongoReadModelStore
    ) -> None:
        name = self.name()
        generation = await readmodels.start_generation(name)
        await readmodels.activate(name, generation)
        await readmodels.commit(name, generation, {"a": {"n": 5}, "b": {"n": {"m": 1}}}, 1)
        assert await readmodels.find(name, {"n": {"$gt": 1}}) == []
        assert await readmodels.find(name, {"n": {"m": 1}}) == [{"n": {"m": 1}}]
