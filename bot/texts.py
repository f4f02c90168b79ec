"""Every sentence a member, secretary or committee member reads in chat, and the formatting of values."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from schedules.timeparse import SCHEDULE_EXAMPLES
from bot.reports.summary import org_summaries
from schedules.completion import BranchCompletion, period_title
from storage.repositories.reports import MemberRecord
from storage.services import queries, scheduling
from storage.services.tasks import TaskView
from storage.services.views import (
    ActivityView,
    BindingResult,
    CheckInResult,
    Invite,
    LeaveDecisionResult,
    LeaveRequest,
    LiveTally,
    MemberYear,
    Roll,
)

WEEKDAYS = "一二三四五六日"
OBLIGATION_NAMES = {
    "committee_meeting": "支委会", "group_meeting": "党小组会", "general_assembly": "支部党员大会",
    "party_lecture": "党课", "theme_party_day": "主题党日", "study_day": "集中学习日",
}

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
BUTTON_REMIND = "🔔 提醒未答复的人"
BUTTON_SCHEDULE_CONFIRM = "✅ 确认"
BUTTON_SCHEDULE_EDIT = "✏️ 修改"
BUTTON_SCHEDULE_CANCEL = "✖️ 取消"

# --- commands (set_my_commands) ----------------------------------------------------------------------
MEMBER_COMMANDS = [
    ("upcoming", "我接下来的活动"),
    ("checkin", "为正在进行的活动签到"),
    ("leave", "请假"),
    ("me", "我的出勤与政治生日"),
    ("calendar", "我的活动日历（可导入手机日历）"),
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
    ("report", "台账与出勤图表"),
]
COMMITTEE_COMMANDS = [("attendance", "出勤与三会一课完成情况"), ("report", "台账与出勤图表")]

# --- general ------------------------------------------------------------------------------------------
GENERIC_ERROR = "抱歉，处理您的请求时出了点问题，我们已记录下来。请稍后再试。"
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
    "/tasks 待办任务：政治生日“五个一”、转正、换届等，逐项勾选"
)
HELP_COMMITTEE = (
    "\n\n上级党组织委员可用：\n"
    "/attendance [组织编码|党员编号] [本月|本季度|今年] 出勤与三会一课完成情况\n"
    "/report [组织编码] [时间段] 台账（Excel）与出勤图表"
)


ACTIVITY_FALLBACK = "活动"  # an activity's title when the activity is gone


def moment(value: datetime, zone: ZoneInfo) -> str:
    local = value.astimezone(zone)
    return f"{local.month}月{local.day}日（周{WEEKDAYS[local.weekday()]}）{local:%H:%M}"


def clock_time(value: datetime, zone: ZoneInfo) -> str:
    return f"{value.astimezone(zone):%H:%M}"


def activity_card(activity: ActivityView, zone: ZoneInfo) -> str:
    lines = [f"📌 {activity.title}", f"时间：{moment(activity.starts_at, zone)}"]
    if activity.place:
        lines.append(f"地点：{activity.place}")
    if activity.agenda:
        lines.append(f"议程：{activity.agenda}")
    lines.append(f"组织：{activity.org_name}")
    return "\n".join(lines)


def activity_line(activity: ActivityView, zone: ZoneInfo) -> str:
    place = f"，{activity.place}" if activity.place else ""
    return f"• {moment(activity.starts_at, zone)} {activity.title}{place}"


# --- binding ------------------------------------------------------------------------------------------
def welcome_back(name: str, activities: list[ActivityView], zone: ZoneInfo) -> str:
    """/start from a member who is already bound."""
    return f"您好，{name}同志！您已完成绑定。\n\n" + upcoming(activities, zone) + "\n\n发送 /help 查看可用的命令。"


def welcome(result: BindingResult, zone: ZoneInfo) -> str:
    text = f"欢迎您，{result.member_name}同志！您已绑定到{result.org_name}。"
    if result.next_activity:
        text += f"\n\n您接下来的活动：\n{activity_card(result.next_activity, zone)}"
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


INVITE_USAGE = "用法：/invite 党员编号，例如 /invite P003"


# --- check-in and leave -------------------------------------------------------------------------------
def checked_in(result: CheckInResult, now: datetime, zone: ZoneInfo) -> str:
    if result.already:
        return f"您已经签过到了：「{result.activity.title}」。"
    return f"✅ 签到成功：「{result.activity.title}」，{clock_time(now, zone)}。"


def checked_in_stamp(now: datetime, zone: ZoneInfo) -> str:
    return f"✅ 已签到（{clock_time(now, zone)}）"


def ask_leave_reason(activity: ActivityView) -> str:
    return f"📝 您要为「{activity.title}」请假。请直接回复一句话说明原因："


ASK_LEAVE_REASON_IN_PRIVATE = "请在私聊中说明请假原因，我已经给您发了消息。"
LEAVE_IN_PRIVATE_FIRST = "请先点击下方按钮和我开始对话，然后再请假。"


def leave_requested_stamp(request: LeaveRequest) -> str:
    return f"📝 已请假（原因：{request.reason}），等待书记审批"


def leave_submitted(request: LeaveRequest) -> str:
    who = "、".join(a.name for a in request.approvers) or "书记"
    return f"已提交请假：「{request.activity.title}」，原因：{request.reason}。{who}审批后会通知您。"


def leave_for_approval(member_name: str, activity: ActivityView, reason: str, zone: ZoneInfo) -> str:
    return (
        f"📝 请假申请\n{member_name} 申请不参加「{activity.title}」"
        f"（{moment(activity.starts_at, zone)}）\n原因：{reason}"
    )


LEAVE_WITHDRAWN = "（这条请假已不再需要审批：对方已签到或已撤回。）"


def confirm_nag(activity: ActivityView, zone: ZoneInfo) -> str:
    return f"⏰ 「{activity.title}」（{moment(activity.starts_at, zone)}）还没有确认是否召开，请确认。"


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


def upcoming(activities: list[ActivityView], zone: ZoneInfo) -> str:
    if not activities:
        return NO_UPCOMING
    return "🗓 您接下来的活动：\n" + "\n".join(activity_line(a, zone) for a in activities)


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
        f"📣 {activity_card(activity, zone)}\n\n"
        f"签到时间：{moment(activity.checkin_opens_at, zone)} 至 {clock_time(activity.checkin_closes_at, zone)}\n"
        + group_tally(tally)
    )


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
        f"📋 「{result.activity.title}」（{moment(result.activity.starts_at, zone)}）签到情况",
        f"已签到（{len(result.present)}）：{names(result.present)}",
        f"请假（{len(result.on_leave)}）：" + ("\n" + "\n".join(leave_lines) if leave_lines else "无"),
        f"未签到（{len(result.absent)}）：{names(result.absent)}",
        f"无法联系（未绑定或已屏蔽，{len(result.unreachable)}）：{names(result.unreachable)}",
    ])


def roll_closing(result: Roll, zone: ZoneInfo) -> str:
    text = roll(result, zone) + "\n\n签到已结束。请确认活动是否召开，并可记录议题、主讲人和会议记录。"
    silent = result.unanswered
    if silent:
        text += (f"\n确认召开后，未答复的 {len(silent)} 人将记为缺席：{'、'.join(e.name for e in silent)}。"
                 f"到场的请先点“{BUTTON_PROXY}”。")
    return text


def confirmed(held: bool, title: str, marked_absent: int, absent_names: tuple[str, ...] = ()) -> str:
    if held and marked_absent:
        # Also the button's toast, which Telegram caps at 200 characters: name at most ten.
        who = f"：{'、'.join(absent_names[:10])}{'等' if len(absent_names) > 10 else ''}" if absent_names else ""
        return (f"已确认「{title}」召开。{marked_absent} 人未答复，已记为缺席{who}。"
                f"如有人到场，可点“{BUTTON_PROXY}”改为出席。")
    if held:
        return f"已确认「{title}」召开。"
    return f"已记录「{title}」未召开。"


def ask_activity_field(field: str, title: str) -> str:
    what = {"topic": "议题", "lecturer": "主讲人", "minutes": "会议记录（文字，或直接发送照片）"}[field]
    return f"请发送「{title}」的{what}："


def activity_field_saved(activity: ActivityView) -> str:
    return f"已记录到「{activity.title}」。"


MINUTES_PHOTO_SAVED = "照片已保存到会议记录。可以继续发送，或发送文字记录。"


def proxy_menu(title: str) -> str:
    return f"为「{title}」代签：请选择未能自己签到的党员（记为由您代签，并留痕）。"


def proxy_done(name: str) -> str:
    return f"已为 {name} 代签。"


NOBODY_TO_PROXY = "没有需要代签的人。"


def reminded(count: int) -> str:
    return f"已安排提醒 {count} 位尚未答复的党员。" if count else "没有需要提醒的人：可联系的党员都已答复。"


def nudge(activity: ActivityView, zone: ZoneInfo) -> str:
    return f"🔔 书记提醒您：「{activity.title}」（{moment(activity.starts_at, zone)}）请签到或请假。"


def branch_plan(activities: list[ActivityView], zone: ZoneInfo) -> str:
    if not activities:
        return "本支部近四周没有安排的活动。"
    return "🗓 本支部近四周的安排：\n" + "\n".join(activity_line(a, zone) for a in activities)


# --- committee ----------------------------------------------------------------------------------------
ATTENDANCE_USAGE = queries.ATTENDANCE_USAGE


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _verdicts(completion: BranchCompletion) -> str:
    text = (f"三会一课 完成 {completion.met}、补开 {completion.late}、未开展 {completion.missed}、"
            f"进行中 {completion.pending}")
    return text + (f"、无记录 {completion.no_record}" if completion.no_record else "")


def attendance_answer(answer: queries.AttendanceAnswer) -> str:
    """/attendance: the figures of `report attendance` and /report (bot.reports.summary), in a few lines."""
    title = period_title(answer.period)
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
    lines = [f"📊 {period_title(digest.period)}：{_verdicts(totals)}"]
    gaps = [f"⚠️ {s.org.name}：{'；'.join(s.gaps)}" for s in summaries if s.gaps]
    lines += gaps or ["✅ 三会一课均已按期开展或仍在期内。"]
    return "\n".join(lines)


# --- tasks --------------------------------------------------------------------------------------------
NO_TASKS = "目前没有待办任务。"
TASK_DONE = "已完成"
TASK_TICKED = "已勾选"
BUTTON_TASK_DONE = "✅ 已办结"


def task_card(task: TaskView, zone: ZoneInfo) -> str:
    who = f"（{task.member_name}）" if task.member_name else ""
    lines = [f"📝 {task.activity.title}{who}", f"日期：{moment(task.activity.starts_at, zone)}"]
    for item in task.items:
        lines.append(f"{'☑' if item.done else '☐'} {item.label}")
    if task.done:
        lines.append("✅ 已全部完成")
    return "\n".join(lines)


# /schedule, /reschedule, /cancel
SCHEDULE_USAGE = {
    scheduling.NEW: "用法：/schedule 活动名称 时间 地点，例如 /schedule " + SCHEDULE_EXAMPLES[0],
    scheduling.MOVE: "用法：/reschedule 活动名称 新时间 [地点]，例如 /reschedule 主题党日 下周五上午9点",
    scheduling.CANCEL: "用法：/cancel 活动名称，例如 /cancel 主题党日",
}
SCHEDULE_HEADINGS = {scheduling.NEW: "🗓 新活动", scheduling.MOVE: "🔁 调整活动时间", scheduling.CANCEL: "✖️ 取消活动"}
SCHEDULE_DISCARDED = "已放弃，没有做任何改动。"
SCHEDULE_EDIT_AGAIN = "已放弃这张确认卡。请重新发送命令，写上新的时间或地点。"


def schedule_unreadable(operation: str, message: str, examples: tuple[str, ...]) -> str:
    """The time parser's Chinese complaint, what works instead, and the command's usage."""
    return f"{message}\n例如：{'、'.join(examples or SCHEDULE_EXAMPLES)}\n{SCHEDULE_USAGE[operation]}"


def schedule_card(draft: scheduling.Draft, zone: ZoneInfo, reading: str | None = None) -> str:
    lines = [SCHEDULE_HEADINGS[draft.operation], f"活动：{draft.title}（{draft.org_name}）"]
    if draft.activity is not None and draft.operation == scheduling.MOVE:
        lines.append(f"原定：{moment(draft.activity.starts_at, zone)}")
    if draft.starts_at is not None:
        lines.append(f"时间：{moment(draft.starts_at, zone)}")
    elif draft.activity is not None:
        lines.append(f"时间：{moment(draft.activity.starts_at, zone)}")
    if reading:
        lines.append(f"（时间理解为：{reading}）")
    if draft.place:
        lines.append(f"地点：{draft.place}")
    lines += list(draft.warnings)
    lines.append("请确认：")
    return "\n".join(lines)


def schedule_applied(applied: scheduling.Applied, zone: ZoneInfo) -> str:
    title, when = applied.activity.title, moment(applied.activity.starts_at, zone)
    done = {
        scheduling.NEW: f"✅ 已安排「{title}」：{when}。届时会提醒参加的党员。",
        scheduling.MOVE: f"✅ 已将「{title}」改到 {when}。",
        scheduling.CANCEL: f"✅ 已取消「{title}」。",
    }[applied.operation]
    if applied.told:
        done += f"已通知之前收到提醒的 {applied.told} 位党员。"
    return done
