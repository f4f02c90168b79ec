"""Monotonic seconds for the limiter's `monotonic`/`sleep` callables that move only when it sleeps or a test says so."""

from __future__ import annotations

import asyncio


class FakeTime:
    """Monotonic seconds that move only when the limiter sleeps or the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)
