"""Every sentence a member, secretary or committee member reads in chat or from a command, and the formatting of values."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from schedules.period_text import period_text_exclusive
from schedules.calendar import TENTATIVE_MARK, OfficialCalendar
from schedules.timeparse import SCHEDULE_EXAMPLES
from schedules.weekdays import weekday_zh
from bot.reports.summary import org_summaries
from schedules.completion import PERIOD_FORMS_TEXT, BranchCompletion
from storage.models import AttendanceStatus
from storage.services.reports import MemberRecord, UnknownOrganizationError
from storage.services import activity_changes, queries, schedule_cards
from storage.services.tasks import TaskView
from storage.services.views import (
    ActivityView,
    BindingResult,
    CheckInResult,
    ConfirmResult,
    Invite,
    LeaveDecisionResult,
    LeaveRequest,
    LiveTally,
    MemberYear,
    Roll,
    RollEntry,
)

# --- buttons ------------------------------------------------------------------------------------------
BUTTON_CHECKIN = "✅ 签到"
BUTTON_LEAVE = "📝 请假"
BUTTON_START_CHAT = "💬 先和我开始对话"
BUTTON_APPROVE = "同意"
BUTTON_REJECT = "不同意"
BUTTON_HELD = "✅ 已召开"
BUTTON_NOT_HELD = "❌ 未召开"
BUTTON_TOPIC = "记录议题"
BUTTON_LECTURER = "记录主讲人"
BUTTON_MINUTES = "记录会议记录/照片"
BUTTON_PROXY = "代签"
BUTTON_MARK_LEAVE = "请假"  # beside a member's name on the roll: the secretary records their leave
BUTTON_MARK_ABSENT = "缺席"
BUTTON_CONFIRM_HELD = "✅ 确认召开"
BUTTON_REMIND = "🔔 提醒未答复的人"
BUTTON_SCHEDULE_CONFIRM = "✅ 确认"
BUTTON_SCHEDULE_CONFIRM_CANCEL = "✅ 确认取消活动"
# The card's other button drops the draft and says so; "✖️ 取消" under a /cancel card read as "cancel the activity".
BUTTON_SCHEDULE_DISCARD = "🚫 放弃，不做改动"
BUTTON_SCHEDULE_KEEP = "↩️ 不取消，保留活动"
BUTTON_SCHEDULE_EDIT = "✏️ 修改"
BUTTON_PROPOSAL_ACCEPT = "✅ 接受"
BUTTON_PROPOSAL_REJECT = "❌ 不要"

# --- commands (set_my_commands) ----------------------------------------------------------------------
MEMBER_COMMANDS = [
    ("upcoming", "我接下来的活动"),
    ("checkin", "为正在进行的活动签到"),
    ("leave", "请假"),
    ("me", "我的出勤与政治生日"),
    ("calendar", "我的活动日历（可导入手机日历）"),
    ("talk", "记录一次谈心谈话"),
    ("rectifications", "我负责的整改事项"),
    ("help", "使用说明"),
]
SECRETARY_COMMANDS = [
    ("plan", "本支部近期安排"),
    ("absent", "谁还没有答复"),
    ("invite", "为党员生成绑定码"),
    ("schedule", "安排一次活动"),
    ("reschedule", "调整活动时间"),
    ("cancel", "取消活动"),
    ("tasks", "待办任务（政治生日、转正、换届）"),
    ("rectify", "登记整改事项"),
    ("rectifications", "整改清单（进展、销号）"),
    ("talks", "谈心谈话进度"),
    ("report", "台账与出勤图表"),
]
COMMITTEE_COMMANDS = [("attendance", "出勤与三会一课完成情况"), ("report", "台账与出勤图表"),
                      ("rectify", "为下级支部登记整改事项"), ("rectifications", "整改清单")]

# --- general ------------------------------------------------------------------------------------------
GENERIC_ERROR = "抱歉，处理您的请求时出了点问题，我们已记录下来。请稍后再试。"
# The database is away or stalled: nothing was written; the member should simply try again.
DATABASE_BUSY = "系统繁忙，请稍后再试"
FORGED_BUTTON = "这个按钮无效或已过期，请使用最新的消息。"
PRIVATE_ONLY = "请在与我的私聊中使用这个命令。"
UNKNOWN_TEXT = "我没有听懂。发送 /help 查看可用的命令。"
START_WITHOUT_CODE = (
    "您好！我是党支部工作助手。\n"
    "请向支部书记索取绑定码，然后发送：/start 绑定码"
)
HELP = (
    "📖 使用说明\n"
    "/upcoming 我接下来的活动\n"
    "/checkin 为正在进行的活动签到\n"
    "/leave 请假（随后说明原因）\n"
    "/me 我今年的出勤、政治生日和待补学内容\n"
    "/calendar 我的活动日历（.ics，可导入手机日历）\n"
    "/talk 姓名 日期 [话题] 记录一次谈心谈话（不记录谈话内容）\n"
    "/rectifications 我负责的整改事项（可添加进展、照片和文件）\n"
    "/help 显示本说明\n"
    "收到活动提醒时，也可以直接点“✅ 签到”或“📝 请假”。"
)
HELP_SECRETARY = (
    "\n\n书记、副书记可用：\n"
    "/plan 本支部近几周的安排\n"
    "/absent 当前活动还有谁没答复（可一键提醒）\n"
    "/invite 党员编号 为党员生成绑定码\n"
    "/schedule 标题 时间 地点 安排一次活动\n"
    "/reschedule、/cancel 调整或取消活动\n"
    "/tasks 待办任务：政治生日“五个一”、转正、换届等，逐项勾选\n"
    "/rectify 登记整改事项（问题、来源、措施、责任人、时限）；/rectifications 整改清单与销号\n"
    "/talks 本支部谈心谈话进度（谁还需与谁谈话）\n"
    "发送年度计划文件（.docx、.pdf、.txt）：逐项列出计划要求的工作事项及依据，点 ✅ 接受后按计划提醒"
)
HELP_COMMITTEE = (
    "\n\n上级党组织委员可用：\n"
    "/attendance [组织编码|党员编号] [本月|本季度|今年] 出勤与三会一课完成情况\n"
    "/report [组织编码] [时间段] 台账（Excel）与出勤图表\n"
    "/rectify 支部编码 为下级支部登记整改事项；/rectifications 整改清单（可重新打开本组织提出的事项）\n"
    "/talks 支部编码 下级支部谈心谈话进度\n"
    "发送党委（党总支）的年度计划文件：逐项列出工作事项，接受后对所属各支部生效"
)


ACTIVITY_FALLBACK = "活动"  # an activity's title when the activity is gone
ACTIVITY_GONE = "这项活动已被删除。"


def day_with_weekday(value: date) -> str:
    """'3月15日（周六）': a day as every message, table and notice writes it (with the time: `moment`)."""
    return f"{day(value)}（{weekday_zh(value)}）"


def moment(value: datetime, zone: ZoneInfo) -> str:
    """'3月15日（周六）09:00'."""
    local = value.astimezone(zone)
    return f"{day_with_weekday(local)}{local:%H:%M}"


def moment_with_year(value: datetime, zone: ZoneInfo) -> str:
    """'2025年3月15日（周六）09:00': `moment` where the year is not obviously this one (the sandbox clock travels)."""
    return f"{value.astimezone(zone).year}年{moment(value, zone)}"


def moment_range(start: datetime, end: datetime | None, zone: ZoneInfo) -> str:
    """'3月12日（周三）15:00至17:00'; an end on another day is written in full; no end: the start alone."""
    if end is None:
        return moment(start, zone)
    if end.astimezone(zone).date() == start.astimezone(zone).date():
        return f"{moment(start, zone)}至{clock_time(end, zone)}"
    return f"{moment(start, zone)} 至 {moment(end, zone)}"


def clock_time(value: datetime, zone: ZoneInfo) -> str:
    return f"{value.astimezone(zone):%H:%M}"


def activity_card(activity: ActivityView, zone: ZoneInfo, mark: str = "📌", now: datetime | None = None) -> str:
    """An activity's card; given `now`, one that has begun and is not over says so, as a list's line does."""
    progress = IN_PROGRESS_MARK if now is not None and activity.in_progress(now) else ""
    lines = [f"{mark} {activity.label}", f"时间：{when(activity, zone)}{progress}"]
    if activity.place:
        lines.append(f"地点：{activity.place}")
    if activity.agenda:
        lines.append(f"议程：{activity.agenda}")
    lines.append(f"组织：{activity.org_name}")
    return "\n".join(lines)


def when(activity: ActivityView, zone: ZoneInfo) -> str:
    """An activity's time, marked （暂定） while its holiday notice is not in and it lies close to a holiday."""
    return moment(activity.starts_at, zone) + (TENTATIVE_MARK if activity.tentative else "")


IN_PROGRESS_MARK = "（进行中）"


def activity_line(activity: ActivityView, zone: ZoneInfo, now: datetime) -> str:
    """One line of a list of activities; one that has begun and is not over is marked （进行中）, so a meeting
    listed at a time already passed is not read as a mistake or as the next one to come."""
    place = f"，{activity.place}" if activity.place else ""
    progress = IN_PROGRESS_MARK if activity.in_progress(now) else ""
    return f"• {when(activity, zone)}{progress} {activity.label}{place}"


# --- binding ------------------------------------------------------------------------------------------
def welcome_back(name: str, activities: list[ActivityView], zone: ZoneInfo, now: datetime) -> str:
    """/start from a member who is already bound."""
    return f"您好，{name}同志！您已完成绑定。\n\n" + upcoming(activities, zone, now) + "\n\n发送 /help 查看可用的命令。"


def welcome(result: BindingResult, zone: ZoneInfo, now: datetime) -> str:
    text = f"欢迎您，{result.member_name}同志！您已绑定到{result.org_name}。"
    if result.next_activity:
        text += f"\n\n您接下来的活动：\n{activity_card(result.next_activity, zone, now=now)}"
    else:
        text += "\n\n近期没有需要您参加的活动。"
    return text + "\n\n发送 /help 查看可用的命令。"


def invite_created(invite: Invite, link: str | None, zone: ZoneInfo) -> str:
    text = (
        f"已为 {invite.member_name}（{invite.member_no}）生成绑定码：{invite.code}\n"
        f"有效期至 {moment(invite.expires_at, zone)}，只能使用一次。"
    )
    if link:
        text += f"\n请把这个链接发给本人：{link}"
    return text


INVITE_USAGE = "用法：/invite 党员编号（名册中的编号），例如 /invite 1009"


# --- check-in and leave -------------------------------------------------------------------------------
def checked_in(result: CheckInResult, now: datetime, zone: ZoneInfo) -> str:
    if result.already:
        return f"您已经签过到了：「{result.activity.label}」。"
    return f"✅ 签到成功：「{result.activity.label}」，{clock_time(now, zone)}。"


def checked_in_stamp(now: datetime, zone: ZoneInfo) -> str:
    return f"✅ 已签到（{clock_time(now, zone)}）"


