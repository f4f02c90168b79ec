"""The table, JSON and chat-caption forms of an attendance report (CLI output and chat text)."""

from __future__ import annotations

import io
from typing import Any

from rich.table import Table

from schedules.period_text import period_text
from bot.terminal import text_console
from bot.reports.labels import ACTIVITY_STATUS_LABELS, ATTENDANCE_MARKS, obligation_label, percent
from bot.reports.summary import branch_comparison, org_summaries
from schedules.completion import CompletionState
from storage.services.reports import AttendanceReport, MemberRecord


def _iso(moment) -> str | None:  # noqa: ANN001
    return None if moment is None else moment.isoformat()


def report_json(report: AttendanceReport) -> dict[str, Any]:
    """Activities with each expected member's `member_no` and status, the completion verdicts, and a
    per-organisation summary in code order. Member lists are in member-number order, never ranked."""
    ledger = report.ledger
    zone = ledger.zone
    activities = []
    for activity in ledger.activities:
        org = ledger.orgs[activity.org_id]
        entry: dict[str, Any] = {
            "occurrence_key": activity.occurrence_key,
            "obligation": activity.obligation,
            "title": activity.title,
            "org": org.code,
            "kind": activity.kind,
            "starts_at": activity.starts_at.astimezone(zone).isoformat(),
            "status": activity.status,
            "topic": activity.topic,
            "host": ledger.host_of(activity),
            "recorder": activity.recorder,
        }
        if activity.is_meeting:
            reasons = {mark.member_id: mark.leave_reason for mark in activity.marks}
            members = []
            for member_id in ledger.expected_ids(activity):
                member = ledger.members[member_id]
                status = ledger.status_of(activity, member_id)
                members.append({
                    "member_no": member.member_no,
                    "name": member.name,
                    "status": status,
                    **({"leave_reason": reasons.get(member_id)} if status == "leave" else {}),
                })
            entry["attendance"] = members
            if activity.is_held:
                tally = ledger.tally(activity)
                entry.update(expected=tally.expected, present=tally.present, proxy=tally.proxy, leave=tally.leave,
                             absent=tally.absent)
        activities.append(entry)
    summaries = org_summaries(report)
    result: dict[str, Any] = {
        "org": report.root.code,
        "name": report.root.name,
        "from": report.window.start.isoformat(),
        "to": report.window.last_day.isoformat(),
        "generated_at": report.generated_at.astimezone(zone).isoformat(),
        "activities": activities,
        "completion": [
            {
                "org": cell.branch_code,
                "unit": cell.unit.code,
                "obligation": cell.requirement.obligation,
                "period": cell.period.label,
                "state": cell.state.value,
                "held_on": None if cell.held_on is None else cell.held_on.isoformat(),
                "awaiting_confirmation": cell.awaiting_confirmation,
            }
            for cell in report.completion
        ],
        "organizations": [
            {
                "org": s.org.code,
                "name": s.org.name,
                "type": s.org.type,
                "meetings_held": s.meetings_held,
                "attendance_rate": None if s.attendance_rate is None else round(s.attendance_rate, 4),
                "three_meetings_one_lecture": {"met": s.met, "late": s.late, "missed": s.missed, "pending": s.pending,
                                               "no_record": s.completion.no_record},
                "gaps": list(s.gaps),
            }
            for s in summaries
        ],
    }
    result["dual_organisational_life"] = [
        {
            "member_no": ledger.members[entry.member_id].member_no,
            "name": ledger.members[entry.member_id].name,
            "org": entry.org_name,
            "occurrence_key": entry.activity.occurrence_key,
            "title": entry.activity.title,
            "starts_at": entry.activity.starts_at.astimezone(zone).isoformat(),
            "status": entry.status,
        }
        for entry in ledger.dual_life
    ]
    if report.branch_comparison:
        result["branch_comparison"] = [s.org.code for s in branch_comparison(report)]
    return result


CAPTION_LIMIT = 1024  # Telegram's limit on a document's caption


def report_caption(report: AttendanceReport, *, limit: int = CAPTION_LIMIT) -> str:
    """The chat caption sent with the workbook: the period and the organisations with missed 三会一课, whole
    lines only (never cut inside a name or a period) within Telegram's caption limit."""
    gaps = [f"{s.org.name}：{'；'.join(s.gaps)}" for s in org_summaries(report) if s.gaps]
    head = f"{report.root.name} 台账（{period_text(report.window.start, report.window.last_day)}）\n"
    if not gaps:
        if report.completion and all(c.state is CompletionState.NO_RECORD for c in report.completion):
            return head + "这段时间台账尚无记录（开始使用本系统之前的期间记为“无记录”，不计为未开展）。"
        return head + "三会一课均已按期开展或仍在期内。"
    more = "\n……其余详见台账"
    text = head + "三会一课未开展："
    for shown, line in enumerate(gaps):
        rest = more if shown < len(gaps) - 1 else ""
        if len(text) + 1 + len(line) + len(rest) > limit:
            return text + more
        text += "\n" + line
    return text


