"""Report figures every format shows, derived once from an AttendanceReport (no ranking of members)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from bot.reports.labels import obligation_label, obligation_sort_key
from schedules.completion import (
    THREE_MEETINGS_ONE_LECTURE,
    BranchCompletion,
    CompletionCell,
    CompletionState,
    summarise_by_branch,
)
from schedules.roster import OrgType
from storage.services.reports import AttendanceReport, OrgRef


@dataclass(frozen=True)
class OrgSummary:
    """One organisation's line in the summary: meetings held, attendance, 三会一课 verdicts."""

    org: OrgRef
    meetings_held: int
    attendance_rate: float | None
    completion: BranchCompletion  # 三会一课 verdict counts, judged by schedules.completion
    gaps: tuple[str, ...]  # "党员大会 2025Q1、2025Q2" … for missed 三会一课

    @property
    def met(self) -> int:
        return self.completion.met

    @property
    def late(self) -> int:
        return self.completion.late

    @property
    def missed(self) -> int:
        return self.completion.missed

    @property
    def pending(self) -> int:
        return self.completion.pending

    @property
    def completion_rate(self) -> float | None:
        return self.completion.rate


def requirement_label(cell: CompletionCell) -> str:
    """The meeting type of a verdict, with the 党小组 named when a group owes it: 党小组会（第一党小组）."""
    unit = "" if cell.unit.code == cell.branch_code else f"（{cell.unit.name}）"
    return f"{cell.requirement.label}{unit}"


def org_summaries(report: AttendanceReport) -> list[OrgSummary]:
    """Every organisation of the report that holds meetings, in code order (never ranked)."""
    ledger = report.ledger
    counts = {c.branch_code: c for c in summarise_by_branch(report.completion, THREE_MEETINGS_ONE_LECTURE)}
    missed: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for cell in report.completion:
        if cell.requirement.three_meetings_one_lecture and cell.state is CompletionState.MISSED:
            missed[cell.branch_code][requirement_label(cell)].append(cell.period.label)
    gaps = {
        code: [f"{what} {'、'.join(periods)}" for what, periods in by_what.items()] for code, by_what in missed.items()
    }
    summaries = []
    for org in ledger.report_orgs:
        summaries.append(
            OrgSummary(
                org=org,
                meetings_held=len(ledger.meetings(org, held_only=True)),
                attendance_rate=ledger.overall_rate(org),
                completion=counts.get(org.code) or BranchCompletion(org.code),
                gaps=tuple(gaps.get(org.code, ())),
            )
        )
    return summaries


def branch_comparison(report: AttendanceReport) -> list[OrgSummary]:
    """Branches ranked by 三会一课 completion, then attendance: ONLY when the committee turned it on."""
    if not report.branch_comparison:
        raise PermissionError("branch comparison is not enabled for this organisation")
    branches = [s for s in org_summaries(report) if s.org.type == OrgType.BRANCH]
    return sorted(branches, key=lambda s: (-(s.completion_rate or 0.0), -(s.attendance_rate or 0.0), s.org.code))


def completion_rows(cells: list[CompletionCell]) -> list[tuple[str, str, str, int, int, int, int, int, str]]:
    """Per unit and obligation: branch, unit, obligation, owed, met, late, missed, pending, missed periods
    (periods before the branch has any record, 无记录, are not owed)."""
    grouped: dict[tuple[str, str, str], list[CompletionCell]] = defaultdict(list)
    for cell in cells:
        grouped[(cell.branch_code, cell.unit.code, cell.requirement.obligation)].append(cell)
    rows = []
    for (branch, unit, obligation), group in sorted(
        grouped.items(), key=lambda item: (item[0][0], item[0][1], obligation_sort_key(item[0][2]))
    ):
        by_state = {state: sum(1 for c in group if c.state is state) for state in CompletionState}
        missed = "、".join(c.period.label for c in group if c.state is CompletionState.MISSED)
        rows.append((
            branch, group[0].unit.name, obligation_label(obligation), len(group) - by_state[CompletionState.NO_RECORD],
            by_state[CompletionState.MET], by_state[CompletionState.LATE], by_state[CompletionState.MISSED],
            by_state[CompletionState.PENDING], missed,
        ))
    return rows
