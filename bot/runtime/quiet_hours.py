"""Quiet hours (default 22:00–08:00 in the organisation's zone): when a reminder may be delivered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot import texts

# Configures quiet hours for everything that schedules reminders (`branchbot run`, `activity add`).
QUIET_HOURS_ENV = "BRANCHBOT_QUIET_HOURS"

# How long before quiet hours a reminder is placed when it cannot wait until they end.
BEFORE_QUIET_MARGIN = timedelta(minutes=1)


@dataclass(frozen=True)
class QuietHours:
    """A daily window in local time during which nobody is messaged; it may span midnight."""

    start: time = time(22, 0)
    end: time = time(8, 0)

    @classmethod
    def parse(cls, text: str) -> "QuietHours":
        """'22:00-08:00' → QuietHours (the variable's 'off' words are read by bot.settings.read_quiet_hours)."""
        begin, _, finish = text.replace("–", "-").partition("-")
        try:
            return cls(time.fromisoformat(begin.strip()), time.fromisoformat(finish.strip()))
        except ValueError:
            raise ValueError(texts.quiet_hours_refusal(text)) from None

    @property
    def enabled(self) -> bool:
        return self.start != self.end

    def contains(self, local: time) -> bool:
        if not self.enabled:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def window_around(self, moment: datetime, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
        """The quiet window (began, ends) containing `moment`, as aware datetimes; None when not quiet."""
        local = moment.astimezone(zone)
        if not self.contains(local.timetz().replace(tzinfo=None)):
            return None
        day = local.date()
        if self.start < self.end or local.time() >= self.start:
            began_day = day
        else:
            began_day = day - timedelta(days=1)
        began = datetime.combine(began_day, self.start, tzinfo=zone)
        ends_day = began_day if self.start < self.end else began_day + timedelta(days=1)
        ends = datetime.combine(ends_day, self.end, tzinfo=zone)
        return began, ends


DEFAULT_QUIET_HOURS = QuietHours()
NO_QUIET_HOURS = QuietHours(time(0, 0), time(0, 0))  # an empty window: nobody is ever held back


def deliverable_at(
    due: datetime, starts_at: datetime | None, zone: ZoneInfo, quiet: QuietHours = DEFAULT_QUIET_HOURS
) -> datetime:
    """When a reminder due at `due` may go out, for an activity starting at `starts_at`.

    Outside quiet hours: unchanged. Inside: moved to the end of quiet hours (08:00), unless that is at or
    after the activity's start — then a reminder after the fact is useless, so it moves to just before
    quiet hours began (21:59 the evening before), i.e. earlier rather than never.
    """
    window = quiet.window_around(due, zone)
    if window is None:
        return due
    began, ends = window
    if starts_at is None or ends < starts_at:
        return ends.astimezone(due.tzinfo)
    return (began - BEFORE_QUIET_MARGIN).astimezone(due.tzinfo)


def is_quiet(moment: datetime, zone: ZoneInfo, quiet: QuietHours = DEFAULT_QUIET_HOURS) -> bool:
    return quiet.window_around(moment, zone) is not None
