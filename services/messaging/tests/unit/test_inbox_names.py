"""Given pupils in several classes, when an inbox page names them, then each class's
children are told apart within their class only: the same first name in two classes stays
a first name, as on every other family page."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from schoolgate_kit.readmodels.sqlite import SqliteReadModelStore
from schoolgate_messaging import handlers
from schoolgate_messaging.projections import PUPILS

SCHOOL = "school-1"


def _pupil(pupil_id: str, first: str, surname: str, class_id: str) -> dict[str, Any]:
    return {
        "pupil_id": pupil_id,
        "school_id": SCHOOL,
        "first_name": first,
        "surname": surname,
        "class_id": class_id,
        "left": False,
        "moves": [],
    }


async def test_names_are_told_apart_within_each_class_of_the_page(tmp_path: Path) -> None:
    pupils = [
        _pupil("p1", "Sam", "Kay", "oak"),
        _pupil("p2", "Sam", "Lee", "oak"),
        _pupil("p3", "Sam", "Moss", "ash"),
        _pupil("p4", "Ada", "Reed", "ash"),
        _pupil("p5", "Sam", "Hart", "elm"),  # a third class, on no conversation of the page
        _pupil("p6", "Sam", "Kirk", "oak"),  # another school's class of the same id
    ]
    pupils[-1]["school_id"] = "school-2"
    store = await SqliteReadModelStore.open(tmp_path / "readmodels.db")
    try:
        generation = await store.start_generation(PUPILS)
        await store.commit(PUPILS, generation, {p["pupil_id"]: p for p in pupils}, 1)
        await store.activate(PUPILS, generation)
        messaging: Any = SimpleNamespace(readmodels=store)
        on_the_page = [pupils[0], pupils[2], pupils[3]]

        names = await handlers._names_for(on_the_page, messaging=messaging)
    finally:
        await store.close()

    assert names["p1"] == "Sam K."
    assert names["p2"] == "Sam L."
    assert names["p3"] == "Sam"
    assert names["p4"] == "Ada"
    assert "p5" not in names and "p6" not in names
