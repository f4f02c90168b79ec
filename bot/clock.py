"""The one source of "now" for the runtime: system time, a controllable clock for tests and the sandbox."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

from bot import texts

# Testing/sandbox aid: an ISO 8601 instant (with offset) at which `branchbot run` starts its clock.
# The clock then runs forward at normal speed from there. Never set it in production.
CLOCK_START_ENV = "BRANCHBOT_CLOCK_START"


class Clock(Protocol):
    """Tells the time; every reading is an aware UTC datetime."""

    def now(self) -> datetime: ...

    def on_change(self, callback: Callable[[datetime], None]) -> None:
        """Call `callback(new_now)` whenever the clock jumps (set/advance); real clocks never jump."""
        ...


def _require_aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: the clock only deals in aware datetimes")
    return moment.astimezone(timezone.utc)


class _Listeners:
    def __init__(self) -> None:
        self._callbacks: list[Callable[[datetime], None]] = []

    def on_change(self, callback: Callable[[datetime], None]) -> None:
        self._callbacks.append(callback)

    def _notify(self, moment: datetime) -> None:
        for callback in list(self._callbacks):
            callback(moment)


class SystemClock(_Listeners):
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class OffsetClock(_Listeners):
    """Real time shifted so that it read `start` when created; it runs at normal speed.

    Used when `BRANCHBOT_CLOCK_START` is set, so a `branchbot run` subprocess can live "in" a test's
    chosen moment while still letting real seconds pass.
    """

    def __init__(self, start: datetime) -> None:
        super().__init__()
        self._offset = _require_aware(start) - datetime.now(timezone.utc)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self._offset


class ManualClock(_Listeners):
    """A clock that only moves when told to (`set`, `advance`), optionally also ticking with real time.

    With `ticking=True` it behaves like `OffsetClock` between jumps, which is what the sandbox's time
    control wants; tests use the default (frozen) so nothing depends on wall-clock time.
    """

    def __init__(self, start: datetime, *, ticking: bool = False) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._base = _require_aware(start)
        self._ticking = ticking
        self._mark = time.monotonic()
        self._sleepers: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        with self._lock:
            if self._ticking:
                return self._base + timedelta(seconds=time.monotonic() - self._mark)
            return self._base

    def set(self, moment: datetime) -> datetime:
        with self._lock:
            self._base = _require_aware(moment)
            self._mark = time.monotonic()
            new_now = self._base
            sleepers, self._sleepers = self._sleepers, []
        for loop, moved in sleepers:
            loop.call_soon_threadsafe(_resolve, moved)
        self._notify(new_now)
        return new_now

    async def sleep(self, seconds: float) -> None:
        """Returns once this clock reads `seconds` later than now: when it is moved there (`set`, `advance`) or,
        ticking, when real time has carried it there. The injectable sleep of work timed by this clock (a frozen
        clock's sleeper waits for the test to move it, never for wall-clock time); like `asyncio.sleep`, it yields
        to the loop at least once."""
        due = self.now() + timedelta(seconds=max(seconds, 0.0))
        loop = asyncio.get_running_loop()
        await asyncio.sleep(0)
        while True:
            moved: asyncio.Future[None] = loop.create_future()
            with self._lock:
                self._sleepers.append((loop, moved))  # before reading the time: a move in between still wakes it
            left = (due - self.now()).total_seconds()
            try:
                if left <= 0:
                    return
                await asyncio.wait_for(moved, left if self._ticking else None)
            except asyncio.TimeoutError:
                pass
            finally:
                with self._lock:
                    if (loop, moved) in self._sleepers:
                        self._sleepers.remove((loop, moved))

    def advance(self, delta: timedelta | None = None, **units: float) -> datetime:
        """Move forward by `delta` or by keyword units (`days=1`, `minutes=30`)."""
        step = delta if delta is not None else timedelta(**units)
        if step < timedelta(0):
            raise ValueError("the clock does not run backwards")
        return self.set(self.now() + step)


def _resolve(moved: asyncio.Future[None]) -> None:
    if not moved.done():
        moved.set_result(None)


NOW_EXAMPLE = "2025-03-03T10:00:00+08:00"


class NowOptionError(ValueError):
    """A `--now` that is not a time; the message is the one Chinese line every command prints."""


def parse_now_option(text: str | None, zone: ZoneInfo, clock: Clock | None = None) -> datetime:
    """`--now` of every command, the one rule: absent (None), the clock's time in `zone`; ISO 8601 with an offset
    (or Z), that instant; without an offset, wall-clock time in `zone` (the organisation's zone, else the
    deployment's); anything else, NowOptionError."""
    if text is None:
        return (clock or SystemClock()).now().astimezone(zone)
    try:
        moment = datetime.fromisoformat(text.strip()) if text.strip() and not text.strip().isdigit() else None
    except ValueError:
        moment = None
    if moment is None:
        raise NowOptionError(texts.now_option_refusal(text, example=NOW_EXAMPLE))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


# The sandbox's time control expects this name.
SandboxClock = ManualClock


def parse_clock_start(start: str | None) -> datetime | None:
    """BRANCHBOT_CLOCK_START's value (read by `bot.settings`): an aware instant, or None when unset."""
    if not start:
        return None
    try:
        moment = datetime.fromisoformat(start)
    except ValueError as exc:
        raise ValueError(texts.clock_start_refusal(CLOCK_START_ENV, start)) from exc
    if moment.tzinfo is None:
        raise ValueError(texts.clock_start_without_offset(CLOCK_START_ENV, example="2025-03-14T09:00:00+08:00"))
    return moment


def clock_starting(start: datetime | None) -> Clock:
    """The one choice of `branchbot run`'s clock: system time, or an offset clock from `Settings.clock_start`
    (the sandbox's manual clock starts there too: `bot.sandbox.app.choose_start`)."""
    return SystemClock() if start is None else OffsetClock(start)
