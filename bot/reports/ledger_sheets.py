"""The 台账 workbook's 整改清单 and 谈心谈话记录 sheets: loaded for an organisation subtree and a period."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from sqlalchemy.orm import Session

from bot import texts
from bot.reports.workbook import _body_row, _header, _prepare_for_print, _title
from schedules.completion import Period
from schedules.period_text import period_text
from storage.services import rectification as rect_svc
from storage.services import talks as talk_svc
from storage.services.actors import OrgTree

RECTIFICATION_SHEET = "整改清单"
TALKS_SHEET = "谈心谈话记录"
RECTIFICATION_COLUMNS: Sequence[tuple[str, float]] = (
    ("序号", 6), ("支部", 14), ("问题", 28), ("来源", 10), ("整改措施", 28), ("责任人", 12), ("时限", 11),
    ("进展", 30), ("状态", 9), ("销号日期", 11), ("销号依据", 24),
)
TALK_COLUMNS: Sequence[tuple[str, float]] = (
    ("序号", 6), ("日期", 11), ("支部", 14), ("支委", 10), ("谈话对象", 10), ("话题", 28), ("记录人", 10),
)

SheetWriter = Callable[[Workbook], None]


@dataclass(frozen=True)
class LedgerExtras:
    """What the two sheets show: the items open at some time in the period, the talks held in it."""

    root_name: str
    window: Period
    today: date
    zone: ZoneInfo
    items: tuple[rect_svc.ItemView, ...]
    talks: tuple[talk_svc.TalkRecord, ...]
    coverages: tuple[talk_svc.Coverage, ...]

    def writers(self) -> list[SheetWriter]:
        return [self.rectification_sheet, self.talks_sheet]

    def _subtitle(self) -> str:
        return f"{self.root_name}  {period_text(self.window.start, self.window.last_day)}"

    def rectification_sheet(self, book: Workbook) -> None:
        sheet = book.create_sheet(RECTIFICATION_SHEET)
        names = [n for n, _ in RECTIFICATION_COLUMNS]
        _title(sheet, "问题整改清单（销号管理）", self._subtitle(), len(names))
        _header(sheet, 3, names, [w for _, w in RECTIFICATION_COLUMNS])
        for row, item in enumerate(self.items, start=4):
            progress = "\n".join(
                f"{n.at.astimezone(self.zone):%m-%d} {n.member_name}：{n.text or ('照片' if n.kind == 'photo' else '文件')}"
                for n in item.progress)
            state = texts.rectification_state(item, self.today)
            closed_on = item.closed_at.astimezone(self.zone).date().isoformat() if item.closed_at else ""
            _body_row(sheet, row, (
                row - 3, item.org_name, item.problem, item.source, item.measures, item.owner_names,
                f"{item.due_on.isoformat()}（{item.deadline_text}）", progress, state, closed_on, item.evidence or "",
            ), center_from=None)
        _prepare_for_print(sheet, landscape=True, header_rows=3)

    def talks_sheet(self, book: Workbook) -> None:
        sheet = book.create_sheet(TALKS_SHEET)
        names = [n for n, _ in TALK_COLUMNS]
        _title(sheet, "谈心谈话记录（只记日期、双方和话题，不记谈话内容）", self._subtitle(), len(names))
        _header(sheet, 3, names, [w for _, w in TALK_COLUMNS])
        row = 4
        for row, talk in enumerate(self.talks, start=4):
            _body_row(sheet, row, (row - 3, talk.held_on.isoformat(), talk.org_name, talk.committee_name,
                                   talk.member_name, talk.topic or "", talk.recorded_by))
        row = (row + 2) if self.talks else 5
        _header(sheet, row, ("支部", "支委", "已谈", "待谈", "尚未谈话的同志"))
        for coverage in self.coverages:
            for progress in coverage.committee:
                row += 1
                _body_row(sheet, row, (coverage.org_name, progress.person.name, len(progress.done),
                                       len(progress.owed), "、".join(p.name for p in progress.owed)))
        _prepare_for_print(sheet, landscape=False, header_rows=3)


def load_extras(session: Session, root_code: str, window: Period, zone: ZoneInfo, now: datetime) -> LedgerExtras:
    """The 整改 items and 谈心谈话 of `root_code` and everything below it, for `window`."""
    tree = OrgTree.load(session)
    root_id = tree.id_by_code[root_code]
    org_ids = tree.subtree(root_id)
    start, end = window.bounds(zone)
    items = tuple(
        item for item in rect_svc.items_for_orgs(session, org_ids)
        if (item.closed_at is None or item.closed_at >= start) and item.created_at < end
    )
    branches = sorted(o for o in org_ids if tree.is_branch(o))
    years = range(window.start.year, window.last_day.year + 1)
    talks = tuple(t for year in years for t in talk_svc.records(session, branches, year)
                  if window.start <= t.held_on <= window.last_day)
    coverage_year = min(window.last_day, now.astimezone(zone).date()).year
    coverages = tuple(talk_svc.coverages(session, branches, coverage_year))
    return LedgerExtras(tree.name.get(root_id, root_code), window, now.astimezone(zone).date(), zone, items, talks,
                        coverages)


def rectification_caption(extras: LedgerExtras) -> str:
    """The line /report adds under its caption: open and overdue 整改 items (nothing when there are none)."""
    open_items = [i for i in extras.items if i.is_open]
    if not open_items:
        return ""
    overdue: dict[str, int] = {}
    for item in open_items:
        if item.overdue_days(extras.today):
            overdue[item.org_name] = overdue.get(item.org_name, 0) + 1
    line = f"\n整改：未销号 {len(open_items)} 项"
    if overdue:
        line += "，其中逾期：" + "、".join(f"{name} {count} 项" for name, count in sorted(overdue.items()))
    return line
