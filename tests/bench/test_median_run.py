"""`make bench --repeat N` reports the median run of each benchmark, whole, and lists
every run's figure beside it."""

from __future__ import annotations

from bench.common import Result
from bench.run import median_run


def _run(p50: float, p99: float, *, tag: str) -> list[Result]:
    return [
        Result("freshness p50", "ms", p50, 8.0, "light", "(p99 is the target)", None, False),
        Result(
            "freshness p99", "ms", p99, 10.0, "light", "< 100 ms", p99 < 100, False, {"tag": tag}
        ),
    ]


def test_one_run_is_reported_as_it_is() -> None:
    run = _run(20.0, 90.0, tag="only")
    assert median_run([run]) is run
    assert run[1].details == {"tag": "only"}


def test_the_median_run_by_the_figure_with_a_target_is_reported_whole() -> None:
    runs = [
        _run(30.0, 230.0, tag="slow"),
        _run(10.0, 60.0, tag="quick"),
        _run(5.0, 95.0, tag="mid"),
    ]
    p50, p99 = median_run(runs)
    # judged by p99 (the target), not p50: the run with p50 5 ms is reported, p50 and all
    assert (p50.figure, p99.figure, p99.details["tag"]) == (5.0, 95.0, "mid")
    assert p99.details["runs (3), in order"] == "230.0 ms, 60.0 ms, 95.0 ms"
    assert p50.details["runs (3), in order"] == "30.0 ms, 10.0 ms, 5.0 ms"


def test_of_an_even_count_the_worse_middle_run_is_reported() -> None:
    lower_is_better = [_run(1.0, p99, tag=str(p99)) for p99 in (50.0, 120.0, 80.0, 90.0)]
    assert median_run(lower_is_better)[1].figure == 90.0
    higher_is_better = [
        [Result("replay", "events/s", figure, 50_000.0, "decode", ">= 100,000/s", figure >= 1e5)]
        for figure in (90_000.0, 110_000.0, 70_000.0, 100_000.0)
    ]
    assert median_run(higher_is_better)[0].figure == 90_000.0
