"""Chinese wording of a plan's proposal, shared by `branchbot catalog propose` and the chat's cards."""

from __future__ import annotations

from bot import texts
from bot.texts import BUTTON_PROPOSAL_ACCEPT, BUTTON_PROPOSAL_REJECT
from schedules.audience import Audience
from schedules.proposal.model import ActivityProposal, Evidence, NewEntry, ObligationProposal, Proposal, Timing

CADENCE_ZH = {
    "weekly": "每周", "monthly": "每月", "quarterly": "每季度", "semiannual": "每半年", "yearly": "每年",
    "holidays": "法定节假日前", "member_dates": "按党员档案日期", "org_term": "按换届日期", "deadlines": "按各自期限",
}


def section_zh(section: str) -> str:
    return section or "开头"


def cadence_zh(cadence: str, month: int | None = None) -> str:
    text = CADENCE_ZH.get(cadence, cadence)
    return f"{text}{month}月" if cadence == "yearly" and month else text


def timing_zh(timing: Timing | None) -> str:
    if timing is None:
        return "未写明"
    return f"“{timing.said}”（{cadence_zh(timing.cadence, timing.month)}）"


def agreement_zh(agrees: bool | None) -> str:
    return {True: "一致", False: "不一致", None: "—"}[agrees]


def obligation_lines(entry: ObligationProposal) -> list[str]:
    return [
        f"计划中的时间：{timing_zh(entry.timing)}；目录默认：{cadence_zh(entry.default_cadence, entry.default_month)}"
        + (f"（{agreement_zh(entry.agrees)}）" if entry.agrees is not None else ""),
        f"本组织现在：{'已启用' if entry.enabled else '未启用'}",
    ]


def evidence_lines(evidence: list[Evidence], limit: int | None = None) -> list[str]:
    shown = evidence if limit is None else evidence[:limit]
    lines = [f"〔{section_zh(e.section)}〕{e.quote}" for e in shown]
    if limit is not None and len(evidence) > limit:
        lines.append(f"……另有 {len(evidence) - limit} 处")
    return lines


def new_entry_lines(entry: NewEntry) -> list[str]:
    return [
        f"建议周期：{cadence_zh(entry.cadence, entry.timing.month if entry.timing else None)}"
        + (f"（计划：“{entry.timing.said}”）" if entry.timing else "（计划未写明，按常规）"),
        f"对象：{Audience.of(entry.audience).label}；适用：{'、'.join(entry.applies_to)}",
        "目录中没有这一项；接受后新增并启用，未接受前不启用",
    ]


def sections_zh(evidence: list[Evidence]) -> str:
    """The items an entry's evidence comes from, in the plan's order (sections contain 、, so ；between)."""
    return "；".join(dict.fromkeys(section_zh(e.section) for e in evidence))


def details(entry: ObligationProposal | NewEntry) -> list[str]:
    return obligation_lines(entry) if isinstance(entry, ObligationProposal) else new_entry_lines(entry)


def activity_line(activity: ActivityProposal) -> str:
    return f"{activity.when}：{activity.title}（〔{section_zh(activity.evidence[0].section)}〕）"


def summary(proposal: Proposal, org_name: str | None = None) -> str:
    where = f"（{org_name}）" if org_name else ""
    return (f"《{proposal.title}》{where}：对应目录事项 {len(proposal.obligations)} 项，"
            f"目录中没有的经常性工作 {len(proposal.new)} 项，一次性任务 {len(proposal.activities)} 项。")


def cli_table(proposal: Proposal) -> str:
    """`catalog propose --format table`: one block per entry with its timing, state and every quoted sentence."""
    lines = [summary(proposal, proposal.org)]
    for heading, entries in ((texts.PROPOSAL_OBLIGATIONS_HEADING, proposal.obligations),
                             (texts.PROPOSAL_NEW_HEADING, proposal.new)):
        if entries:
            lines += ["", heading]
        for entry in entries:
            lines.append(f"  {entry.key}  {entry.name}  {texts.PROPOSAL_SECTIONS}{sections_zh(entry.evidence)}")
            lines += [f"    {line}" for line in details(entry)]
            lines += [f"    {texts.PROPOSAL_EVIDENCE}{line}" for line in evidence_lines(entry.evidence)]
    if proposal.activities:
        lines += ["", texts.PROPOSAL_ACTIVITIES_HEADING]
        lines += [f"  {activity_line(activity)}" for activity in proposal.activities]
    if not (proposal.obligations or proposal.new or proposal.activities):
        lines += ["", f"{texts.PROPOSAL_NOTHING_FOUND}。"]
    return "\n".join(lines) + "\n"


# --- the chat's cards ---------------------------------------------------------------------------------------

CHAT_QUOTES = 2  # quotes per card; the CLI shows them all
CHAT_QUOTE_CHARS = 90


def _short(evidence: list[Evidence]) -> list[Evidence]:
    return [
        Evidence(section=e.section, quote=e.quote if len(e.quote) <= CHAT_QUOTE_CHARS else e.quote[: CHAT_QUOTE_CHARS - 1] + "…")
        for e in evidence
    ]


def chat_intro(proposal: Proposal, org_name: str) -> str:
    return (f"📄 {summary(proposal, org_name)}\n"
            f"请逐项点 {BUTTON_PROPOSAL_ACCEPT} 或 {BUTTON_PROPOSAL_REJECT}；接受的事项写入本组织的设置，提醒随即按新设置安排。")


def chat_card(number: int, entry: ObligationProposal | NewEntry) -> str:
    if isinstance(entry, ObligationProposal):
        head = f"{number}. {entry.name}（{entry.key}）"
    else:
        head = f"{number}. 新增：{entry.name}"
    return "\n".join([head, f"{texts.PROPOSAL_SECTIONS}{sections_zh(entry.evidence)}", *details(entry),
                      *(f"{texts.PROPOSAL_EVIDENCE}{line}" for line in evidence_lines(_short(entry.evidence), CHAT_QUOTES))])


def chat_activities(activities: list[ActivityProposal]) -> str:
    return "\n".join(["一次性任务（可用 /schedule 逐项安排）：", *(f"· {activity_line(a)}" for a in activities)])


NOTHING_FOUND = f"{texts.PROPOSAL_NOTHING_FOUND}，设置未改动。"
PROPOSAL_REJECTED = "❌ 未采纳。"
UNSUPPORTED_DOCUMENT = "请发送年度计划文件（.docx、.pdf、.txt 或 .md），我会逐项列出对应的工作事项。"
DOCUMENT_TOO_LARGE = "文件太大了（最多 20 MB），请只发送计划正文。"


def accepted_stamp(name: str, org_code: str, file_name: str, changed: bool) -> str:
    if not changed:
        return f"✅ 已接受：{name}（{org_code} 的设置中已有，无需改动）。"
    return f"✅ 已接受：{name}，已写入 {org_code} 的设置（{file_name}），提醒将按新设置安排。"
