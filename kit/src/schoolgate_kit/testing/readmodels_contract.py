"""The read-model store contract: subclass and provide a ``readmodels`` fixture."""

from __future__ import annotations

import uuid

from schoolgate_kit.readmodels import Doc, OneOf, ReadModelStore


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

    async def test_find_pages_below_a_bound_newest_first(self, readmodels: ReadModelStore) -> None:
        name = self.name()
        generation = await readmodels.start_generation(name)
        await readmodels.activate(name, generation)
        docs = {
            f"k{i:02d}": {"target": "class:a" if i % 3 else "class:b", "sort": f"{i:04d}"}
            for i in range(20)
        }
        await readmodels.commit(name, generation, docs, 1)

        async def page(before: str | None) -> list[str]:
            found = await readmodels.find(
                name,
                {"target": "class:a"},
                order_by="sort",
                descending=True,
                limit=4,
                before=None if before is None else ("sort", before),
            )
            return [d["sort"] for d in found]

        first = await page(None)
        assert first == ["0019", "0017", "0016", "0014"]
        assert await page(first[-1]) == ["0013", "0011", "0010", "0008"]
        assert await page("0002") == ["0001"]
        assert await page("0001") == []
        # a bound without an order, and on numbers
        await readmodels.commit(name, generation, {"n": {"target": "x", "n": 3}}, 2)
        assert await readmodels.find(name, {"target": "x"}, before=("n", 4)) == [
            {"target": "x", "n": 3}
        ]
        assert await readmodels.find(name, {"target": "x"}, before=("n", 3)) == []

    async def test_an_index_changes_no_answer(self, readmodels: ReadModelStore) -> None:
        name = self.name()
        generation = await readmodels.start_generation(name)
        await readmodels.activate(name, generation)
        docs = {f"k{i}": {"t": f"t{i % 2}", "s": i % 5} for i in range(12)}
        await readmodels.commit(name, generation, docs, 1)

        async def odd_below_4() -> list[Doc]:
            return await readmodels.find(
                name, {"t": "t1"}, order_by="s", descending=True, limit=5, before=("s", 4)
            )

        unindexed = await odd_below_4()
        # equal order values come in key order, reversed when descending: k11 before k1
        assert unindexed == [docs["k3"], docs["k7"], docs["k11"], docs["k1"], docs["k5"]]
        await readmodels.ensure_index(name, ("t", "s"))
        await readmodels.ensure_index(name, ("t", "s"))  # idempotent
        await readmodels.ensure_index(name, ("s",))
        assert await odd_below_4() == unindexed
        ties = await readmodels.find(name, {"s": 1}, order_by="s")
        assert ties == [docs["k1"], docs["k11"], docs["k6"]]
        # a rebuilt generation is served the same way
        new = await readmodels.start_generation(name)
        await readmodels.commit(name, new, {"z": {"t": "t1", "s": 0}}, 2)
        await readmodels.activate(name, new)
        assert await odd_below_4() == [{"t": "t1", "s": 0}]

    async def test_one_of_several_values_merges_in_order(self, readmodels: ReadModelStore) -> None:
        name = self.name()
        generation = await readmodels.start_generation(name)
        await readmodels.activate(name, generation)
        docs = {f"k{i:02d}": {"t": f"t{i % 4}", "s": i, "kind": i % 2} for i in range(24)}
        await readmodels.commit(name, generation, docs, 1)
        await readmodels.ensure_index(name, ("t", "s"))

        async def page(*values: str, before: int = 100, kind: int | None = None) -> list[int]:
            where: dict[str, object] = {"t": OneOf(values)}
            if kind is not None:
                where["kind"] = kind
            found = await readmodels.find(
                name, where, order_by="s", descending=True, limit=5, before=("s", before)
            )
            return [d["s"] for d in found]

        assert await page("t1", "t2") == [22, 21, 18, 17, 14]
        assert await page("t1", "t2", before=14) == [13, 10, 9, 6, 5]
        assert await page("t1", "t2", "t1", before=6) == [5, 2, 1]
        assert await page("t0", "t1", kind=1) == [21, 17, 13, 9, 5]
        assert await page("t3") == [23, 19, 15, 11, 7]
        assert await page() == []
        unordered = await readmodels.find(name, {"t": OneOf(("t0", "t3"))})
        assert sorted(d["s"] for d in unordered) == sorted(i for i in range(24) if i % 4 in (0, 3))
        assert await readmodels.find(name, {"t": OneOf(())}) == []

    async def test_purge_deletes_what_is_past_a_bound_in_every_generation(
        self, readmodels: ReadModelStore
    ) -> None:
        name = self.name()
        docs = {
            f"{school}:{week}": {"school_id": school, "week_start": week, "n": 1}
            for school in ("s1", "s2")
            for week in ("2025-11-03", "2025-11-10", "2026-11-30")
        }
        active = await readmodels.start_generation(name)
        await readmodels.commit(name, active, docs, 5)
        await readmodels.activate(name, active)
        building = await readmodels.start_generation(name)  # a rebuild under way
        await readmodels.commit(name, building, docs, 2)

        before = ("week_start", "2025-11-10")
        assert await readmodels.purge(name, {"school_id": "s1"}, before=before) == 2
        kept = await readmodels.find(name, {}, order_by="week_start")
        assert [(d["school_id"], d["week_start"]) for d in kept] == [
            ("s2", "2025-11-03"),
            ("s1", "2025-11-10"),
            ("s2", "2025-11-10"),
            ("s1", "2026-11-30"),
            ("s2", "2026-11-30"),
        ]
        assert set(await readmodels.load(name, building, list(docs))) == set(docs) - {
            "s1:2025-11-03"
        }
        assert await readmodels.checkpoint(name, active) == 5  # checkpoints untouched

    async def test_get_many_reads_the_active_generation(self, readmodels: ReadModelStore) -> None:
        name = self.name()
        assert await readmodels.get_many(name, ["a"]) == {}
        old = await readmodels.start_generation(name)
        await readmodels.activate(name, old)
        await readmodels.commit(name, old, {"a": {"v": 1}, "b": {"v": 2}, "c": {"v": 3}}, 1)
        assert await readmodels.get_many(name, ["a", "c", "missing", "a"]) == {
            "a": {"v": 1},
            "c": {"v": 3},
        }
        assert await readmodels.get_many(name, []) == {}
        new = await readmodels.start_generation(name)
        await readmodels.commit(name, new, {"a": {"v": 10}}, 1)
        assert await readmodels.get_many(name, ["a", "b"]) == {"a": {"v": 1}, "b": {"v": 2}}
        await readmodels.activate(name, new)
        assert await readmodels.get_many(name, ["a", "b"]) == {"a": {"v": 10}}
