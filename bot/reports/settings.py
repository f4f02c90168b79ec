"""Report settings per organisation, read from config/reports.yaml (branch comparison is off unless listed)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

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


def load_report_settings(config_dir: Path) -> ReportSettings:
    path = Path(config_dir) / REPORTS_FILE
    if not path.is_file():
        return ReportSettings()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ReportSettingsError(f"{path}：不是有效的 YAML（{exc}）") from None
    if not isinstance(data, dict):
        raise ReportSettingsError(f"{path}：应为键值对，例如 branch_comparison: [D01]")
    unknown = set(data) - {"branch_comparison"}
    if unknown:
        raise ReportSettingsError(f"{path}：不认识的字段 {'、'.join(sorted(map(str, unknown)))}（可用：branch_comparison）")
    codes = data.get("branch_comparison") or []
    if not isinstance(codes, list) or not all(isinstance(code, (str, int)) for code in codes):
        raise ReportSettingsError(f"{path}：branch_comparison 应为组织编码列表，例如 [D01, D02]")
    return ReportSettings(frozenset(str(code) for code in codes))
