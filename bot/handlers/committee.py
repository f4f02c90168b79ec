"""/attendance for committee members: a member, a branch or the whole tree below them, over a period."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import ContextTypes

from bot import texts
from bot.handlers.common import ChatContext
from schedules.completion import Period, PeriodError, parse_period
from storage.services import queries
from storage.services.actors import OrgTree
from storage.services.errors import InvalidInput

DEFAULT_PERIOD = "本季度"


def _as_period(word: str, today: date) -> Period | None:
    try:
        return parse_period(word, today=today)
    except PeriodError:
        return None


def period_bounds(period: Period, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the period as aware moments in the organisation's zone."""
    return (datetime(period.start.year, period.start.month, period.start.day, tzinfo=zone),
            datetime(period.end.year, period.end.month, period.end.day, tzinfo=zone))


async def attendance(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    args = list(context.args or [])
    today = chat.clock.now().astimezone(chat.zone).date()
    periods = [(a, p) for a in args if (p := _as_period(a, today)) is not None]
    targets = [a for a in args if all(a != word for word, _ in periods)]
    if len(periods) > 1 or len(targets) > 1:
        raise InvalidInput(texts.ATTENDANCE_USAGE)
    period = periods[0][1] if periods else parse_period(DEFAULT_PERIOD, today=today)
    start, end = period_bounds(period, chat.zone)
    target = targets[0] if targets else None

    def work(session, actor, now):  # noqa: ANN001, ANN202
        if target is None:
            return queries.attendance_report(session, actor, start=start, end=end)
        if target in OrgTree.load(session).id_by_code:
            return queries.attendance_report(session, actor, start=start, end=end, org_code=target)
        return queries.attendance_report(session, actor, start=start, end=end, member_no=target)

    report = await chat.as_member(update, work)
    await update.effective_message.reply_text(texts.attendance_report(report, chat.zone))
