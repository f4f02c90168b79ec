"""/attendance for committee members: a member, a branch or the whole tree below them, over a period."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import ContextTypes

from bot import texts
from bot.handlers.common import ChatContext
from storage.services import queries
from storage.services.actors import OrgTree
from storage.services.errors import InvalidInput

PERIOD_WORDS = ("本月", "上月", "本季度", "上季度", "今年", "去年")


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_period(word: str | None, now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a period word in the organisation's zone; the default is this quarter."""
    today = now.astimezone(zone).date()
    word = word or "本季度"
    if word == "本月":
        start = today.replace(day=1)
        end = _add_months(start, 1)
    elif word == "上月":
        end = today.replace(day=1)
        start = _add_months(end, -1)
    elif word == "本季度":
        start = _quarter_start(today)
        end = _add_months(start, 3)
    elif word == "上季度":
        end = _quarter_start(today)
        start = _add_months(end, -3)
    elif word == "今年":
        start, end = date(today.year, 1, 1), date(today.year + 1, 1, 1)
    elif word == "去年":
        start, end = date(today.year - 1, 1, 1), date(today.year, 1, 1)
    elif word.isdigit() and len(word) == 4:
        start, end = date(int(word), 1, 1), date(int(word) + 1, 1, 1)
    else:
        raise InvalidInput(f"无法识别的时间段“{word}”。" + texts.ATTENDANCE_USAGE)
    return (datetime(start.year, start.month, start.day, tzinfo=zone),
            datetime(end.year, end.month, end.day, tzinfo=zone))


async def attendance(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: ChatContext) -> None:
    args = list(context.args or [])
    period = next((a for a in args if a in PERIOD_WORDS or (a.isdigit() and len(a) == 4)), None)
    targets = [a for a in args if a != period]
    if len(targets) > 1:
        raise InvalidInput(texts.ATTENDANCE_USAGE)
    target = targets[0] if targets else None

    def work(session, actor, now):  # noqa: ANN001, ANN202
        start, end = parse_period(period, now, chat.zone)
        if target is None:
            return queries.attendance_report(session, actor, start=start, end=end)
        if target in OrgTree.load(session).id_by_code:
            return queries.attendance_report(session, actor, start=start, end=end, org_code=target)
        return queries.attendance_report(session, actor, start=start, end=end, member_no=target)

    report = await chat.as_member(update, work)
    await update.effective_message.reply_text(texts.attendance_report(report, chat.zone))