def report_table(report: AttendanceReport, *, width: int = 120) -> str:
    """Plain-text tables: organisations' summary, then every meeting with its counts."""
    ledger = report.ledger
    buffer = io.StringIO()
    console = text_console(buffer, width=width)
    console.print(f"{report.root.name}（{report.root.code}）出勤与完成情况  "
                  f"{period_text(report.window.start, report.window.last_day)}")
    summary = Table(title="三会一课完成情况与出勤率", show_lines=False)
    for column in ("组织", "名称", "已开会议", "出勤率", "完成", "补开", "未开展", "进行中", "缺项"):
        summary.add_column(column, overflow="fold")
    for s in org_summaries(report):
        summary.add_row(s.org.code, s.org.name, str(s.meetings_held), percent(s.attendance_rate), str(s.met),
                        str(s.late), str(s.missed), str(s.pending), "；".join(s.gaps) or "—")
    console.print(summary)
    meetings = Table(title="会议记录")
    for column in ("日期", "组织", "类型", "标题", "状态", "应到", "实到", "请假", "缺席"):
        meetings.add_column(column)
    for activity in ledger.meetings():
        counts = ["", "", "", ""]
        if activity.is_held:
            tally = ledger.tally(activity)
            counts = [str(tally.expected), str(tally.present), str(tally.leave), str(tally.absent)]
        meetings.add_row(
            f"{ledger.local_date(activity.starts_at):%Y-%m-%d}", ledger.orgs[activity.org_id].code,
            obligation_label(activity.obligation), activity.title,
            ACTIVITY_STATUS_LABELS.get(activity.status, activity.status), *counts,
        )
    console.print(meetings)
    if report.branch_comparison:
        ranked = Table(title="支部对比（本组织已开启）")
        for column in ("名次", "支部", "三会一课完成率", "出勤率"):
            ranked.add_column(column)
        for place, s in enumerate(branch_comparison(report), start=1):
            ranked.add_row(str(place), s.org.name, percent(s.completion_rate), percent(s.attendance_rate))
        console.print(ranked)
    console.print("说明：出勤率 = 实到（含代签）÷ 应到，只计已召开的会议；不对党员个人排名。")
    return buffer.getvalue()


def member_json(record: MemberRecord) -> dict[str, Any]:
    """One member's meetings and their own attendance rate (shown to them or their committee, never ranked)."""
    return {
        "member_no": record.member.member_no,
        "name": record.member.name,
        "org": record.org.code,
        "from": record.window.start.isoformat(),
        "to": record.window.last_day.isoformat(),
        "attendance_rate": None if record.rate is None else round(record.rate, 4),
        "counts": record.counts(),
        "activities": [
            {
                "occurrence_key": m.activity.occurrence_key,
                "obligation": m.activity.obligation,
                "title": m.activity.title,
                "org": m.org_name,
                "starts_at": m.activity.starts_at.astimezone(record.zone).isoformat(),
                "activity_status": m.activity.status,
                "status": m.status,
            }
            for m in record.meetings
        ],
    }


def member_table(record: MemberRecord, *, width: int = 100) -> str:
    buffer = io.StringIO()
    console = text_console(buffer, width=width)
    counts = record.counts()
    console.print(
        f"{record.member.name}（{record.member.member_no}，{record.org.name}）"
        f"{period_text(record.window.start, record.window.last_day)}："
        f"出勤率 {percent(record.rate)}；出席 {counts['present']}，代签 {counts['proxy']}，"
        f"请假 {counts['leave']}，缺席 {counts['absent']}"
    )
    table = Table()
    for column in ("日期", "组织", "类型", "会议", "出勤"):
        table.add_column(column, overflow="fold")
    for m in record.meetings:
        table.add_row(
            f"{m.activity.starts_at.astimezone(record.zone):%Y-%m-%d}", m.org_name, obligation_label(m.activity.obligation),
            m.activity.title,
            ATTENDANCE_MARKS.get(m.status or "", ACTIVITY_STATUS_LABELS.get(m.activity.status, m.activity.status)),
        )
    console.print(table)
    return buffer.getvalue()
