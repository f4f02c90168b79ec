"""PNG charts (matplotlib, Agg) with a shipped CJK font: attendance rate by month, 三会一课 completion."""

from __future__ import annotations

import io
import threading
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede any pyplot import anywhere in the process

from matplotlib import font_manager  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator, PercentFormatter  # noqa: E402

from schedules.period_text import period_text  # noqa: E402
from bot.reports.summary import org_summaries, requirement_label  # noqa: E402
from schedules.completion import THREE_MEETINGS_ONE_LECTURE, CompletionState  # noqa: E402
from schedules.roster import OrgType  # noqa: E402
from storage.services.reports import AttendanceReport, OrgRef  # noqa: E402

# Noto Sans CJK SC from the `mplfonts` wheel on PyPI: a fresh machine gets Chinese glyphs from
# `pip install` alone, without root or system font packages.
CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"
MAX_BARS = 40  # more branches than this are grouped under the organisations directly below the root
STATE_COLOURS = {
    CompletionState.MET: "#4E9A06",
    CompletionState.LATE: "#EDB120",
    CompletionState.MISSED: "#C0392B",
    CompletionState.PENDING: "#BFBFBF",
    CompletionState.NO_RECORD: "#EEEEEE",
}


# rc_context changes matplotlib's process-wide settings, and the bot renders charts in worker threads.
_RENDER_LOCK = threading.Lock()


class FontMissingError(RuntimeError):
    """The CJK font is not installed; charts would show empty boxes instead of Chinese."""


def cjk_font_path() -> Path:
    try:
        import mplfonts
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise FontMissingError("缺少中文字体包 mplfonts：请运行 pip install mplfonts") from exc
    path = Path(mplfonts.__file__).resolve().parent / "fonts" / CJK_FONT_FILE
    if not path.is_file():
        raise FontMissingError(f"中文字体文件不存在：{path}")
    return path


@lru_cache(maxsize=1)
def cjk_font_name() -> str:
    """Registers the shipped font with matplotlib once and returns its family name."""
    path = cjk_font_path()
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _style() -> dict[str, object]:
    # parse_math off: an organisation named "$x^2$" (or with a stray "$") is drawn as written, not as TeX.
    return {"font.family": [cjk_font_name()], "axes.unicode_minus": False, "text.parse_math": False}


def _series_orgs(report: AttendanceReport) -> list[OrgRef | None]:
    """Lines to draw: the root's own figure (None = whole subtree), each branch only where that is no
    comparison (a single-branch report) or the organisation enabled branch comparison."""
    branches = [o for o in report.ledger.report_orgs if o.type == OrgType.BRANCH]
    if report.root.type == OrgType.BRANCH:
        return [report.root]
    if report.branch_comparison and len(branches) <= 12:
        return [None, *branches]
    return [None]


def attendance_rate_chart(report: AttendanceReport) -> bytes:
    """Attendance rate by month (实到/应到 of held meetings) as a PNG."""
    ledger = report.ledger
    with _RENDER_LOCK, matplotlib.rc_context(_style()):
        figure = _figure(9, 4.8)
        axes = figure.add_subplot()
        labels: list[str] = []
        for org in _series_orgs(report):
            rates = ledger.monthly_rates(org)
            labels = [f"{int(label[5:])}月" for label in rates]
            values = [float("nan") if rate is None else rate for rate in rates.values()]
            name = report.root.name + "（合计）" if org is None else org.name
            axes.plot(range(len(values)), values, marker="o", label=name)
        axes.set_xticks(range(len(labels)), labels)
        axes.set_ylim(0, 1.05)
        axes.yaxis.set_major_formatter(PercentFormatter(1.0))
        axes.set_ylabel("出勤率")
        axes.set_xlabel(period_text(report.window.start, report.window.last_day))
        axes.set_title(f"{report.root.name} 按月出勤率")
        axes.grid(axis="y", alpha=0.3)
        axes.legend(loc="lower left", fontsize=8)
        return _png(figure)


def _completion_groups(report: AttendanceReport) -> list[tuple[str, dict[CompletionState, int]]]:
    """Per branch (code order), or per organisation below the root when there are too many branches."""
    ledger = report.ledger
    by_code = ledger.by_code
    counts: dict[str, dict[CompletionState, int]] = defaultdict(lambda: {s: 0 for s in CompletionState})
    branch_codes = sorted({c.branch_code for c in report.completion})
    if len(branch_codes) == 1:
        # One branch: a bar per meeting type (and per 党小组), which is what its secretary needs to see.
        for cell in report.completion:
            if cell.requirement.obligation in THREE_MEETINGS_ONE_LECTURE:
                counts[requirement_label(cell)][cell.state] += 1
        return list(counts.items())
    if len(branch_codes) <= MAX_BARS:
        key_of = {code: by_code[code].name if code in by_code else code for code in branch_codes}
    else:
        key_of = {}
        for code in branch_codes:
            org = by_code.get(code)
            while org is not None and org.parent_id is not None and org.parent_id != report.root.id:
                org = ledger.orgs.get(org.parent_id)
            key_of[code] = org.name if org is not None else code
    for cell in report.completion:
        if cell.requirement.obligation in THREE_MEETINGS_ONE_LECTURE:
            counts[key_of[cell.branch_code]][cell.state] += 1
    order = list(dict.fromkeys(key_of[code] for code in branch_codes))
    return [(name, counts[name]) for name in order if name in counts]


def completion_chart(report: AttendanceReport) -> bytes:
    """三会一课 verdicts per branch for the period as stacked horizontal bars (code order, not ranked)."""
    groups = _completion_groups(report)
    with _RENDER_LOCK, matplotlib.rc_context(_style()):
        figure = _figure(9, max(3.0, 0.45 * len(groups) + 1.6))
        axes = figure.add_subplot()
        names = [name for name, _ in groups] or ["（无支部）"]
        left = [0] * len(names)
        for state in CompletionState:
            values = [counts[state] for _, counts in groups] or [0]
            axes.barh(names, values, left=left, color=STATE_COLOURS[state], label=state.label)
            left = [a + b for a, b in zip(left, values)]
        axes.invert_yaxis()
        axes.set_xlabel("期次（支委会、党小组会按月，党员大会、党课按季度）")
        axes.set_title(f"{report.root.name} 三会一课完成情况  {period_text(report.window.start, report.window.last_day)}")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        figure.legend(loc="outside lower center", fontsize=8, ncols=4)
        return _png(figure)


def chart_texts(report: AttendanceReport) -> list[str]:
    """The Chinese strings the charts draw, so tests can check the font covers every one of them."""
    names = [report.root.name, *(s.org.name for s in org_summaries(report)), *(n for n, _ in _completion_groups(report))]
    return names + [state.label for state in CompletionState] + ["出勤率", "按月出勤率", "三会一课完成情况", "合计"]
