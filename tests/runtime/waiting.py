"""Waiting in async tests for an observable state (a listener's flag, what a server received), never for time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

SAFETY_SECONDS = 60.0


async def until(condition: Callable[[], bool], what: str, *, timeout: float = SAFETY_SECONDS) -> None:
    """Polls `condition` on the running loop; the timeout is only a safety net and names `what` was awaited."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