def ask_leave_reason(activity: ActivityView) -> str:
    return f"📝 您要为「{activity.label}」请假。请直接回复一句话说明原因："


ASK_LEAVE_REASON_IN_PRIVATE = "请在私聊中说明请假原因，我已经给您发了消息。"
LEAVE_IN_PRIVATE_FIRST = "请先点击下方按钮和我开始对话，然后再请假。"


def leave_requested_stamp(request: LeaveRequest) -> str:
    return f"📝 已请假（原因：{request.reason}），等待书记审批"


def leave_submitted(request: LeaveRequest) -> str:
    who = "、".join(a.name for a in request.approvers) or "书记"
    return f"已提交请假：「{request.activity.label}」，原因：{request.reason}。{who}审批后会通知您。"


def leave_for_approval(member_name: str, activity: ActivityView, reason: str, zone: ZoneInfo) -> str:
    return (
        f"📝 请假申请\n{member_name} 申请不参加「{activity.label}」"
        f"（{moment(activity.starts_at, zone)}）\n原因：{reason}"
    )


LEAVE_WITHDRAWN = "（这条请假已不再需要审批：对方已签到或已撤回。）"


def confirm_nag(activity: ActivityView, zone: ZoneInfo) -> str:
    return f"⏰ 「{activity.label}」（{moment(activity.starts_at, zone)}）还没有确认是否召开，请确认。"


def confirm_escalation(org_name: str, title: str | None, starts_at: datetime | None, zone: ZoneInfo) -> str:
    when = moment(starts_at, zone) if starts_at else ""
    return f"⚠️ {org_name}的「{title or ACTIVITY_FALLBACK}」（{when}）已结束三天，支部仍未确认是否召开，请督促。"


def leave_already_decided(approved: bool) -> str:
    return f"（这条请假已经处理：{'已同意' if approved else '未同意'}。）"


def leave_decided_for_member(title: str, approved: bool, decided_by: str) -> str:
    verdict = "已同意" if approved else "未同意"
    tail = "" if approved else "请尽量按时参加，如有困难请直接联系书记。"
    return f"您为「{title}」的请假，{decided_by}{verdict}。{tail}"


def leave_decided_stamp(result: LeaveDecisionResult) -> str:
    return f"{'✅ 已同意' if result.approved else '❌ 未同意'}（{result.decided_by}）"


NO_OPEN_ACTIVITY = "现在没有正在签到的活动。发送 /upcoming 查看接下来的活动。"
NO_UPCOMING = "近期没有需要您参加的活动。"
CHOOSE_ACTIVITY_TO_CHECKIN = "现在有多项活动可以签到，请选择："
CHOOSE_ACTIVITY_TO_LEAVE = "请选择要请假的活动："


def upcoming(activities: list[ActivityView], zone: ZoneInfo, now: datetime) -> str:
    if not activities:
        return NO_UPCOMING
    return "🗓 您接下来的活动：\n" + "\n".join(activity_line(a, zone, now) for a in activities)


def my_year(year: MemberYear) -> str:
    lines = [f"👤 {year.name}（{year.org_name}）", f"{year.year}年出勤：应参加 {year.expected} 次，"
             f"出席 {year.present} 次，请假 {year.leave} 次，缺席 {year.absent} 次"]
    if year.political_birthday:
        month, day = year.political_birthday.split("-")
        lines.append(f"🎂 政治生日：{int(month)}月{int(day)}日")
    if year.party_age_years is not None:
        lines.append(f"党龄：{year.party_age_years} 年")
    if year.awaiting_confirmation:
        lines.append(f"另有 {year.awaiting_confirmation} 次活动待书记确认是否召开，确认后计入。")
    if year.owed:
        lines.append("需要补学：" + "、".join(f"「{title}」" for title in year.owed))
    else:
        lines.append("没有待补学的内容。")
    return "\n".join(lines)


# --- group announcement -------------------------------------------------------------------------------
def group_announcement(activity: ActivityView, tally: LiveTally, zone: ZoneInfo) -> str:
    return (
        f"{activity_card(activity, zone, mark='📣')}\n\n"
        f"签到时间：{moment(activity.checkin_opens_at, zone)} 至 {clock_time(activity.checkin_closes_at, zone)}\n"
        + group_tally(tally)
    )


# --- reminders -----------------------------------------------------------------------------------------
REMINDER_FALLBACK = "提醒"  # a reminder row whose activity is gone and that carries no text of its own
NOTICE_FALLBACK = "通知"  # a notice queued before notices carried facts, without a text of its own


def lead_time(minutes: int) -> str:
    """A lead time in words: 3天, 1小时, 30分钟."""
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}天"
    if minutes % 60 == 0:
        return f"{minutes // 60}小时"
    return f"{minutes}分钟"


def until(remaining: timedelta) -> str:
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


def reminder(title: str, starts_at: datetime, zone: ZoneInfo, now: datetime, *, tentative: bool,
             org_name: str | None, place: str | None, agenda: str | None, moved_from: date | None,
             digest: str | None, meeting: bool) -> str:
    """The private reminder of an activity, as it stands when the reminder is sent at `now`."""
    mark = TENTATIVE_MARK if tentative else ""
    lines = [f"⏰ 活动提醒：{title}", f"时间：{moment(starts_at, zone)}{mark}（{until(starts_at - now)}）"]
    if org_name is not None:
        lines.append(f"组织：{org_name}")
    if place:
        lines.append(f"地点：{place}")
    if agenda:
        lines.append(f"议程：{agenda}")
    if moved_from:
        lines.append(f"（原定 {moved_from.month}月{moved_from.day}日，已调整）")
    if digest is not None:
        lines.append(digest)
    if tentative:
        lines.append("（暂定：当年节假日安排尚未公布，日期可能调整，调整时会另行通知）")
    if meeting:
        lines.append("请按时参加；如不能参加，请提前请假。")
    return "\n".join(lines)


def birthday_greeting(name: str, joined: date, years: int, org_name: str | None) -> str:
    """To the member on their political birthday, from their organisation."""
    where = org_name if org_name is not None else "党组织"
    return (f"🎂 {name}同志，今天是您的政治生日！\n"
            f"{joined.year}年{joined.month}月{joined.day}日，您光荣地加入中国共产党，至今已 {years} 年。"
            f"{where}祝您政治生日快乐：不忘初心，牢记使命。")


def birthday_checklist_notice(name: str, day: date, years: int, items: Sequence[str]) -> str:
    """To the secretary at the start of the month: whose political birthday falls on which day, and the
    "五个一" the catalog lists for it (the activity's checklist, ticked in /tasks)."""
    lines = [f"📝 本月政治生日：{name}（{day.month}月{day.day}日，入党 {years} 周年）"]
    if items:
        lines.append("请按“五个一”清单落实：")
        lines += [f"{number}. {item}" for number, item in enumerate(items, 1)]
        lines.append("发送 /tasks 逐项勾选。")
    else:
        lines.append("请按“五个一”清单落实，发送 /tasks 逐项勾选。")
    return "\n".join(lines)


def announcement_changed(activity: ActivityView, operation: str, before: datetime, zone: ZoneInfo) -> str:
    """The correction posted to a group that saw an activity's announcement before it moved or was cancelled."""
    if operation == activity_changes.CANCEL:
        return f"📢 取消通知：原定 {moment(before, zone)} 的「{activity.label}」已取消，原通知作废。"
    place = f"，地点：{activity.place}" if activity.place else ""
    return (f"📢 改期通知：「{activity.label}」由 {moment(before, zone)} 改为 "
            f"{moment_range(activity.starts_at, activity.ends_at, zone)}{place}。原通知作废，签到以新通知为准。")


def stale_button(activity: ActivityView, zone: ZoneInfo) -> str:
    """What a button made before the activity moved or was cancelled answers (and stamps on its message)."""
    if activity.status == "cancelled":
        return f"⚠️ 此通知已过时：「{activity.label}」已取消。"
    if activity.status != "scheduled":
        return f"⚠️ 此通知已过时：「{activity.label}」已结束。"
    place = f"，地点：{activity.place}" if activity.place else ""
    return (f"⚠️ 此通知已过时：「{activity.label}」已改到 {moment(activity.starts_at, zone)}{place}。"
            f"签到时间：{moment(activity.checkin_opens_at, zone)} 至 {clock_time(activity.checkin_closes_at, zone)}。")


def group_tally(tally: LiveTally) -> str:
    return f"已签到 {tally.present} 人 · 请假 {tally.leave} 人 · 未答复 {tally.unanswered} 人"


def start_chat_first(bot_username: str | None) -> str:
    return "您还没有和我绑定。请先和我开始对话，按提示用绑定码绑定后再签到或请假。"


# --- secretary ----------------------------------------------------------------------------------------
def roll(result: Roll, zone: ZoneInfo) -> str:
    def names(entries) -> str:  # noqa: ANN001
        return "、".join(e.name for e in entries) or "无"

    leave_lines = [
        f"  {e.name}：{e.leave_reason or '未说明'}"
        f"{'（已同意）' if e.leave_decision == 'approved' else '（未同意）' if e.leave_decision == 'rejected' else ''}"
        for e in result.on_leave
    ]
    return "\n".join([
        f"📋 「{result.activity.label}」（{moment(result.activity.starts_at, zone)}）签到情况",
        f"已签到（{len(result.present)}）：{names(result.present)}",
        f"请假（{len(result.on_leave)}）：" + ("\n" + "\n".join(leave_lines) if leave_lines else "无"),
        f"未签到（{len(result.absent)}）：{names(result.absent)}",
    ] + ([f"其中无法联系（未绑定或已屏蔽，{len(result.unreachable)}）：{names(result.unreachable)}"]
         if result.unreachable else []))


def roll_closing(result: Roll, zone: ZoneInfo) -> str:
    text = roll(result, zone) + "\n\n签到已结束。请确认活动是否召开，并可记录议题、主讲人和会议记录。"
    silent = result.unanswered
    if silent:
        text += f"\n点“{BUTTON_HELD}”后，可为未答复的 {len(silent)} 人逐一代签、登记请假或记为缺席，再确认召开。"
    return text


def roll_members(result: Roll) -> str:
    """The card of those who have not answered, each with 代签 / 请假 / 缺席 (and, before the meeting is
    confirmed, the button that confirms it and records the rest absent)."""
    silent = result.unanswered
    if not silent:
        head = f"👥 「{result.activity.label}」的参加对象都已答复。"
    else:
        who = "、".join(e.name + ("（无法联系）" if not e.reachable else "") for e in silent)
        head = f"👥 「{result.activity.label}」未答复（{len(silent)}）：{who}"
    lines = [head]
    if result.not_present:
        lines.append("下列党员可由您代签或登记（记为由您登记，并留痕）。")
    if result.confirmable and silent:
        lines.append("确认召开时，仍未答复的记为缺席。")
    return "\n".join(lines)


def held_waiting(count: int) -> str:
    return f"还有 {count} 人未答复：请先代签、登记请假或记为缺席，再确认召开。"


def button_confirm_held(remaining: int) -> str:
    return f"{BUTTON_CONFIRM_HELD}（其余 {remaining} 人记为缺席）" if remaining else BUTTON_CONFIRM_HELD


