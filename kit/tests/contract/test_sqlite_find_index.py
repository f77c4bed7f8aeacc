"""The embedded read-model store answers a paged ``find`` from its index, not by sorting."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from schoolgate_kit.readmodels import OneOf
from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore, find_sql


async def test_a_page_below_a_bound_is_an_index_range_scan(tmp_path: Path) -> None:
    path = tmp_path / "readmodels.db"
    readmodels = await SqliteReadModelStore.open(path)
    try:
        generation = await readmodels.start_generation("feed")
        await readmodels.activate("feed", generation)
        docs = {f"k{i}": {"target": f"t{i % 3}", "sort": f"{i:06d}"} for i in range(300)}
        await readmodels.commit("feed", generation, docs, 1)
        await readmodels.ensure_index("feed", ("target", "sort"))
        query: dict[str, Any] = {
            "order_by": "sort",
            "descending": True,
            "limit": 3,
            "before": ("sort", "000100"),
        }
        page = await readmodels.find("feed", {"target": "t1"}, **query)
        assert [d["sort"] for d in page] == ["000097", "000094", "000091"]
    finally:
        await readmodels.close()

    sql, params = find_sql("feed", {"target": "t1"}, **query)
    conn = sqlite3.connect(path)
    try:
        plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
        # only this projection's rows are in its index
        (name,) = conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '%''feed''%'"
        ).fetchone()
    finally:
        conn.close()
    assert f"USING INDEX {name}" in plan, plan
    assert "TEMP B-TREE" not in plan, plan


async def test_one_of_is_one_index_range_per_value_merged_once(tmp_path: Path) -> None:
    path = tmp_path / "readmodels.db"
    readmodels = await SqliteReadModelStore.open(path)
    try:
        await readmodels.ensure_index("feed", ("target", "sort"))
    finally:
        await readmodels.close()
    sql, params = find_sql(
        "feed",
        {"target": OneOf(("t1", "t2", "t3"))},
        order_by="sort",
        descending=True,
        limit=21,
        before=("sort", "000100"),
    )
    conn = sqlite3.connect(path)
    try:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    finally:
        conn.close()
    assert sum("USING INDEX readmodel_" in step for step in plan) == 3, plan
    # the ranges come out ordered; only the merge of three short lists sorts
    assert sum("TEMP B-TREE" in step for step in plan) == 1, plan
