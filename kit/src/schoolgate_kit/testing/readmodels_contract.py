"""The read-model store contract: subclass and provide a ``readmodels`` fixture."""

from __future__ import annotations

import uuid

from schoolgate_kit.readmodels import ReadModelStore


class ReadModelStoreContract:
    def name(self) -> str:
        return f"proj_{uuid.uuid4().hex[:12]}"

    async def test_new_projection_has_no_active_generation(
        self, readmodels: ReadModelStore
    ) -> None:
        name = self.name()
        assert await readmodels.active_generation(name) is None
        assert await readmodels.get(name, "k") is None
        assert await readmodels.find(name, {}) == []

    async def test_commit_writes_documents_and_checkpoint_together(
        self, readmodels: ReadModelStore
    ) -> None:
        name = self.name()
        generation = await readmodels.start_generation(name)
        await readmodels.activate(name, generation)
        assert await readmodels.checkpoint(name, generation) == 0
        ok = await readmodels.commit(
            name, generation, {"a": {"n": 1, "group": "x"}, "b": {"n": 2, "group": "y"}}, 7
        )
        assert ok
        assert await readmodels.checkpoint(name, generation) == 7
        assert await readmodels.get(name, "a") == {"n": 1, "group": "x"}
        loaded = await readmodels.load(name, generation, ["a", "b", "missing"])
        assert set(loaded) == {"a", "b"}
        await readmodels.commit(name, generation, {"a": None, "b": {"n": 3, "group": "y"}}, 9)
        assert await readmodels.get(name, "a") is None
        assert await readmodels.get(name, "b") == {"n": 3, "group": "y"}
        assert await readmodels.checkpoint(name, generation) == 9

    async def test_find_filters_orders_and_limits(self, readmodels: ReadModelStore) -> None:
        name = self.name()
        generation = await readmodels.start_generation(name)
        await readmodels.activate(name, generation)
        docs = {f"k{i}": {"pupil": "p1" if i % 2 else "p2", "n": i} for i in range(6)}
        await readmodels.commit(name, generation, docs, 1)
        found = await readmodels.find(name, {"pupil": "p1"}, order_by="n", descending=True)
        assert [d["n"] for d in found] == [5, 3, 1]
        limited = await readmodels.find(name, {"pupil": "p2"}, order_by="n", limit=2)
        assert [d["n"] for d in limited] == [0, 2]

    async def test_rebuild_generation_is_invisible_until_activated(
        self, readmodels: ReadModelStore
    ) -> None:
        name = self.name()
        old = await readmodels.start_generation(name)
        await readmodels.activate(name, old)
        await readmodels.commit(name, old, {"a": {"v": "old"}}, 5)
        new = await readmodels.start_generation(name)
        assert new != old
        await readmodels.commit(name, new, {"a": {"v": "new"}}, 3)
        assert await readmodels.get(name, "a") == {"v": "old"}
        assert await readmodels.active_generation(name) == old
        await readmodels.activate(name, new)
        assert await readmodels.get(name, "a") == {"v": "new"}
        assert await readmodels.active_generation(name) == new
        # the replaced generation is gone: a late writer to it is told so and writes nothing
        assert await readmodels.commit(name, old, {"a": {"v": "late"}}, 6) is False
        assert await readmodels.get(name, "a") == {"v": "new"}

    async def test_generation_zero_holds_plain_state(self, readmodels: ReadModelStore) -> None:
        name = self.name()
        assert await readmodels.checkpoint(name, 0) == 0
        assert await readmodels.commit(name, 0, {"seen": {"x": 1}}, 42)
        assert await readmodels.checkpoint(name, 0) == 42
        assert await readmodels.load(name, 0, ["seen"]) == {"seen": {"x": 1}}