def ask_marked_leave_reason(name: str, title: str) -> str:
    return f"请发送 {name} 不能参加「{title}」的请假原因（记为已准假）："


def marked(entry: RollEntry) -> str:
    if entry.status == "proxy":
        return proxy_done(entry.name)
    if entry.status == "leave":
        return f"已为 {entry.name} 登记请假，原因：{entry.leave_reason}。"
    return f"已将 {entry.name} 记为缺席。"


def attendance_recorded(title: str, when: str, status: str, by: str, *, held: bool) -> str:
    """To a member: what someone else recorded for them (the outbox row's facts, worded when sent)."""
    if status == "proxy":
        return f"✅ {by}已为您在「{title}」（{when}）代签出席。"
    if status == "leave":
        return f"📝 {by}已为您登记「{title}」（{when}）请假，已准假。"
    if status == "not_held":
        return f"「{title}」（{when}）已记录为未召开，不计出勤。"
    if held:
        return f"「{title}」（{when}）已确认召开，您的出勤记为缺席。如有误，请联系{by}。"
    return f"{by}已将您在「{title}」（{when}）的出勤记为缺席。如有误，请联系{by}。"


def confirmed(result: ConfirmResult, *, activity_id: int | None = None, when: str | None = None) -> str:
    """A confirmation's outcome. In chat (no `activity_id`) it is also the button's toast, which Telegram caps at
    200 characters: at most ten names, and the 代签 button to correct it. The CLI names the activity by its
    number and time, and everyone recorded absent."""
    named = f"「{result.activity.label}」"
    if activity_id is not None:
        named += f"（编号 {activity_id}，{when}）"
    if not result.held:
        return f"已记录{named}未召开。"
    if not result.marked_absent:
        return f"已确认{named}召开。"
    names = result.absent_names
    shown = names if activity_id is not None else names[:10]
    who = f"：{'、'.join(shown)}{'等' if len(shown) < len(names) else ''}" if names else ""
    correction = "" if activity_id is not None else f"如有人到场，可点“{BUTTON_PROXY}”改为出席。"
    return f"已确认{named}召开。{result.marked_absent} 人未答复，已记为缺席{who}。{correction}"


# What an activity's record holds besides the roll, by field (the chat's buttons and `activity record`).
ACTIVITY_FIELD_NAMES = {"topic": "议题", "lecturer": "主讲人", "minutes": "会议记录"}


def ask_activity_field(field: str, title: str) -> str:
    what = ACTIVITY_FIELD_NAMES[field] + ("（文字，或直接发送照片）" if field == "minutes" else "")
    return f"请发送「{title}」的{what}："


def activity_field_saved(activity: ActivityView) -> str:
    return f"已记录到「{activity.label}」。"


MINUTES_PHOTO_SAVED = "照片已保存到会议记录。可以继续发送，或发送文字记录。"


def proxy_done(name: str) -> str:
    return f"已为 {name} 代签。"


NOBODY_TO_PROXY = "没有需要代签的人。"


def reminded(count: int) -> str:
    return f"已安排提醒 {count} 位尚未答复的党员。" if count else "没有需要提醒的人：可联系的党员都已答复。"


def nudge(activity: ActivityView, zone: ZoneInfo) -> str:
    return f"🔔 书记提醒您：「{activity.label}」（{moment(activity.starts_at, zone)}）请签到或请假。"


def branch_plan(activities: list[ActivityView], zone: ZoneInfo, now: datetime) -> str:
    if not activities:
        return "本支部近四周没有安排的活动。"
    return "🗓 本支部近四周的安排：\n" + "\n".join(activity_line(a, zone, now) for a in activities)


# --- committee ----------------------------------------------------------------------------------------
ATTENDANCE_USAGE = queries.ATTENDANCE_USAGE

# --- /report and /calendar ---------------------------------------------------------------------------------
HELP_WORDS = ("help", "帮助")  # "/report 帮助": the usage instead of a report
REPORT_USAGE = (
    "用法：/report [组织编码] [时间段]\n"
    f"时间段可写：{PERIOD_FORMS_TEXT}；不写为今年以来。\n"
    "例：/report B01 上季度"
)
CALENDAR_USAGE = "用法：/calendar 获取本人的活动日历；/calendar 组织编码 获取本组织的活动日历（.ics，可导入手机日历）。"
REPORT_PRIVATE_ONLY = "台账含党员个人的出勤情况，请在与我的私聊中发送 /report。"
CALENDAR_PERSONAL_PRIVATE_ONLY = "个人日历请在与我的私聊中发送 /calendar 获取。"
ATTENDANCE_CHART_CAPTION = "按月出勤率"
COMPLETION_CHART_CAPTION = "三会一课完成情况"


def report_word_unknown(word: str) -> str:
    return f"无法识别“{word}”。\n{REPORT_USAGE}"


def ledger_file_name(org_code: str, first_day: date, last_day: date) -> str:
    return f"台账_{org_code}_{first_day:%Y%m%d}-{last_day:%Y%m%d}.xlsx"


def member_feed_name(name: str) -> str:
    return f"{name}的党组织活动"


def org_feed_name(org_name: str) -> str:
    return f"{org_name}活动安排"


def calendar_caption(owner: str, count: int) -> str:
    return f"{owner}的活动日历：用手机打开即可导入（共 {count} 项）。"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _verdicts(completion: BranchCompletion) -> str:
    text = (f"三会一课 完成 {completion.met}、补开 {completion.late}、未开展 {completion.missed}、"
            f"进行中 {completion.pending}")
    return text + (f"、无记录 {completion.no_record}" if completion.no_record else "")


def attendance_answer(answer: queries.AttendanceAnswer) -> str:
    """/attendance: the figures of `report attendance` and /report (bot.reports.summary), in a few lines."""
    title = period_text_exclusive(answer.period.start, answer.period.end)
    if answer.ambiguous is not None:
        return f"“{answer.ambiguous}”可能指以下几项，请点选：\n" + "\n".join(f"• {c.label}" for c in answer.choices)
    if answer.member is not None:
        return member_record_line(answer.member, title, answer.member_waiting)
    if answer.report is None:
        return f"📊 {title}：请选择要查看的组织：\n" + "\n".join(f"• {c.label}" for c in answer.menu)
    report = answer.report
    summaries = org_summaries(report)
    totals = BranchCompletion(report.root.code, *(sum(getattr(s.completion, k) for s in summaries)
                                                   for k in ("met", "late", "missed", "pending", "no_record")))
    ledger = report.ledger
    lines = [f"📊 {report.root.name}（{report.root.code}）{title}",
             f"合计：已召开会议 {len(ledger.meetings(held_only=True))} 次，出勤率 {percent(ledger.overall_rate())}；"
             + _verdicts(totals)]
    for summary in summaries:
        if summary.org.id == report.root.id and len(summaries) > 1:
            continue
        if len(summaries) > 1:
            lines.append(f"• {summary.org.name}（{summary.org.code}）：已召开会议 {summary.meetings_held} 次，"
                         f"出勤率 {percent(summary.attendance_rate)}；{_verdicts(summary.completion)}")
        if summary.gaps:
            lines.append(f"  ⚠️ 未开展：{'；'.join(summary.gaps)}")
    if answer.menu:
        lines.append("查看下级组织：" + "、".join(c.label for c in answer.menu))
    return "\n".join(lines)


def member_record_line(record: MemberRecord, title: str, waiting: int = 0) -> str:
    """One member's figures, as the ledger counts them (held meetings only)."""
    counts = record.counts()
    held = sum(counts.values())
    line = (f"👤 {record.member.name}（{record.member.member_no}，{record.org.name}）{title}：应参加 {held} 次，"
            f"出席 {counts['present'] + counts['proxy']} 次（含代签 {counts['proxy']} 次），请假 {counts['leave']} 次，"
            f"缺席 {counts['absent']} 次，出勤率 {percent(record.rate)}")
    return line + (f"；另有 {waiting} 次待书记确认" if waiting else "")


def supervision_digest(digest: queries.SupervisionDigest) -> str:
    """What a supervision step brings along: the period's 三会一课 figures and who has gaps (never ranked)."""
    summaries = [s for s in org_summaries(digest.report)
                 if s.org.type == "党支部" and (digest.branch_code is None or s.org.code == digest.branch_code)]
    totals = BranchCompletion("", *(sum(getattr(s.completion, k) for s in summaries)
                                    for k in ("met", "late", "missed", "pending", "no_record")))
    lines = [f"📊 {period_text_exclusive(digest.period.start, digest.period.end)}：{_verdicts(totals)}"]
    gaps = [f"⚠️ {s.org.name}：{'；'.join(s.gaps)}" for s in summaries if s.gaps]
    lines += gaps or ["✅ 三会一课均已按期开展或仍在期内。"]
    return "\n".join(lines)


# --- tasks --------------------------------------------------------------------------------------------
NO_TASKS = "目前没有待办任务。"
TASK_DONE = "已完成"
TASK_TICKED = "已勾选"
TASK_UNTICKED = "已取消勾选"
BUTTON_TASK_DONE = "✅ 已办结"


def task_card(task: TaskView, zone: ZoneInfo) -> str:
    # a planned per-member item's title already names its member ("政治生日：李四"); name them only where it does not
    who = f"（{task.member_name}）" if task.member_name and not task.title_names_member else ""
    lines = [f"📝 {task.activity.title}{who}", f"日期：{moment(task.activity.starts_at, zone)}"]
    if task.items:  # the items themselves are the buttons below: listed once, there
        ticked = sum(item.done for item in task.items)
        lines.append(f"清单：已完成 {ticked}/{len(task.items)} 项；点按下方一项勾选，再点一次取消勾选")
    if task.done:
        lines.append("✅ 已全部完成")
    return "\n".join(lines)


# /schedule, /reschedule, /cancel
SCHEDULE_USAGE = {
    activity_changes.NEW: "用法：/schedule 活动名称 时间 地点，例如 /schedule " + SCHEDULE_EXAMPLES[0],
    activity_changes.MOVE: "用法：/reschedule 活动名称 新时间 [地点]，例如 /reschedule 主题党日 下周五上午9点",
    activity_changes.CANCEL: "用法：/cancel 活动名称，例如 /cancel 主题党日",
}
SCHEDULE_HEADINGS = {activity_changes.NEW: "🗓 新活动", activity_changes.MOVE: "🔁 调整活动时间", activity_changes.CANCEL: "✖️ 取消活动"}
SCHEDULE_DISCARDED = "已放弃，没有做任何改动。"
SCHEDULE_KEPT = "已保留活动，没有取消。"
SCHEDULE_EDIT_PROMPTS = {
    activity_changes.NEW: "✏️ 请直接发送改正后的一句话（活动名称 时间 地点），例如：" + SCHEDULE_EXAMPLES[0],
    activity_changes.MOVE: "✏️ 请直接发送改正后的一句话（活动名称 新时间 [地点]），例如：主题党日 下周五上午9点",
}


