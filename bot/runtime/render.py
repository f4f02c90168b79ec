"""The one place where an outbox row becomes the text (and buttons) a person reads."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import texts
from schedules.audience import Audience, Part
from schedules.calendar import TENTATIVE_MARK
from storage import models
from storage.repositories import activities as activity_repo
from storage.repositories import outbox
from storage.repositories.outbox import ClaimedMessage
from storage.services.views import display_title
from storage.services import queries
from storage.services.actors import OrgTree, actor_from_member
from storage.services.audience import StoredAudience, target_of

_WEEKDAYS = "一二三四五六日"

# Extension points for the chat layer.
# Functions (session, row, activity) -> reply_markup or None, tried in order; the first non-None answer is
# attached to a reminder (e.g. ✅ 签到 / 📝 请假 buttons).
REPLY_MARKUP_PROVIDERS: list[Any] = []
# Renderers for outbox kinds the chat layer owns (roll summaries, group announcements …):
# kind -> (session, row, zone) -> (text, reply_markup | None). They take precedence over the built-in ones below.
RENDERERS_BY_KIND: dict[str, Callable[[Session, ClaimedMessage, ZoneInfo], tuple[str, Any]]] = {}


def format_moment(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local.month}月{local.day}日（周{_WEEKDAYS[local.weekday()]}）{local:%H:%M}"


def format_duration(minutes: int) -> str:
    """A lead time in words: 3天, 1小时, 30分钟."""
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}天"
    if minutes % 60 == 0:
        return f"{minutes // 60}小时"
    return f"{minutes}分钟"


def format_until(remaining: timedelta) -> str:
    """How far off the activity is when the reminder goes out: 3天后, 1小时后, 25分钟后, 1分钟后, 现在.

    Counted from the actual send, not from the lead: a reminder delivered late (after downtime, to a member
    bound late, out of quiet hours) must not say 3天后 for a meeting two days away. Rounded to the nearest
    minute, hour or day (half up), so a one-minute reminder sent 59 s before the start says 1分钟后; only less
    than half a minute (or an activity already begun) is 现在.
    """
    minutes = _half_up(remaining.total_seconds() / 60)
    if minutes < 1:
        return "现在"
    if minutes < 60:
        return f"{minutes}分钟后"
    hours = _half_up(minutes / 60)
    if hours < 24:
        return f"{hours}小时后"
    return f"{_half_up(minutes / (24 * 60))}天后"


def _half_up(value: float) -> int:
    """Round half up (Python's round() goes to even: 2.5 hours would read 2小时后)."""
    return math.floor(value + 0.5)


def _zone_for(session: Session, org_id: int | None, default: ZoneInfo) -> ZoneInfo:
    org = session.get(models.Organization, org_id) if org_id else None
    return activity_repo.org_zone(org, default) if org is not None else default


def _render_reminder(session: Session, row: ClaimedMessage, zone: ZoneInfo, now: datetime) -> tuple[str, Any]:
    activity = session.get(models.Activity, row.activity_id) if row.activity_id else None
    if activity is None:
        return row.payload.get("text", "提醒"), None
    org = session.get(models.Organization, activity.org_id)
    zone = activity_repo.org_zone(org, zone) if org is not None else zone
    if activity.member_id is not None and row.member_id is not None:
        personal = _render_personal_item(session, row, activity, org, zone)
        if personal is not None:
            return personal, None
    lines = [f"⏰ 活动提醒：{display_title(activity)}"]
    mark = TENTATIVE_MARK if activity.tentative else ""
    lines.append(f"时间：{format_moment(activity.starts_at, zone)}{mark}（{format_until(activity.starts_at - now)}）")
    if org is not None:
        lines.append(f"组织：{org.name}")
    if activity.place:
        lines.append(f"地点：{activity.place}")
    if activity.agenda:
        lines.append(f"议程：{activity.agenda}")
    if activity.moved_from:
        lines.append(f"（原定 {activity.moved_from.month}月{activity.moved_from.day}日，已调整）")
    digest = queries.supervision_digest(session, activity, row.member_id, zone)
    if digest is not None:
        lines.append(texts.supervision_digest(digest))  # the cycle's figures: the one completion computation
    if activity.tentative:
        lines.append("（暂定：当年节假日安排尚未公布，日期可能调整，调整时会另行通知）")
    if activity.kind == models.ActivityKind.MEETING.value:
        lines.append("请按时参加；如不能参加，请提前请假。")
    markup = None
    for provider in REPLY_MARKUP_PROVIDERS:
        markup = provider(session, row, activity)
        if markup is not None:
            break
    return "\n".join(lines), markup


def _render_personal_item(session: Session, row: ClaimedMessage, activity: models.Activity,
                          org: models.Organization | None, zone: ZoneInfo) -> str | None:
    """A political birthday is a greeting to its member on the day, and the "五个一" to the secretary at
    the start of the month (schedules.audience decides who is which); other per-member items read as
    reminders (None)."""
    recipient = session.get(models.Member, row.member_id)
    subject = session.get(models.Member, activity.member_id)
    if recipient is None or subject is None or subject.joined_on is None:
        return None
    target = target_of(activity)
    if target.audience is not Audience.MEMBER_AND_SECRETARY:
        return None
    part = StoredAudience(session, OrgTree.load(session)).part(actor_from_member(recipient), activity)
    day = activity.starts_at.astimezone(zone).date()
    joined = subject.joined_on
    years = day.year - joined.year
    if part is Part.SUBJECT:
        where = f"{org.name}" if org is not None else "党组织"
        return (f"🎂 {subject.name}同志，今天是您的政治生日！\n"
                f"{joined.year}年{joined.month}月{joined.day}日，您光荣地加入中国共产党，至今已 {years} 年。"
                f"{where}祝您政治生日快乐：不忘初心，牢记使命。")
    if part is Part.SECRETARY:
        items = session.scalars(select(models.ChecklistItem.label).where(
            models.ChecklistItem.activity_id == activity.id).order_by(models.ChecklistItem.position)).all()
        return texts.birthday_checklist_notice(subject.name, day, years, items)
    return None


def _render_missed_summary(session: Session, row: ClaimedMessage, zone: ZoneInfo) -> tuple[str, Any]:
    activity = session.get(models.Activity, row.activity_id) if row.activity_id else None
    title = display_title(activity) if activity else "活动"
    when = format_moment(activity.starts_at, _zone_for(session, activity.org_id, zone)) if activity else ""
    missed = row.payload.get("missed", [])
    names = "、".join(entry["name"] for entry in missed[:30])
    more = f" 等 {len(missed)} 人" if len(missed) > 30 else f"（共 {len(missed)} 人）"
    text = (
        f"⚠️ 系统停机期间，“{title}”（{when}）的部分提醒未能按时发出，已记为“错过”：\n"
        f"{names}{more}\n请视情况另行通知。"
    )
    return text, None


def _render_unreachable(session: Session, row: ClaimedMessage, zone: ZoneInfo) -> tuple[str, Any]:
    name = row.payload.get("name", "")
    member_no = row.payload.get("member_no", "")
    reason = row.payload.get("reason", "")
    why = "已屏蔽机器人" if reason == "blocked" else "的聊天已不可用"
    text = (
        f"⚠️ 党员 {name}（{member_no}）{why}，提醒无法送达。\n"
        "请当面或电话通知，必要时由书记代签；该党员重新与机器人对话后会自动恢复。"
    )
    return text, None


def render_outbox_message(
    session: Session, row: ClaimedMessage, zone: ZoneInfo, now: datetime | None = None
) -> tuple[str, Any | None]:
    """(text, reply_markup or None) for a claimed outbox row sent at `now` (default: when it was due)."""
    custom = RENDERERS_BY_KIND.get(row.kind)
    if custom is not None:
        return custom(session, row, zone)
    if row.kind == outbox.MISSED_SUMMARY:
        return _render_missed_summary(session, row, zone)
    if row.kind == outbox.UNREACHABLE_NOTICE:
        return _render_unreachable(session, row, zone)
    if row.kind == outbox.REMINDER:
        return _render_reminder(session, row, zone, now or row.due_at)
    return str(row.payload.get("text") or "通知"), None
