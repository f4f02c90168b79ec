"""Hand a callback to an event loop from any thread (clock jumps and signals arrive on other threads)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


def call_on_loop(loop: asyncio.AbstractEventLoop | None, callback: Callable[..., Any], *args: Any) -> None:
    """Run `callback(*args)` on `loop`: at once when already on it, else thread-safely; nothing if the loop is gone."""
    if loop is None or loop.is_closed():
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        callback(*args)
    else:
        loop.call_soon_threadsafe(callback, *args)
