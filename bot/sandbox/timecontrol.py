"""The sandbox's time control: run the controllable clock forward, stopping at every due moment on the way."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot import texts
from bot.clock import ManualClock
from schedules.recurrence import last_day_of_month
from storage.db import transaction
from storage.repositories import outbox

log = logging.getLogger(__name__)

# The page's tomorrow button lands at the start of a working morning; month-end just before the month turns.
MORNING = time(8, 0)
MONTH_END = time(23, 59)
# A jump never walks through more stops than this, so a runaway plan cannot hang the page.
MAX_STOPS = 2_000
# The page's next-reminder button looks this many due moments ahead for one that makes the bot say something.
MAX_NEXT_STOPS = 200


class Target(StrEnum):
    NEXT = "next"
    TOMORROW = "tomorrow"
    MONTH_END = "month_end"


def tomorrow_morning(now: datetime, zone: ZoneInfo) -> datetime:
    """08:00 local on the day after `now`'s local date."""
    local = now.astimezone(zone)
    day = local.date() + timedelta(days=1)
    return datetime.combine(day, MORNING, tzinfo=zone).astimezone(timezone.utc)


def end_of_month(now: datetime, zone: ZoneInfo) -> datetime:
    """23:59 local on the last day of `now`'s month, or of the next month when that moment has passed."""
    local = now.astimezone(zone)
    year, month = local.year, local.month
    for _ in range(2):
        moment = datetime.combine(last_day_of_month(year, month), MONTH_END, tzinfo=zone)
        if moment > local:
            return moment.astimezone(timezone.utc)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise AssertionError("unreachable: next month's end is always ahead")


# Other sources of due moments (the scheduler's timers) plug in as: given "after", the earliest moment or None.
DueSource = Callable[[datetime], datetime | None]


@dataclass(frozen=True, slots=True)
class AdvanceResult:
    now: datetime
    label: str
    stops: int  # how many due moments the jump stopped at on its way
    description: str  # Chinese, shown next to the clock


class TimeControl:
    """Moves the sandbox clock and lets the runtime do the work that fell due at every stop.

    A jump to tomorrow or the month's end walks through every due moment in order (reminder,
    summary, materialiser run …) instead of leaping over them, so the bot behaves as if the days
    really passed; otherwise the runtime would rightly treat the leap as downtime and record
    the skipped reminders as missed.
    """

    def __init__(
        self,
        clock: ManualClock,
        zone: ZoneInfo,
        session_factory: sessionmaker[Session],
        *,
        extra_sources: Iterable[DueSource] = (),
        settle: Callable[[datetime], Awaitable[None]] | None = None,
        settle_timeout: float = 10.0,
    ) -> None:
        self.clock = clock
        self.zone = zone
        self._sessions = session_factory
        self._sources: list[DueSource] = list(extra_sources)
        self._landmarks: list[DueSource] = []
        self._settle = settle
        self._settle_timeout = settle_timeout
        self._lock = asyncio.Lock()
        # Counts what people can see (the bot's messages); "next" keeps going until it changes.
        self.progress_probe: Callable[[], int] | None = None

    def add_source(self, source: DueSource, *, landmark: bool = False) -> None:
        """Another kind of due moment; a landmark (e.g. a check-in window opening) ends a next-reminder jump even
        when the bot says nothing there, because a person may act at that moment."""
        self._sources.append(source)
        if landmark:
            self._landmarks.append(source)

    def now(self) -> datetime:
        return self.clock.now()

    def label(self, moment: datetime | None = None) -> str:
        """The sandbox time as the page and its messages show it, in the words of chat (`texts.moment_with_year`);
        the page reads the machine time from the ISO `now` beside it (its <time datetime>)."""
        return texts.moment_with_year(moment or self.clock.now(), self.zone)

    def next_due(self, after: datetime) -> datetime | None:
        with transaction(self._sessions) as session:
            candidates = [outbox.next_due_at(session, after)]
        candidates += [self._ask(source, after) for source in self._sources]
        moments = [m for m in candidates if m is not None and m > after]
        return min(moments) if moments else None

    def _is_landmark(self, moment: datetime) -> bool:
        return any(self._ask(source, moment - timedelta(microseconds=1)) == moment for source in self._landmarks)

    @staticmethod
    def _ask(source: DueSource, after: datetime) -> datetime | None:
        try:
            return source(after)
        except Exception:  # noqa: BLE001 - a broken source must not freeze the clock
            log.exception("due-moment source failed")
            return None

    async def settle(self) -> None:
        """Waits until the runtime has handled what is due now (bounded, so a stuck send cannot hang the page).

        Without a `settle` callback there is no runtime to wait for, and the clock just moves.
        """
        if self._settle is None:
            return
        now = self.clock.now()
        try:
            await asyncio.wait_for(self._settle(now), self._settle_timeout)
        except asyncio.TimeoutError:
            log.warning("sandbox: the bot was still busy %.0f s after the clock moved", self._settle_timeout)
        except Exception:  # noqa: BLE001 - the clock has moved either way; the page must not break
            log.exception("sandbox: handling the work due at %s failed", now.isoformat())

    async def _step_to(self, moment: datetime) -> None:
        self.clock.set(max(moment, self.clock.now()))
        await self.settle()

    async def _step_past(self, due: datetime) -> None:
        # A whole second past the due moment, so timers that compare "due <= now" all fire.
        await self._step_to(due + timedelta(seconds=1))

    async def _next_visible(self, now: datetime) -> AdvanceResult:
        """Steps from due moment to due moment until the bot has said something (or nothing is left)."""
        seen = self.progress_probe() if self.progress_probe else None
        stops = 0
        while stops < MAX_NEXT_STOPS:
            moment = self.next_due(self.clock.now())
            if moment is None:
                break
            await self._step_past(moment)
            stops += 1
            if seen is None or self.progress_probe() != seen or self._is_landmark(moment):  # type: ignore[misc]
                return AdvanceResult(self.clock.now(), self.label(), stops, texts.sandbox_at_next(self.label()))
        if stops == 0:
            return AdvanceResult(now, self.label(now), 0, texts.SANDBOX_NOTHING_DUE)
        return AdvanceResult(self.clock.now(), self.label(), stops, texts.sandbox_at_quietly(self.label()))

    async def advance(self, target: Target | str) -> AdvanceResult:
        target = Target(target)
        async with self._lock:
            now = self.clock.now()
            if target is Target.NEXT:
                return await self._next_visible(now)
            goal = tomorrow_morning(now, self.zone) if target is Target.TOMORROW else end_of_month(now, self.zone)
            stops = 0
            while stops < MAX_STOPS:
                moment = self.next_due(self.clock.now())
                if moment is None or moment > goal:
                    break
                await self._step_past(moment)
                stops += 1
            await self._step_to(goal)
            text = texts.sandbox_at(target is Target.TOMORROW, self.label(), stops)
            return AdvanceResult(self.clock.now(), self.label(), stops, text)
