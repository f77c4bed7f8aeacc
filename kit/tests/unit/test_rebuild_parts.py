"""How a rebuild cuts the log into parts, and what merging parts refuses."""

from __future__ import annotations

import itertools

import pytest
from schoolgate_kit.projections import Folding, _parts


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