def schedule_edit_prompt(edit: schedule_cards.EditRequest) -> str:
    """Asked at the bottom of the chat after ✏️ 修改: the corrected sentence, read like the command."""
    return f"{SCHEDULE_EDIT_PROMPTS[edit.operation]}\n当前：「{edit.title}」。发送后会给出新的确认卡。"


def schedule_unreadable(operation: str, message: str, examples: tuple[str, ...]) -> str:
    """The time parser's Chinese complaint, what works instead, and the command's usage."""
    return f"{message}\n例如：{'、'.join(examples or SCHEDULE_EXAMPLES)}\n{SCHEDULE_USAGE[operation]}"


def unknown_command(name: str, nearest: str | None) -> str:
    """The answer to a command the bot does not have."""
    guess = f"您要找的是不是 /{nearest}？\n" if nearest else ""
    return f"没有“/{name}”这个命令。{guess}发送 /help 查看全部命令。"


def schedule_year_question(starts_at: datetime, zone: ZoneInfo) -> str:
    """Asked above the card when the written date had passed this year and is read as next year's."""
    local = starts_at.astimezone(zone)
    return f"❓ 今年的这一天已经过去了。是指 {local.year}年{local.month}月{local.day}日 吗？是的话请按 ✅ 确认。"


def schedule_card(draft: schedule_cards.Draft, zone: ZoneInfo, reading: str | None = None) -> str:
    lines = [SCHEDULE_HEADINGS[draft.operation], f"活动：{draft.title}（{draft.org_name}）"]
    if draft.activity is not None and draft.operation == activity_changes.MOVE:
        lines.append(f"原定：{moment(draft.activity.starts_at, zone)}")
    if draft.starts_at is not None:
        lines.append(f"时间：{moment_range(draft.starts_at, draft.ends_at, zone)}")
    elif draft.activity is not None:
        lines.append(f"时间：{moment(draft.activity.starts_at, zone)}")
    if reading:
        lines.append(f"（时间理解为：{reading}）")
    if draft.place:
        lines.append(f"地点：{draft.place}")
    lines += list(draft.warnings)
    lines.append("请确认：")
    return "\n".join(lines)


def schedule_applied(applied: activity_changes.Change, zone: ZoneInfo) -> str:
    title, when = applied.activity.title, moment_range(applied.activity.starts_at, applied.activity.ends_at, zone)
    done = {
        activity_changes.NEW: f"✅ 已安排「{title}」：{when}。届时会提醒参加的党员。",
        activity_changes.MOVE: f"✅ 已将「{title}」改到 {when}。",
        activity_changes.CANCEL: f"✅ 已取消「{title}」。",
    }[applied.operation]
    if applied.told:
        done += f"已通知之前收到提醒的 {applied.told} 位党员。"
    return done


# --- 问题整改 (/rectify, /rectifications) and 谈心谈话 (/talk, /talks) --------------------------------------
BUTTON_RECTIFY_DONE = "完成"
BUTTON_RECTIFY_NOTE = "📝 添加进展"
BUTTON_RECTIFY_CLOSE = "✔️ 销号"
BUTTON_RECTIFY_REOPEN = "↩️ 重新打开"
RECTIFY_ASK_SOURCE = "第2步：请选择问题来源。"
RECTIFY_ASK_MEASURES = "第3步：请写出整改措施。"
RECTIFY_ASK_OWNERS = "第4步：请选择责任人（可多选），选好后点“完成”。"
RECTIFY_ASK_DEADLINE = "第5步：请写整改时限，例如：本月底前、6月30日前。"
RECTIFY_ASK_NOTE = "请发送整改进展：一句话、照片或文件都可以（可连续发送多张照片）。"
RECTIFY_ASK_EVIDENCE = "请用一句话写明销号依据（如：整改报告已报党委、制度已印发）。"
RECTIFY_ASK_REOPEN = "请写明重新打开的理由。"
NO_RECTIFICATIONS = "目前没有未销号的整改事项。"
TALK_USAGE = "用法：/talk 姓名 [日期] [话题]，例如：/talk 张三 12月5日 工作思想交流\n只记录谈话日期、双方和一句话题，不记录谈话内容。"


def day(value) -> str:  # noqa: ANN001 - a date
    return f"{value.month}月{value.day}日"


def rectification_named(item) -> str:  # noqa: ANN001 - rectification.ItemView
    return f"整改 #{item.id}「{item.problem}」"


def rectification_prompt(item, prompt: str) -> str:  # noqa: ANN001 - what a pressed item's button asks for
    return f"{rectification_named(item)}\n{prompt}"


def rectify_ask_problem(org_name: str) -> str:
    return f"📋 登记整改事项（{org_name}）\n第1步：请用一句话写出存在的问题。"


def rectify_step(draft) -> str:  # noqa: ANN001 - rectification.DraftView
    """The prompt for the draft's current step, with what was given so far."""
    if draft.step == "source":
        return f"问题：{draft.problem}\n{RECTIFY_ASK_SOURCE}"
    if draft.step == "measures":
        return f"来源：{draft.source}\n{RECTIFY_ASK_MEASURES}"
    if draft.step == "owners":
        chosen = "、".join(name for _, name, on in draft.candidates if on) or "（尚未选择）"
        return f"{RECTIFY_ASK_OWNERS}\n已选：{chosen}"
    if draft.step == "deadline":
        return RECTIFY_ASK_DEADLINE
    return rectify_ask_problem(draft.org_name)


def rectification_state(item, today) -> str:  # noqa: ANN001 - rectification.ItemView, date
    """An item's state in one word, for a table row or a sheet cell."""
    late = item.overdue_days(today)
    return "已销号" if not item.is_open else (f"逾期{late}天" if late else "整改中")


def rectification_card(item, today) -> str:  # noqa: ANN001 - rectification.ItemView, date
    lines = [f"📋 整改 #{item.id}（{item.org_name}）", f"问题：{item.problem}", f"来源：{item.source}",
             f"措施：{item.measures}", f"责任人：{item.owner_names}"]
    deadline = f"时限：{day(item.due_on)}（{item.deadline_text}）"
    late = item.overdue_days(today)
    lines.append(deadline + (f"，已逾期 {late} 天" if late else ""))
    progress = item.progress
    if progress:
        last = progress[-1]
        shown = last.text or ("照片" if last.kind == "photo" else "文件")
        lines.append(f"进展：{len(progress)} 条（最近：{last.member_name}：{shown}）")
    if item.raised_by_upper:
        lines.append(f"提出：上级党组织（{item.raised_by_code}）")
    if item.closed_at is not None:
        lines.append(f"✔️ 已销号（{item.closed_by}）：{item.evidence}")
    return "\n".join(lines)


def rectification_recorded(item, today) -> str:  # noqa: ANN001
    return "✅ 已登记。责任人会在时限前 7 天和 1 天收到提醒。\n\n" + rectification_card(item, today)


def rectification_answered(answered, today) -> str:  # noqa: ANN001 - rectification.Answered
    item = answered.item
    if answered.kind == "rectification_close":
        return f"✔️ 已销号：{rectification_named(item)}，依据：{item.evidence}"
    if answered.kind == "rectification_reopen":
        return f"↩️ 已重新打开：{rectification_named(item)}，已告知支部书记和责任人。"
    return f"✅ 已记录整改 #{item.id} 的进展（共 {len(item.progress)} 条）。"


def rectification_closed_notice(item) -> str:  # noqa: ANN001 - to the upper committee that raised it
    return (f"✔️ {item.org_name}已销号：{rectification_named(item)}\n销号人：{item.closed_by}；依据：{item.evidence}\n"
            "如整改不到位，可点“重新打开”并写明理由。")


def rectification_reopened_notice(item, reason: str) -> str:  # noqa: ANN001 - to the branch and the owners
    return (f"↩️ {rectification_named(item)}已被上级党组织（{item.raised_by_code}）重新打开\n理由：{reason}\n"
            f"时限：{day(item.due_on)}（{item.deadline_text}）。请继续整改，完成后由书记重新销号。")


def rectifications_header(count: int, *, shown: int) -> str:
    more = f"（显示前 {shown} 项，全部见 /report 台账的“整改清单”）" if count > shown else ""
    return f"📋 整改清单：共 {count} 项{more}"


def rectification_due(item, today) -> str:  # noqa: ANN001 - to an owner before the deadline
    left = (item.due_on - today).days
    when = "今天到期" if left <= 0 else f"还有 {left} 天"
    return (f"⏰ 整改提醒：「{item.problem}」\n时限：{day(item.due_on)}（{item.deadline_text}），{when}\n"
            f"措施：{item.measures}\n请点“添加进展”记录进展，书记核实后销号。")


def rectification_overdue(item, today) -> str:  # noqa: ANN001 - to the branch's secretary
    return (f"⚠️ 整改逾期：{item.org_name}「{item.problem}」\n时限：{day(item.due_on)}，已逾期 {item.overdue_days(today)} 天\n"
            f"责任人：{item.owner_names}\n进展：{len(item.progress)} 条。核实完成后请点“销号”并写明依据。")


def rectification_escalation(item, today) -> str:  # noqa: ANN001 - to the upper committee
    return (f"⚠️ 整改逾期已超过一周：{item.org_name}「{item.problem}」\n时限：{day(item.due_on)}，"
            f"已逾期 {item.overdue_days(today)} 天\n责任人：{item.owner_names}；来源：{item.source}\n请督促该支部整改。")


def rectification_supervision(org_name: str, overdue: dict, names: dict, today) -> str:  # noqa: ANN001
    """每季一督导: the overdue items per branch below the committee."""
    if not overdue:
        return f"📋 每季一督导（{org_name}）：各支部没有逾期未销号的整改事项。"
    lines = [f"📋 每季一督导（{org_name}）：逾期未销号的整改事项"]
    for org_id in sorted(overdue, key=lambda o: names.get(o, "")):
        lines.append(f"{names.get(org_id, '')}：{len(overdue[org_id])} 项")
        lines += [f"  · {i.problem}（时限{day(i.due_on)}，逾期 {i.overdue_days(today)} 天，责任人：{i.owner_names}）"
                  for i in overdue[org_id]]
    return "\n".join(lines)


def talk_recorded(recorded, me_id: int) -> str:  # noqa: ANN001 - talks.Recorded
    text = f"✅ 已记录：{day(recorded.held_on)}与{recorded.other.name}谈心谈话。"
    mine = recorded.coverage.owed_by(me_id)
    if mine is None:
        return text
    if not mine.owed:
        return text + f"\n{recorded.held_on.year}年您已与本支部全体党员谈过话。"
    return text + f"\n{recorded.held_on.year}年您还需与 {len(mine.owed)} 位同志谈话：" + "、".join(p.name for p in mine.owed)


def talk_progress(coverage) -> str:  # noqa: ANN001 - talks.Coverage
    lines = [f"💬 {coverage.org_name} {coverage.year}年谈心谈话进度"]
    for c in coverage.committee:
        if c.owed:
            owed = "、".join(p.name for p in c.owed)
            lines.append(f"{c.person.name}：已谈 {len(c.done)} 人，待谈 {len(c.owed)} 人（{owed}）")
        else:
            lines.append(f"{c.person.name}：已谈 {len(c.done)} 人，全部完成 ✅")
    if not coverage.committee:
        lines.append("本支部名册中没有支委。")
    return "\n".join(lines)


