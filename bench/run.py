"""`make bench`: run the benchmarks, print each figure beside its same-run baseline.

    uv run python -m bench.run [--quick] [--only NAME ...] [--repeat N] [--profile] [--keep]

Nothing here asserts on time: the table says whether a target was met, and
bench/results/latest.json keeps the figures. The exit status is non-zero only when a
benchmark could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvloop
from schoolgate_kit.logging import configure_logging

from bench.common import Result, cpu_check, load_average, machine

RESULTS = Path(__file__).resolve().parent / "results"
Runner = Callable[[Path, argparse.Namespace], Awaitable[list[Result]]]


def _load(name: str) -> Any:
    """A benchmark's module, imported when it runs. The replay's worker processes import
    this module again (multiprocessing's spawn): with every benchmark imported up front,
    they started a second later."""
    return importlib.import_module(f"bench.{name}")


BENCHMARKS: dict[str, Runner] = {
    "append": lambda work, args: _load("append").run(work, quick=args.quick),
    "relay": lambda work, args: _load("relay").run(work, quick=args.quick),
    "replay": lambda work, args: _load("replay").run(work, quick=args.quick, profile=args.profile),
    "freshness": lambda work, args: _load("freshness").run(work, quick=args.quick),
    "gateway_awards": lambda work, args: _load("gateway_awards").run(work, quick=args.quick),
    "feed": lambda work, args: _load("feed").run(work, quick=args.quick),
    "import_roster": lambda work, args: _load("import_roster").run(work, quick=args.quick),
    "first_page": lambda work, args: _load("first_page").run(work, quick=args.quick),
    "messages": lambda work, args: _load("messages").run(
        work, quick=args.quick, profile=args.profile
    ),
    "notifications": lambda work, args: _load("notifications").run(work, quick=args.quick),
}


def _key_figure(run: list[Result]) -> Result:
    """The result a run is judged by: its first with a target, else its first."""
    return next((r for r in run if r.met is not None), run[0])


def median_run(runs: list[list[Result]]) -> list[Result]:
    """Of several runs of one benchmark, the median one, by the figure with a target (for
    an even count, the worse of the two in the middle), whole: its figures, baselines and
    details all come from that one run. Each of its results also lists every run's figure,
    in the order they ran."""
    if len(runs) == 1:
        return runs[0]
    key = _key_figure(runs[0])
    ordered = sorted(
        runs,
        key=lambda run: _key_figure(run).figure,
        reverse=not key.higher_is_better,  # worst first
    )
    chosen = ordered[(len(runs) - 1) // 2]
    for result in chosen:
        figures = [_figure(r.figure, r.unit) for run in runs for r in run if r.name == result.name]
        result.details = {
            f"runs ({len(runs)}), in order": ", ".join(figures),
            "reported run": f"the median by {key.name}",
            **result.details,
        }
    return chosen


def _figure(value: float, unit: str) -> str:
    if value != value:  # NaN
        return "n/a"
    if unit == "ms":
        return f"{value:,.1f} ms"
    return f"{value:,.0f} {unit}"


def _verdict(result: Result) -> str:
    return {True: "meets", False: "MISSES", None: ""}[result.met]


def _detail(value: float | int | str) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.3f}"
    if isinstance(value, int):
        return f"{value:,}"
    return value


def render(
    results: list[Result], errors: dict[str, str], info: dict[str, str | int | float]
) -> str:
    lines = [
        f"machine: {info['cores']} cores · {info['cpu']} · Python {info['python']}"
        f" · SQLite {info['sqlite']}",
        f"load average (1/5/15 min): {info['load_average_at_start']} at start,"
        f" {load_average()} at end",
        f"CPU check (ms for a fixed Python loop; lower is faster): {info['cpu_check_ms']:.0f}"
        f" at start, {cpu_check():.0f} at end; each benchmark's own is in its details",
        "",
    ]
    header = ("benchmark", "figure", "baseline (same run)", "ratio", "target", "")
    rows = [
        (
            r.name,
            _figure(r.figure, r.unit),
            _figure(r.baseline, r.unit),
            f"{r.ratio:.2f}x",
            r.target,
            _verdict(r),
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = (cell.ljust(w) for cell, w in zip(row, widths, strict=True))
        lines.append("  ".join(cells).rstrip())
    for name, error in errors.items():
        lines.append(f"{name.ljust(widths[0])}  FAILED: {error}")
    lines.append("")
    profiles: list[str] = []
    for r in results:
        lines.append(f"{r.name}: baseline = {r.baseline_label}")
        for key, value in r.details.items():
            if key == "profile":
                profiles.append(f"-- cProfile of a {r.name} run --\n{value}")
                continue
            lines.append(f"    {key}: {_detail(value)}")
    return "\n".join([*lines, *profiles])


async def run(args: argparse.Namespace, work: Path) -> tuple[list[Result], dict[str, str]]:
    results: list[Result] = []
    errors: dict[str, str] = {}
    for name in args.only or list(BENCHMARKS):
        try:
            runs = [await _run_once(name, attempt, args, work) for attempt in range(args.repeat)]
        except Exception as exc:  # a benchmark that cannot run says so once
            traceback.print_exc()
            errors[name] = f"{type(exc).__name__}: {exc}"
            continue
        results += median_run(runs)
    return results, errors


async def _run_once(name: str, attempt: int, args: argparse.Namespace, work: Path) -> list[Result]:
    of = f" ({attempt + 1} of {args.repeat})" if args.repeat > 1 else ""
    print(f"[bench] {name}{of}...", file=sys.stderr, flush=True)
    check = round(cpu_check(), 1)
    started = time.perf_counter()
    try:
        produced = await BENCHMARKS[name](work, args)
    finally:
        print(
            f"[bench] {name}{of} took {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
            flush=True,
        )
        if not args.keep:
            await _settle(work / name)
    for result in produced:
        result.details["cpu_check_ms_before"] = check
    return produced


async def _settle(files: Path) -> None:
    """The next benchmark starts on a quiet machine: this one's files gone and the disk
    flushed. The kernel wrote the replay's 700 MB log back for many seconds after it ended,
    and every fsync of the benchmark that ran next waited behind it."""
    shutil.rmtree(files, ignore_errors=True)
    await asyncio.to_thread(os.sync)
    gc.collect()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs (a smoke test)")
    parser.add_argument(
        "--only", action="append", choices=list(BENCHMARKS), help="run only this (repeatable)"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        metavar="N",
        help="run each benchmark N times in a row and report the median run (on a shared"
        " VM one run's figures can be off by a third either way)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="attach a cProfile of the replay path, and of the server in messages",
    )
    parser.add_argument("--keep", action="store_true", help="keep the working files")
    parser.add_argument("--workdir", type=Path, default=None, help="where working files go")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat takes a number of runs, 1 or more")

    configure_logging(development=False, level="WARNING")
    info: dict[str, str | int | float] = {**machine(), "cpu_check_ms": cpu_check()}
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="schoolgate-bench-", dir=args.workdir))
    try:
        # on uvloop, as the services' processes run (kit.runtime.run and uvicorn)
        results, errors = uvloop.run(run(args, work))
    finally:
        if args.keep:
            print(f"[bench] working files kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    seconds = time.perf_counter() - started

    mode = "quick" if args.quick else "full"
    repeated = f", the median of {args.repeat} runs each" if args.repeat > 1 else ""
    print(
        f"\nSchoolgate benchmarks ({mode} run{repeated},"
        f" {started_at:%Y-%m-%d %H:%M} UTC, {seconds:.0f} s)"
    )
    print(render(results, errors, info))
    RESULTS.mkdir(exist_ok=True)
    report = {
        "started_at": started_at.isoformat(),
        "mode": mode,
        "runs_per_benchmark": args.repeat,
        "seconds": seconds,
        "machine": {**info, "load_average_at_end": load_average()},
        "results": [r.as_json() for r in results],
        "errors": errors,
    }
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nresults: {RESULTS / 'latest.json'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
