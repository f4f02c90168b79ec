"""Report settings per organisation, from config/reports.yaml (branch comparison is off unless listed)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

REPORTS_FILE = "reports.yaml"


class ReportSettingsError(ValueError):
    """config/reports.yaml cannot be used; the message is Chinese and names the file."""


@dataclass(frozen=True)
class ReportSettings:
    # Organisations whose committee asked for a branch-level comparison. Nobody is ever ranked by
    # member (national rules forbid using app statistics to assess people), so there is no such switch.
    branch_comparison: frozenset[str] = frozenset()

    def comparison_enabled(self, org_code: str, ancestors: Iterable[str] = ()) -> bool:
        """On for `org_code` when it, or an organisation above it, is listed."""
        return org_code in self.branch_comparison or any(code in self.branch_comparison for code in ancestors)


def parse_report_settings(data: Any, source_name: str) -> ReportSettings:
    """The validated settings from the parsed YAML of config/reports.yaml (read by `bot.deployment`)."""
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ReportSettingsError(f"{source_name}：应为键值对，例如 branch_comparison: [D01]")
    unknown = set(data) - {"branch_comparison"}
    if unknown:
        raise ReportSettingsError(
            f"{source_name}：不认识的字段 {'、'.join(sorted(map(str, unknown)))}（可用：branch_comparison）")
    codes = data.get("branch_comparison") or []
    if not isinstance(codes, list) or not all(isinstance(code, (str, int)) for code in codes):
        raise ReportSettingsError(f"{source_name}：branch_comparison 应为组织编码列表，例如 [D01, D02]")
    return ReportSettings(frozenset(str(code) for code in codes))