def talk_owed_reminder(year: int, owed) -> str:  # noqa: ANN001 - a sequence of talks.Person
    return _talks_owed(year, owed, f"💬 谈心谈话提醒（{year}年）\n今年您还没有与以下同志谈心谈话：")


def talk_year_start(year: int, owed) -> str:  # noqa: ANN001 - with the year's 谈心谈话 occurrence
    return _talks_owed(year, owed, f"💬 {year}年谈心谈话\n今年请与以下 {len(owed)} 位同志各谈心谈话至少一次：")


def _talks_owed(year: int, owed, head: str) -> str:  # noqa: ANN001
    """A committee member's talks still owed this year: `head`, the names, and how to record one."""
    if not owed:
        return f"💬 {year}年的谈心谈话您已全部完成，谢谢！"
    return head + "、".join(p.name for p in owed) + "\n谈过后请发送 /talk 姓名 日期，或点下面的按钮记录今天的谈话。"


def talk_held_button(name: str) -> str:
    return f"今天已与{name}谈话"


# ---- the command line (branchbot activity, leave, rectification …): what it prints ----------------------

def cli_error(message: object) -> str:
    """A refused or failed command's one line on stderr."""
    return f"错误：{message}"


REMIND_EXAMPLE = "3d,1d,1h,30m"
# `activity add|move --at` examples when the parser has none of its own for what it refused.
AT_EXAMPLES = ("2025-03-20T15:00+08:00", "2025-03-20 15:00", "下周三下午3点", "明天上午9点")
REMIND_EMPTY = f"--remind 为空：例如 {REMIND_EXAMPLE}"
CLI_ACTIVITY_UNNAMED = "请写明活动编号，或用 --org 和 --title 指明组织和活动名称"
CLI_TITLE_EMPTY = "--title 不能为空"
CLI_NO_REMINDERS = "该事项按目录不发提醒"
CLI_RECORD_NOTHING = "请至少给出 --topic、--lecturer 或 --minutes 之一"


# `branchbot --help` and every command's `--help` (bot.cli.build_parser), by command path and then option or
# argument ("activity add --at", "catalog accept PROPOSAL"); a help shared by several commands is under the first.
CLI_DESCRIPTION = "branchbot：把党组织年度计划中的经常性工作变成定时提醒、签到与台账。"
CLI_OUTPUT_HELP = "写入文件而不是标准输出"
CLI_AS_HELP = "以该党员的身份操作（按其职务检查权限）；不写则以系统操作员 cli:<用户名> 记入审计日志"
CLI_HELP = {
    "init": "创建或升级数据库结构（可重复执行）",
    "roster": "导入或导出组织与党员名册",
    "roster import": "导入名册：文件夹（organizations.csv、members.csv）或 .xlsx",
    "roster import --dry-run": "只检查并报告，不写入数据库",
    "roster export": "导出名册（格式同导入）",
    "plan": "显示一年的工作安排",
    "plan --org": "组织编码；默认全部组织",
    "plan --member": "党员编号：只看与该党员有关的安排",
    "run": "运行机器人与定时任务（未设置 TELEGRAM_BOT_TOKEN 时运行沙盒）",
    "sandbox": "在本机浏览器中体验完整的机器人（无需 Telegram）",
    "sandbox --no-demo": "数据库为空时也不载入演示名册",
    "invite": "为党员生成一次性绑定码和链接",
    "invite --days": "有效天数（默认 7 天）",
    "activity": "管理活动",
    "activity add": "新增临时活动或调整后的活动",
    "activity add --at": "时间：自然语言（如 下周三下午3点）或 ISO 8601",
    "activity add --remind": f"提前提醒，如 {REMIND_EXAMPLE}",
    "activity add --obligation": "对应的工作事项键，如 party_lecture",
    "activity move": "调整活动时间（已收到提醒的党员和支部群会收到改期通知）",
    "activity move --at": "新时间：自然语言（如 下周四下午2点半）或 ISO 8601；可写时间段",
    "activity move --remind": "新的提前提醒，如 1d,1h（不写则保留原来的）",
    "activity cancel": "取消活动（已收到提醒的党员和支部群会收到取消通知）",
    "doctor": "检查部署：数据库、令牌、Webhook、工作事项目录、日历覆盖、时区与免打扰时段",
    "doctor --offline": "不联系 Telegram（跳过令牌与 Webhook 检查）",
    "parse-time": "把一句中文时间解析为具体时刻",
    "parse-time --now": "以此时刻为“现在”（ISO 8601）",
    "parse-time --deadline": "按期限解读（本月底前、周五前、国庆节前），输出截止时刻",
    "calendar": "节假日安排：各年份的状态，导入国务院办公厅的通知",
    "calendar status": "各年份的节假日安排：正式（来源）、暂定或未知",
    "calendar status --from": "从哪一年起（默认去年）",
    "calendar status --to": "到哪一年（默认最后一个已知年份的下一年）",
    "calendar import": "读取《关于YYYY年部分节假日安排的通知》（文本文件或 .docx），显示解析结果；加 --write 写入",
    "calendar import NOTICE": "通知全文：文本文件或 .docx",
    "calendar import --write": "写入 config/holidays/YYYY.yaml（默认只试运行）",
    "calendar import --yes": "写入前不再询问确认",
    "report": "报表",
    "report attendance": "出勤与完成情况",
    "report attendance --org": "组织编码；包含其下属全部组织",
    "report attendance --from": "开始日期（如 2025-01-01），或单独给出时间段：2025、2025Q1、2025-03",
    "report attendance --to": "结束日期（含当天）；默认今天",
    "report attendance --output": CLI_OUTPUT_HELP + "（xlsx 必须指定）",
    "report attendance --chart": "同时写出出勤率图表（PNG）到此路径",
    "report attendance --completion-chart": "同时写出三会一课完成情况图表（PNG）到此路径",
    "report attendance --member": "党员编号：只看该党员（须属于 --org 及其下级组织）的出勤",
    "rectification": "问题整改（销号管理）：登记、查看、销号、导出",
    "rectification add": "登记整改事项",
    "rectification add --org": "整改的党支部编码",
    "rectification add --problem": "存在的问题",
    "rectification add --measures": "整改措施",
    "rectification add --owner": "责任人党员编号（可重复）",
    "rectification add --deadline": "整改时限，如 本月底前、6月30日前、2025-06-30",
    "rectification add --by": "登记人党员编号（本支部书记或上级党组织委员）",
    "rectification list": "列出整改事项",
    "rectification list --org": "组织编码；包含其下属全部支部",
    "rectification list --all": "包括已销号的事项",
    "rectification close": "销号（只有本支部书记、副书记或组织委员）",
    "rectification close ITEM": "整改事项编号",
    "rectification close --evidence": "销号依据",
    "rectification close --by": "销号人党员编号",
    "rectification export": "导出整改清单（xlsx）",
    "rectification export --output": "如 整改清单.xlsx",
    "catalog": "按年度计划文件提议并接受工作事项",
    "catalog propose": "读计划文件（.docx、.pdf、.txt、.md），列出对应的事项及依据",
    "catalog propose --org": "组织编码：对照该组织现在的设置（是否启用）",
    "catalog accept": "把提议写入组织的覆盖文件（显示改动，可重复执行）",
    "catalog accept PROPOSAL": "catalog propose 输出的 .json/.yaml，或计划文件本身",
    "catalog accept --org": "组织编码：写入 config/overrides/<组织编码>.yaml",
    "catalog accept --only": "只接受这些事项键（逗号分隔）；默认全部",
    "catalog accept --dry-run": "只显示改动，不写入",
    "activity confirm": "确认活动是否召开（召开时未答复的党员记为缺席，并通知本人）",
    "activity confirm --held": "已召开",
    "activity confirm --not-held": "未召开",
    "activity record": "记录活动的议题、主讲人或会议记录",
    "activity record --minutes": "会议记录（文字）",
    "activity proxy": "为党员代签，或登记请假、缺席（留痕，并通知本人）",
    "activity proxy --leave": "登记请假（记为已准假）及原因",
    "activity proxy --absent": "记为缺席",
    "activity roll": "签到情况：已签到、请假、未签到（含无法联系的党员）",
    "leave": "审批请假",
    "leave approve MEMBER_NO": "请假党员的编号",
    "activity move ACTIVITY_ID": "活动编号（或用 --org 和 --title 指明）",
    "activity move --title": "活动名称（包含即可）：该组织下一次待开展的同名活动",
}


def cli_source_help(sources: Iterable[str]) -> str:
    """`rectification add --source`: the sources a 整改 item may name (storage.models.RectificationSource)."""
    return "问题来源：" + "、".join(sources)


def cli_leave_decision_help(approved: bool) -> str:
    """`leave approve` and `leave refuse`."""
    return f"{BUTTON_APPROVE if approved else BUTTON_REJECT}党员的请假（通知本人）"


def remind_unreadable(part: str) -> str:
    return f"--remind 中的“{part}”无法识别：请用天（d）、小时（h）、分钟（m），例如 {REMIND_EXAMPLE}"


def time_unreadable(text: str, reason: str, examples: Sequence[str]) -> str:
    return f"无法确定时间“{text}”：{reason}\n{examples_line(examples)}"


def examples_line(examples: Sequence[str]) -> str:
    return "可以这样写：" + "、".join(examples)


def cli_reading(reading: str) -> str:
    """`parse-time`'s last line: how the text was read."""
    return f"理解为：{reading}"


def cli_time_unreadable(reason: str) -> str:
    return f"无法确定时间：{reason}"


def cli_schema_mismatch(problem: object) -> str:
    return f"{problem}。请检查 BRANCHBOT_DATABASE_URL 是否指向 branchbot 的数据库。"


def cli_schema_unreachable(shown_url: str, exc: Exception) -> str:
    return f"无法连接或升级数据库 {shown_url}：{exc.__class__.__name__}: {exc}"


def cli_schema_done(shown_url: str, change) -> str:  # noqa: ANN001 - storage.migrate.SchemaChange
    """What `init` did: the database, then adopted, created, upgraded or already current."""
    if change.adopted:
        done = f"已有的数据表与当前结构一致，已记录为版本 {change.after}。"
    elif change.before is None:
        done = f"已创建数据库结构（版本 {change.after}）。"
    elif change.changed:
        done = f"已将数据库结构从版本 {change.before} 升级到 {change.after}。"
    else:
        done = f"数据库结构已是最新（版本 {change.after}），无需改动。"
    return f"数据库：{shown_url}\n{done}"


def cli_note(message: object) -> str:
    """A warning on stderr that does not stop the command."""
    return f"注意：{message}"


def cli_invite_without_link(code: str) -> str:
    return f"（未能取得机器人用户名：请让本人在与机器人的私聊中发送 /start {code}）"


CLI_BOT_STOPPED = "机器人因错误停止，详情见上方日志。"


