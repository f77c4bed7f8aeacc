"""Waiting for eventually-consistent things in tests.

A test that reads a projection after a write waits for that write's position:
``until_projected(client, answer)`` reads ``x-schoolgate-position`` from the write's answer
(or takes the position an append returned) and asks the service's caught-up route, which
answers once every read model the service reads has taken in the log that far. ``until``
polls a predicate, for what is not a projection: a process starting, a metric, a file.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from schoolgate_kit.app import CAUGHT_UP_PATH, CAUGHT_UP_WITHIN, POSITION_HEADER
from schoolgate_kit.eventstore import AppendResult

GATEWAY_CAUGHT_UP_PATH = "/api/caught-up"
"""The gateway's: its own read models and every service's."""

Written = httpx.Response | AppendResult | int


async def until(
    check: Callable[[], Any | Awaitable[Any]],
    within: float = 30,
    every: float = 0.05,
    why: str = "",
) -> None:
    """Wait for a plain or async predicate to hold; fail saying ``why`` after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within}s: {why}")
        await asyncio.sleep(every)


def position_of(written: Written) -> int:
    """The global position a write reached: from its answer's header, an append's result,
    or as given. An answer without the header appended nothing, which a test waiting on it
    did not expect: that fails here rather than as a wait for nothing."""
    if isinstance(written, int):
        return written
    if isinstance(written, AppendResult):
        return written.position
    header = written.headers.get(POSITION_HEADER)
    if header is None or not header.isdigit():
        raise AssertionError(
            f"{written.request.method} {written.request.url.path} answered"
            f" {written.status_code} without {POSITION_HEADER}: it appended nothing"
            f" to wait for\n{written.text[:500]}"
        )
    return int(header)


def _params(written: Written, within: float) -> dict[str, str]:
    return {"position": str(position_of(written)), "within": str(within)}


def _check(answer: httpx.Response, written: Written) -> None:
    if answer.status_code != 200:
        raise AssertionError(
            f"read models did not reach position {position_of(written)}:"
            f" {answer.status_code} {answer.text[:1000]}"
        )


async def until_projected(
    client: httpx.AsyncClient | str,
    written: Written,
    *,
    path: str = CAUGHT_UP_PATH,
    within: float = CAUGHT_UP_WITHIN,
) -> None:
    """Wait until the service behind ``client`` (or at a base URL) has projected what
    ``written`` appended; ``path=GATEWAY_CAUGHT_UP_PATH`` for everything a gateway reads."""
    params = _params(written, within)
    if isinstance(client, str):
        async with httpx.AsyncClient(base_url=client, timeout=within + 10) as own:
            answer = await own.get(path, params=params)
    else:
        answer = await client.get(path, params=params, timeout=within + 10)
    _check(answer, written)


def until_projected_sync(
    client: httpx.Client | str,
    written: Written,
    *,
    path: str = CAUGHT_UP_PATH,
    within: float = CAUGHT_UP_WITHIN,
) -> None:
    """``until_projected`` for tests that call the service with a plain ``httpx.Client``."""
    params = _params(written, within)
    if isinstance(client, str):
        with httpx.Client(base_url=client, timeout=within + 10) as own:
            answer = own.get(path, params=params)
    else:
        answer = client.get(path, params=params, timeout=within + 10)
    _check(answer, written)
