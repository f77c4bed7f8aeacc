"""Waiting for eventually-consistent things (projections, consumers) in tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any


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