def obligation_unknown(key: str, keys: Sequence[str]) -> str:
    return f"--obligation “{key}”不是目录中的事项；可用：{'、'.join(keys)}"


def cli_org_unknown(code: str) -> str:
    return f"{UnknownOrganizationError(code)}；请先导入名册（branchbot roster import）"


def _numbered(activity) -> str:  # noqa: ANN001 - models.Activity
    """An activity as the command line names it: its title and the number the other commands take."""
    return f"{activity.title}（编号 {activity.id}）"


def cli_activity_added(activity, when: str) -> str:  # noqa: ANN001 - models.Activity
    return f"已新增活动：{_numbered(activity)}，时间 {when}"


def cli_activity_moved(activity, before: str, when: str) -> str:  # noqa: ANN001 - models.Activity
    return f"已调整活动：{_numbered(activity)}，由 {before} 改为 {when}"


def cli_activity_cancelled(activity, before: str) -> str:  # noqa: ANN001 - models.Activity
    return f"已取消活动：{_numbered(activity)}，原定 {before}"


def cli_time_reading(reading: str) -> str:
    return f"时间理解为：{reading}"


def cli_reminders_queued(count: int, leads: Sequence[int] = ()) -> str:
    """How many reminders were queued, and at which lead times when the command gave or chose them."""
    ahead = f"（提前 {'、'.join(lead_time(m) for m in leads)}）" if leads else ""
    return f"已安排提醒 {count} 条{ahead}"


def cli_told(told: int, corrected_groups: int) -> list[str]:
    """Who heard of a move or a cancellation: members already reminded, and branch groups corrected."""
    lines = []
    if told:
        lines.append(f"已通知之前收到提醒的 {told} 位党员")
    if corrected_groups:
        lines.append(f"已向 {corrected_groups} 个支部群发送更正")
    return lines


def cli_field_recorded(field: str, value: str) -> str:
    return f"已记录{ACTIVITY_FIELD_NAMES[field]}：{value.strip()}"


def cli_marked(status: AttendanceStatus, entry: RollEntry, title: str, activity_id: int) -> str:
    """`activity proxy`: 代签, a leave the operator records (approved), or absent."""
    name = f"{entry.name}（{entry.member_no}）"
    named = _quoted_numbered(title, activity_id)
    if status is AttendanceStatus.PROXY:
        return f"已为 {name}代签：{named}。"
    if status is AttendanceStatus.LEAVE:
        return f"已为 {name}登记请假（已准假），原因：{entry.leave_reason}：{named}。"
    return f"已将 {name}记为缺席：{named}。"


def cli_leave_decided(approved: bool, name: str, member_no: str, title: str, activity_id: int) -> str:
    verdict = "已同意" if approved else "已不同意"
    return f"{verdict} {name}（{member_no}）{_quoted_numbered(title, activity_id)}的请假。"


def _quoted_numbered(title: str, activity_id: int) -> str:
    return f"「{title}」（编号 {activity_id}）"


CLI_NO_RECTIFICATIONS = "没有整改事项。"


def cli_rectification_added(item, deadline: str) -> str:  # noqa: ANN001 - rectification.ItemView
    return f"已登记整改事项 #{item.id}：{item.problem}（{item.org_name}），责任人 {item.owner_names}，时限 {deadline}"


def cli_rectification_row(item, today: date) -> str:  # noqa: ANN001 - rectification.ItemView
    """`rectification list`: one tab-separated line per item."""
    return "\t".join((f"#{item.id}", item.org_name, item.problem, item.source, item.owner_names,
                      item.due_on.isoformat(), rectification_state(item, today)))


def cli_rectification_closed(item) -> str:  # noqa: ANN001 - rectification.ItemView
    return f"已销号：#{item.id} {item.problem}，依据：{item.evidence}"


CLI_MEMBER_REPORT_FORMATS = "--member 只支持 --format table 或 json"
CLI_XLSX_NEEDS_OUTPUT = "--format xlsx 需要 --output 文件路径（如 台账.xlsx）"
# What a command wrote, for written.
WRITTEN_RECTIFICATIONS = "整改清单"
WRITTEN_LEDGER = "台账"
WRITTEN_ATTENDANCE_CHART = "出勤率图表"  # the CLI's own words since #8, not the chat caption
WRITTEN_COMPLETION_CHART = f"{COMPLETION_CHART_CAPTION}图表"


def cli_report_unknown(kind: str) -> str:
    return f"不支持的报表 {kind}"


def written(path: object, what: str = "", count: int | None = None) -> str:
    """After a file was written: "已写入台账 台账.xlsx", "已写入整改清单 整改清单.xlsx（3 项）"."""
    return f"已写入{what} {path}" + (f"（{count} 项）" if count is not None else "")


def cli_day_unreadable(option: str, text: str) -> str:
    return f"{option} 应为日期，如 2025-03-05、2025/3/5 或 2025年3月5日，而不是“{text}”"


def cli_window_reversed(start: date, last: date) -> str:
    return f"--to（{last}）早于 --from（{start}）"


def cli_member_outside(member_no: str, org_code: str) -> str:
    return f"党员 {member_no} 不属于 {org_code} 及其下级组织"


def cli_hint(message: object) -> str:
    """A hint on stderr or stdout: what the command assumed, or what to do next."""
    return f"提示：{message}"


def file_missing(path: object) -> str:
    return f"找不到文件 {path}"


def file_missing_sentence(path: object) -> str:
    """`file_missing` ended as a sentence (`calendar import`'s refusal carries it whole)."""
    return file_missing(path) + "。"


def file_overwritten(path: object) -> str:
    return f"{path} 已存在，将被覆盖。"


def confirm_write(path: object) -> str:
    return f"写入 {path}？请输入 y 确认："


YES_WORDS = ("y", "yes", "是")
NOT_WRITTEN_WITHOUT_YES = "未写入。（非交互运行时请加 --yes 确认。）"

# `branchbot calendar`: the years' holiday arrangements and the State Council's notice.
CALENDAR_IMPORT_HINT = "通知发布后运行 branchbot calendar import 导入"
PACKAGE_SOURCES = {"chinesecalendar": "程序包 chinesecalendar", "holidays": "程序包 holidays"}
YEAR_UNKNOWN = "未知：不排期（需要该年的节假日安排通知）"
YEAR_PROVISIONAL = f"暂定：按法定节假日和周末排期，调休未公布（{CALENDAR_IMPORT_HINT}）"
CALENDAR_STATUS_HEADING = "节假日安排（各年份）："
NOTICE_TABLE_HEADERS = ("节日", "放假", "天数", "调休上班")


def year_line(calendar: OfficialCalendar, year: int) -> str:
    """One year's arrangement, 正式（来源）, 暂定 or 未知: "2026 年  正式（程序包 chinesecalendar）".
    A `doctor` finding, and (indented) a line of `calendar status`."""
    if not calendar.knows(year):
        state = YEAR_UNKNOWN
    elif calendar.is_provisional(year):
        state = YEAR_PROVISIONAL
    else:
        source = calendar.source_of(year)
        state = f"正式（{PACKAGE_SOURCES.get(source, f'文件 {source}')}）"
    return f"{year} 年  {state}"


def notice_heading(title: str) -> str:
    """`calendar import`'s first line: the notice's title as it is cited."""
    return f"《{title}》"


def notice_row(names: Sequence[str], first_day: date, last_day: date, days: int,
               makeup_workdays: Sequence[date]) -> tuple[str, str, str, str]:
    """One holiday of the notice: its names, the days off, how many, the 调休 workdays."""
    off = day_with_weekday(first_day) if days == 1 else f"{day_with_weekday(first_day)}至{day_with_weekday(last_day)}"
    workdays = "、".join(day_with_weekday(d) for d in makeup_workdays) or "—"
    return "、".join(names), off, str(days), workdays


def notice_not_text(path: object) -> str:
    return f"{path} 不是 UTF-8 或 GBK 编码的文本文件。"


def notice_refused(problem: object) -> str:
    return f"{problem}\n通知未导入，没有写入任何文件。"


def notice_against_package(name: str, differing: Sequence[date]) -> str:
    if not differing:
        return f"与{name}的数据逐日一致。"
    days = "、".join(day(d) for d in differing[:10])
    return cli_note(f"与{name}的数据有 {len(differing)} 天不一致（{days}），写入的文件将以通知为准。")


def notice_dry_run(target: object) -> str:
    return f"（试运行：未写入。确认无误后加 --write 写入 {target}。）"


def notice_file_invalid(problem: object) -> str:
    return f"生成的文件未通过检查，未写入：{problem}"


def notice_written(target: object, within: timedelta) -> str:
    """`within`: how often the running bot follows a changed configuration (its reconcile interval)."""
    return f"{written(target)}；运行中的机器人会在{_within(within)}内按正式安排重新排期，并通知各支部书记。"


ROSTER_EMPTY = "名册中还没有组织，请先运行 branchbot roster import 导入名册。"


def roster_unreadable(exc: Exception) -> str:
    return f"无法从数据库读取名册（{type(exc).__name__}）。请先运行 branchbot init 并导入名册。"


# `branchbot plan`: the year's schedule as a table.
PLAN_KINDS = {"meeting": "会议", "task": "任务", "notice": "通知"}
PLAN_TABLE_HEADERS = ("时间", "组织", "事项", "类型", "对象", "说明")
PLAN_EMPTY = "没有安排。"
MAKEUP_WORKDAY_MARK = "（调休上班）"


def plan_provisional(year: int) -> str:
    return (f"{year} 年的节假日安排通知尚未发布，本安排按法定节假日和周末暂定（标“{TENTATIVE_MARK}”的"
            f"临近节假日，通知发布后可能调整）。{CALENDAR_IMPORT_HINT}。")


def plan_next_year_unknown(year: int) -> str:
    return f"尚不知道 {year} 年的节假日安排，{year} 年元旦前的节假日廉政提醒未列入。"


def plan_org(name: str, code: str) -> str:
    """A `plan` row's organisation: its name (or code when the roster lacks it) and code."""
    return f"{name}（{code}）"


def plan_title(year: int, org_code: str | None) -> str:
    return f"{year} 年工作安排" + (f"（{org_code}）" if org_code else "")


def plan_heading(title: str, count: int) -> str:
    return f"{title}（共 {count} 项）"


def plan_month_heading(year: int, month: int, count: int) -> str:
    return f"{year}年{month}月（{count} 项）"


def plan_notes(moved_from: date | None, detail: str | None, checklist: Sequence[str]) -> str:
    """The 说明 cell: a holiday move, the entry's detail, its checklist."""
    notes = []
    if moved_from:
        notes.append(f"原定 {day(moved_from)}，遇节假日调整")
    if detail:
        notes.append(detail)
    if checklist:
        notes.append("清单：" + "、".join(checklist))
    return "；".join(notes)


