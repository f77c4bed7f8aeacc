"""How a rebuild cuts the log into parts, what merging parts refuses, and when a fold may
change documents in place."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from schoolgate_contracts import RecordedEvent
from schoolgate_contracts.roster import SchoolWayAdded
from schoolgate_kit.projections import Folding, Projection, _parts, fold
from schoolgate_kit.readmodels import Doc
from schoolgate_kit.testing.events import recorded


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_the_parts_cover_every_position_once_and_this_process_takes_the_longest(
    count: int,
) -> None:
    parts = _parts(1000, 101_000, count)
    assert len(parts) == count
    assert parts[0][0] == 1000 and parts[-1][1] == 101_000
    assert all(hi == lo for (_, hi), (lo, _) in itertools.pairwise(parts))
    lengths = [hi - lo for lo, hi in parts]
    assert lengths[0] == max(lengths)
    if count > 1:  # a tenth more per other process, as the others start later
        assert lengths[0] == pytest.approx(100_000 * (1 + 0.1 * (count - 1)) / count, abs=1)


def test_a_short_round_is_never_cut_into_empty_parts() -> None:
    assert _parts(10, 12, 4) == [(10, 11), (11, 12)]


def test_a_deleted_document_cannot_be_merged() -> None:
    folding = Folding()
    folding.add({"k": {"n": 1, "_position": 3}})
    with pytest.raises(ValueError, match="'k' was deleted"):
        folding.merge(lambda a, b: {"n": a["n"] + b["n"]}, {"k": None}, {"k": 9})
    folding.merge(
        lambda a, b: {"n": a["n"] + b["n"]}, {"k": {"n": 2}, "j": {"n": 5}}, {"k": 9, "j": 8}
    )
    assert folding.take() == {"k": {"n": 3, "_position": 9}, "j": {"n": 5, "_position": 8}}


def _counter(in_place_calls: list[str]) -> Projection:
    def evolve(doc: Doc | None, event: RecordedEvent) -> Doc | None:
        return {"n": (doc or {"n": 0})["n"] + 1}

    def evolve_in_place(doc: Doc | None, event: RecordedEvent) -> Doc | None:
        in_place_calls.append(event.stream)
        if doc is None:
            return {"n": 1}
        doc["n"] += 1
        return doc

    return Projection(
        name="test.counter",
        handles=(),
        key=lambda e: "k",
        evolve=evolve,
        evolve_in_place=evolve_in_place,
    )


def _event(position: int) -> RecordedEvent:
    return recorded(position, SchoolWayAdded(school_way_id="w", name="W"))


def test_only_a_folding_that_owns_its_documents_changes_them_in_place() -> None:
    calls: list[str] = []
    counter = _counter(calls)
    cached = {"k": {"n": 5, "_position": 1}}

    changes = fold(counter, cached, [_event(2), _event(3)])  # a live runner's fold
    assert changes == {"k": {"n": 7, "_position": 3}}
    assert cached == {"k": {"n": 5, "_position": 1}} and calls == []

    owned = Folding(owned=True)
    owned.add(cached)
    owned.apply(counter, [_event(2), _event(3)], ["k", "k"])
    assert owned.docs == {"k": {"n": 7}} and calls == ["stream-2", "stream-3"]


def test_derived_documents_cannot_be_folded_in_place() -> None:
    counter = _counter([])
    with pytest.raises(ValueError, match="derived documents"):
        dataclasses.replace(counter, derive=lambda key, doc: {})
