"""Waiting in tests for an observable state (a listener's flag, what a server received, a process's rows), never
for time: `until` in async tests, `wait_until` in sync ones (a real `branchbot run` process); the timeout of
either is only a safety net that names what was awaited."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable

SAFETY_SECONDS = 60.0
POLL_SECONDS = 0.02


async def until(condition: Callable[[], bool], what: str, *, timeout: float = SAFETY_SECONDS) -> None:
    """Polls `condition` on the running loop."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(POLL_SECONDS)


def wait_until(condition: Callable[[], bool], what: str, *, alive: subprocess.Popen | None = None,
               timeout: float = SAFETY_SECONDS) -> None:
    """Polls `condition` from this thread; with `alive`, a process that exits meanwhile fails the wait at once."""
    deadline = time.monotonic() + timeout
    while not condition():
        if alive is not None and alive.poll() is not None:
            raise AssertionError(f"branchbot run exited with {alive.returncode} while waiting for {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(POLL_SECONDS)