# `branchbot catalog propose|accept`: a plan becomes an organisation's override.
# `catalog propose --format table` (bot/proposal_format.py lays it out; the chat's cards share 条目 and 依据).
PROPOSAL_OBLIGATIONS_HEADING = "一、对应目录事项"
PROPOSAL_NEW_HEADING = "二、目录中没有的经常性工作（接受前不启用）"
PROPOSAL_ACTIVITIES_HEADING = "三、一次性任务（可用 branchbot activity add 安排）"
PROPOSAL_NOTHING_FOUND = "计划中没有找到与工作事项目录对应的内容"  # the CLI ends it with 。, the chat says more
PROPOSAL_SECTIONS = "条目："
PROPOSAL_EVIDENCE = "依据"


def override_without_roster(org_code: str) -> str:
    return f"无法读取名册，按 {org_code} 没有上级组织的覆盖处理。"


def override_org_not_in_roster(org_code: str) -> str:
    return f"名册中没有组织 {org_code}，这份覆盖在导入该组织后才会生效。"


# Configuration naming an organisation the roster lacks (`Deployment.roster_problems`: `plan` and `run` refuse it,
# `doctor` lists it): an override file, a reports.yaml branch_comparison code.
def override_for_unknown_org(source_name: str, org_code: str) -> str:
    return f"{source_name}：名册中没有组织 {org_code}，这些覆盖不会生效（请改正文件名或先导入该组织）"


def comparison_for_unknown_org(reports_file: object, org_code: str) -> str:
    return f"{reports_file}，branch_comparison：名册中没有组织 {org_code}"


def document_unsupported(suffix: str, suffixes: Sequence[str]) -> str:
    return f"不支持 {suffix or '无扩展名'} 文件；请使用 {'、'.join(suffixes)}。"


def not_a_proposal(path: object, exc: Exception) -> str:
    return f"{path} 不是 branchbot catalog propose 输出的提议文件（{type(exc).__name__}）"


def override_unchanged(path: object) -> str:
    return f"无变化：{path} 已包含这份提议。"


def override_dry_run(path: object, count: int) -> str:
    return f"（试运行，未写入 {path}：{count} 项）"


def override_written(path: object, count: int, within: timedelta) -> str:
    """`within`: how often the running bot follows a changed configuration (its reconcile interval)."""
    return f"{written(path, count=count)}；运行中的机器人会在{_within(within)}内按新的设置重新安排。"


def _within(interval: timedelta) -> str:
    """How soon the running bot follows a written file, in words: whole minutes rounded up, at least 1分钟."""
    return lead_time(max(1, math.ceil(interval.total_seconds() / 60)))


# `branchbot roster import|export`.
ROSTER_STATUS_LABEL = "状态（重新转入）"  # a member's changed field when a transferred-out member is back
ROSTER_SUMMARY_COLUMNS = ("项目", "数量")
ROSTER_DRY_RUN = "试运行：数据库没有任何改动。"
ROSTER_UNCHANGED = "名册与数据库一致，没有改动。"


def roster_database_failed(shown_url: str, reason: str) -> str:
    return f"数据库 {shown_url} 出错，未做任何改动：{reason}"


def roster_refused(count: int) -> str:
    return f"名册有 {count} 处问题，未导入任何数据。"


def roster_exported(orgs: int, members: int) -> str:
    return f"已导出 {orgs} 个组织、{members} 名党员："


def roster_import_title(path: object, dry_run: bool) -> str:
    return f"名册导入{'（试运行，未写入数据库）' if dry_run else ''}：{path}"


def roster_summary_rows(summary) -> list[tuple[str, int]]:  # noqa: ANN001 - storage.roster_io.ImportSummary
    return [
        ("新增党员", len(summary.members_added)),
        ("信息变更的党员", len(summary.members_changed)),
        ("其中重新转入", len(summary.members_reactivated)),
        ("转出（不在新名册中，保留历史）", len(summary.members_transferred_out)),
        ("未变化的党员", summary.members_unchanged),
        ("新增组织", len(summary.orgs_added)),
        ("信息变更的组织", len(summary.orgs_changed)),
        ("删除的组织（不在新名册中）", len(summary.orgs_removed)),
        ("保留的组织（不在新名册中，但仍有记录引用）", len(summary.orgs_kept)),
        ("未变化的组织", summary.orgs_unchanged),
    ]


def roster_details(summary, member_labels: dict[str, str], org_labels: dict[str, str]) -> list[str]:  # noqa: ANN001
    """One line per changed, transferred, removed or kept row; fields named by the roster's column headers."""
    def fields(names: Sequence[str], labels: dict[str, str]) -> str:
        return "、".join(labels.get(name, name) for name in names)

    details = [f"变更 {c.member_no} {c.name}：{fields(c.fields, member_labels)}" for c in summary.members_changed]
    details += [f"转出 {member_no}" for member_no in summary.members_transferred_out]
    details += [f"变更组织 {c.code} {c.name}：{fields(c.fields, org_labels)}" for c in summary.orgs_changed]
    details += [f"删除组织 {code}" for code in summary.orgs_removed]
    details += [f"保留组织 {code}（不在新名册中，仍被引用，请核实）" for code in summary.orgs_kept]
    return details


def more_lines(count: int) -> str:
    return f"……另有 {count} 条"


# The environment's refusals (`bot.settings.Settings.from_env`: `branchbot run` refuses to start, `doctor` lists
# them): each names its variable and echoes the value it could not use.
def zone_variable_refusal(name: str, value: str) -> str:
    return f"{name} 无效：{value!r} 不是已知的时区名（例如 Asia/Shanghai）"


def number_variable_refusal(name: str, raw: str, *, zero_ok: bool, whole: bool) -> str:
    bound = "不小于 0 " if zero_ok else "大于 0 "
    return f"{name} 应为{bound}的{'整数' if whole else '数'}，而不是 {raw!r}"


def switch_variable_refusal(name: str, raw: str, words: Sequence[tuple[str, str]]) -> str:
    """`words`: the (on, off) pairs a switch takes (`bot.settings.SWITCH_WORDS`), the first one named first."""
    (on, off), *others = words
    synonyms = "、".join(f"{yes}/{no}" for yes, no in others)
    return f"{name} 应为 {on} 或 {off}（也可写 {synonyms}），而不是 {raw!r}"


def clock_start_refusal(name: str, value: str) -> str:
    return f"{name} 无效：{value!r} 不是带时区的 ISO 8601 时间"


def clock_start_without_offset(name: str, *, example: str) -> str:
    return f"{name} 必须带时区偏移，例如 {example}"


def quiet_hours_refusal(text: str) -> str:
    return f"免打扰时段“{text}”无法识别：应写作 22:00-08:00，或 off 表示不设"


def listen_address_refusal(name: str, value: str) -> str:
    return f"{name} 应为 主机:端口（例如 127.0.0.1:8443），而不是 {value!r}"


def webhook_url_refusal(name: str, url: str) -> str:
    return f"{name} 应为完整的 https:// 地址，而不是 {url!r}"


def webhook_secret_missing(name: str) -> str:
    return f"Webhook 模式必须设置 {name}（1–256 个字符，只含 A-Z a-z 0-9 _ -），每个请求都会核对它"


def now_option_refusal(text: str, *, example: str) -> str:
    """`--now` of every command (`bot.clock.parse_now_option`)."""
    return f"--now “{text}”不是 ISO 8601 时间，例如 {example}（不带时区偏移时按组织所在时区理解）"


def variable_refusals(refusals: Iterable[str]) -> str:
    """Every bad variable's refusal in the one line a command prints."""
    return "；".join(refusals)


# `branchbot doctor`: one line per check, "[level] topic  finding".
DOCTOR_OK, DOCTOR_ATTENTION, DOCTOR_FAILED = "正常", "注意", "错误"
DOCTOR_ENVIRONMENT = "环境变量"
DOCTOR_CONFIG = "配置"
DOCTOR_ZONE = "时区"
DOCTOR_TOKEN = "令牌"
DOCTOR_DATABASE = "数据库"
DOCTOR_CATALOG = "工作事项目录"
DOCTOR_ORG_CONFIG = "单位配置"
DOCTOR_ROSTER = "名册"
DOCTOR_CALENDAR = "节假日日历"
DOCTOR_QUIET_HOURS = "免打扰时段"
DOCTOR_WEBHOOK = "Webhook"
DOCTOR_ALL_PASSED = "全部检查通过。"
DOCTOR_OFFLINE = "已跳过（--offline）：未检查令牌与 Webhook"
DOCTOR_ROSTER_EMPTY = "名册中还没有组织：请运行 branchbot roster import"
DOCTOR_QUIET_OFF = "已关闭"
DOCTOR_NO_TOKEN = "未设置 TELEGRAM_BOT_TOKEN：branchbot run 将启动沙盒"
DOCTOR_POLLING = "未设置（轮询模式）"


def doctor_line(level: str, topic: str, width: int, text: str) -> str:
    """Topics padded with full-width spaces to `width` characters, so the findings line up."""
    return f"[{level}] {topic.ljust(width, '　')}  {text}"


def doctor_problems(count: int) -> str:
    return f"共 {count} 项需要处理。"


def doctor_zone(zone_name: str, local_now: datetime) -> str:
    return f"{zone_name}（本地时间 {local_now:%Y-%m-%d %H:%M}）"


def doctor_database(shown_url: str, revision: str | None) -> str:
    return f"{shown_url} 可连接，结构版本 {revision or '（未记录版本，表结构已存在）'}"


def doctor_catalog(config_dir: object, count: int) -> str:
    return f"{config_dir}：{count} 项工作事项"


def doctor_quiet_hours(start, end) -> str:  # noqa: ANN001 - datetime.time
    return f"{start:%H:%M}–{end:%H:%M}（其间的提醒顺延）"


def doctor_bot(username: str | None, first_name: str) -> str:
    return f"@{username}（{first_name}）"


def doctor_webhook_while_polling(url: str) -> str:
    return f"已设置 Webhook {url}，但本机配置为轮询：轮询会得到 409 冲突"


def doctor_webhook_elsewhere(recorded: str | None, configured: str) -> str:
    return f"Telegram 记录的地址为 {recorded or '（无）'}，配置为 {configured}：启动 branchbot run 后会重新设置"


def doctor_webhook_failing(url: str, error: str) -> str:
    return f"{url}：最近一次投递失败：{error}"


def doctor_webhook(url: str, pending: int) -> str:
    return f"{url}（待投递 {pending} 条）"


# `bot/cli.py`: what every command may answer before or after its own work.
def database_unreachable(shown_url: str, exc: Exception) -> str:
    return f"无法连接数据库 {shown_url}（{type(exc).__name__}），请检查 BRANCHBOT_DATABASE_URL 与数据库服务。"


def database_uninitialised(shown_url: str, *, roster_too: bool = False) -> str:
    """No schema yet; `roster_too` where the command also needs a roster (`roster export`)."""
    return f"数据库 {shown_url} 尚未初始化，请先运行 branchbot init{' 并导入名册' if roster_too else ''}。"


def schema_older(current: str | None, head: str | None) -> str:
    return f"数据库结构版本过旧（{current}，本程序需要 {head}），请先运行 branchbot init 升级。"


def schema_newer(current: str | None) -> str:
    return f"数据库结构版本 {current} 比本程序新，请升级 branchbot 后再运行。"


def database_failed(shown_url: str, exc: Exception, log_path: object) -> str:
    return _not_done(f"数据库 {shown_url} 出错", exc, log_path)


def unexpected_failure(exc: BaseException, log_path: object) -> str:
    return _not_done("意外错误", exc, log_path)


def _not_done(what: str, exc: BaseException, log_path: object) -> str:
    return f"{what}（{type(exc).__name__}），未完成操作；详情已写入 {log_path}"


def error_log_unwritable(path: object) -> str:
    return f"（无法写入日志文件 {path}）"


# ---- the deployment's configuration files (bot/deployment.py): one line per problem, naming the file -------
def config_problems(problems: Sequence[str]) -> str:
    """`DeploymentError`: one problem on the line, several listed beneath."""
    if len(problems) == 1:
        return f"配置有误：{problems[0]}"
    return "配置有误：\n" + "\n".join(f"  - {p}" for p in problems)


def config_unreadable(path: object, reason: str) -> str:
    return f"{path}：无法读取（{reason}）"


def config_not_utf8(path: object, position: int, byte: int) -> str:
    """`position` counts from 1; `byte` is the one that does not decode."""
    return f"{path}：不是 UTF-8 编码的文本（第 {position} 个字节 0x{byte:02X} 无法解码），请另存为 UTF-8"


def catalog_file_missing(path: object) -> str:
    return f"{path}：找不到工作事项目录文件"


def lexicon_file_missing(path: object) -> str:
    return f"{path}：找不到计划词表文件"


# config/reports.yaml (bot.reports.settings.parse_report_settings)
def reports_settings_not_mapping(source_name: str) -> str:
    return f"{source_name}：应为键值对，例如 branch_comparison: [D01]"


def reports_settings_unknown_fields(source_name: str, fields: Sequence[str]) -> str:
    return f"{source_name}：不认识的字段 {'、'.join(fields)}（可用：branch_comparison）"


def reports_settings_codes_not_list(source_name: str) -> str:
    return f"{source_name}：branch_comparison 应为组织编码列表，例如 [D01, D02]"


# ---- the sandbox (`branchbot sandbox`: the bot in a browser page) -----------------------------------------
SANDBOX_NOTHING_DUE = "没有待发送的提醒或待执行的任务。"
SANDBOX_DATABASE_BUSY = "另一个沙盒（或 branchbot run）正在使用这个数据库；请先停止它，或设置另一个 BRANCHBOT_DATABASE_URL"


def sandbox_seats(seats: Sequence[str]) -> str:
    """The seats shown beside a person's name in the sandbox's list (bot.sandbox.people)."""
    return "、".join(seats)


def sandbox_group_title(org_name: str) -> str:
    """A branch's group chat as the sandbox names it."""
    return f"{org_name}群"
SANDBOX_STOP_HINT = "按 Ctrl-C 停止。 Press Ctrl-C to stop."
SANDBOX_STOPPING = "正在停止沙盒… Stopping the sandbox…"


def sandbox_at_next(label: str) -> str:
    return f"已到下一个提醒时刻：{label}"


def sandbox_at_quietly(label: str) -> str:
    return f"已到 {label}，途中没有新的消息。"


def sandbox_at(tomorrow: bool, label: str, stops: int) -> str:
    """After a jump to tomorrow morning or the month's end: where the clock is and what fell due on the way."""
    where = "明天早上" if tomorrow else "月底"
    return f"已到{where}（{label}），途中处理了 {stops} 个到期时刻。"


def sandbox_not_sent(problem: object) -> str:
    return f"无法发送：{problem}"


def sandbox_button_gone(problem: object) -> str:
    return f"这个按钮已不可用：{problem}"


def sandbox_file_not_sent(problem: object) -> str:
    return f"无法发送文件：{problem}"


def sandbox_database_failed(url: str, problem: object) -> str:
    return f"无法准备沙盒数据库 {url}：{problem}"


def sandbox_real_database(where: object, real: int) -> str:
    return (f"{where} 中有 {real} 个真实 Telegram 账号的绑定，看起来是正式数据库；"
            "沙盒会拨动时钟并发送提醒，不能在它上面运行。请把 BRANCHBOT_DATABASE_URL 设为另一个 SQLite 文件。")


def sandbox_demo_refused(problem: object) -> str:
    return f"演示名册无法导入：\n{problem}"


def sandbox_port_taken(port: int, reason: str | None) -> str:
    return f"端口 {port} 已被占用或不可用（{reason}）；请用 --port 指定其他端口，或 --port 0 自动选择"


def sandbox_started(url: str, database: object, clock: str, zone_name: str) -> list[str]:
    """The first lines `branchbot sandbox` prints: the address (in Chinese and English), the database, the clock."""
    return [
        f"branchbot 沙盒已启动，请在浏览器中打开：{url}",
        f"branchbot sandbox is running; open {url} in a browser",
        f"沙盒数据库：{database}（拨动沙盒时钟只影响这个数据库）",
        f"沙盒时间：{clock}（{zone_name}）",
    ]


def sandbox_demo_loaded(orgs: int, members: int, source: object) -> str:
    return f"已载入演示名册：{orgs} 个组织、{members} 名党员（{source}）"


def sandbox_not_sqlite(shown_url: str) -> str:
    return f"BRANCHBOT_DATABASE_URL（{shown_url}）不是 SQLite，沙盒不会在正式数据库上运行，已改用上面的沙盒数据库。"


# What the sandbox page's requests are refused with (shown on the page).
PAGE_FILE = "文件"  # a document sent without a name
PAGE_PRIVATE_CHAT = "与机器人的私聊"
PAGE_NOT_IN_CHAT = "此人不在这个聊天中"
PAGE_NO_USER = "缺少或无效的用户编号（user）"
PAGE_UNKNOWN_PERSON = "名单中没有这个人"
PAGE_NOT_JSON = "请求体不是 JSON"
PAGE_NOT_JSON_OBJECT = "请求体应为 JSON 对象"
PAGE_EMPTY_MESSAGE = "消息不能为空"
PAGE_NOT_MULTIPART = "请以 multipart/form-data 上传文件"
PAGE_NO_FILE = "缺少文件"
PAGE_EMPTY_FILE = "文件是空的"
PAGE_NO_BUTTON_DATA = "缺少按钮数据"
PAGE_BAD_TARGET = "to 应为 next、tomorrow 或 month_end 之一"


def page_field_missing(name: str) -> str:
    return f"缺少字段 {name}"


def page_field_not_integer(name: str) -> str:
    return f"字段 {name} 应为整数"


def page_message_too_long(limit: int) -> str:
    return f"消息太长（最多 {limit} 个字符）"


def page_caption_too_long(limit: int) -> str:
    return f"说明太长（最多 {limit} 个字符）"


def page_already_bound(name: str) -> str:
    return f"{name} 已经绑定"


# ---- talking to the Bot API (branchbot run, doctor, invite): one sentence, never the token ----

# How `bot.runtime.sending.shown_address` shows a Bot API address with neither scheme nor host.
EMPTY_ADDRESS = "（空）"
TELEGRAM_TOKEN_REJECTED = "Telegram 拒绝了机器人令牌：请检查 TELEGRAM_BOT_TOKEN 是否正确、是否已被撤销（可向 @BotFather 查看）。"


def telegram_unreachable(address: str) -> str:
    return f"无法连接 Bot API 地址 {address}：请检查网络，以及 TELEGRAM_API_BASE_URL（未设置时为 Telegram 官方地址）。"


def telegram_unexpected_answer(address: str) -> str:
    return f"Bot API 地址 {address} 的回答不是预期的 Bot API 回答：请检查 TELEGRAM_API_BASE_URL 是否指向 Bot API（而不是网页或代理的错误页）。"

# --- outbox notices that only report facts (rendered when sent: bot.runtime.render) ---------------------


def short_moment(value: datetime, zone: ZoneInfo) -> str:
    local = value.astimezone(zone)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def change_notice(title: str, before: datetime, after: datetime | None, place: str | None, zone: ZoneInfo) -> str:
    """To a member already reminded: the activity moved from `before` to `after` (None: cancelled)."""
    if after is None:
        return f"📢 通知：原定 {short_moment(before, zone)} 的「{title}」已取消。"
    return (f"📢 通知：「{title}」由 {short_moment(before, zone)} 改为 {short_moment(after, zone)}"
            + (f"，地点：{place}" if place else "") + "。")


def calendar_provisional(year: int) -> str:
    return (
        f"📅 {year} 年节假日安排尚未公布\n"
        f"国务院办公厅还没有发布《关于{year}年部分节假日安排的通知》。在此之前，{year} 年的活动和提醒照常进行，"
        "按《全国年节及纪念日放假办法》规定的法定节假日和周末暂定排期：调休上班日还不知道，所以不会安排在周末；"
        f"临近节假日的安排标有“{TENTATIVE_MARK}”，通知发布后可能调整，调整时已收到提醒的党员会收到改期通知，"
        "您会收到一份调整清单。\n"
        f"通知发布后，请系统管理员把通知全文存为文件，运行 branchbot calendar import 文件 --write 导入"
        "（或升级 chinesecalendar 程序包），系统会自动重新排期。"
    )


def calendar_replanned(years: list[int], changes: list[tuple[str, str, datetime, datetime | None]],
                       zone: ZoneInfo) -> str:
    """`changes`: (organisation, title, before, after or None when cancelled), in order."""
    lines = [f"📅 {'、'.join(str(y) for y in years)} 年节假日安排已公布，以下原按暂定日历排定的活动已调整："]
    for org, title, before, after in changes:
        if after is None:
            lines.append(f"• {org}「{title}」原定 {moment(before, zone)}，已取消")
        else:
            lines.append(f"• {org}「{title}」{moment(before, zone)} → {moment(after, zone)}")
    lines.append("已收到提醒的党员已收到改期通知；其余提醒按新时间发送。")
    return "\n".join(lines)


# Why reminders could not go out on time (storage.services.delivery.MissedCause).
MISSED_CAUSES = {
    "downtime": "系统停机期间",
    "backlog": "因发送积压",
    "quiet_hours": "因夜间免打扰时段",
}


def missed_summary(title: str, when: str, names: list[str], cause: str) -> str:
    shown = "、".join(names[:30])
    more = f" 等 {len(names)} 人" if len(names) > 30 else f"（共 {len(names)} 人）"
    reason = MISSED_CAUSES.get(cause, MISSED_CAUSES["downtime"])
    return (f"⚠️ {reason}，“{title}”（{when}）的部分提醒未能按时发出，已记为“错过”：\n"
            f"{shown}{more}\n请视情况另行通知。")


def unreachable_notice(name: str, member_no: str, reason: str) -> str:
    why = "已屏蔽机器人" if reason == "blocked" else "的聊天已不可用"
    return (f"⚠️ 党员 {name}（{member_no}）{why}，提醒无法送达。\n"
            "请当面或电话通知，必要时由书记代签；该党员重新与机器人对话后会自动恢复。")
