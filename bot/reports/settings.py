"""Report settings per organisation, from config/reports.yaml (branch comparison is off unless listed)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot import texts

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
        raise ReportSettingsError(texts.reports_settings_not_mapping(source_name))
    unknown = set(data) - {"branch_comparison"}
    if unknown:
        raise ReportSettingsError(texts.reports_settings_unknown_fields(source_name, sorted(map(str, unknown))))
    codes = data.get("branch_comparison") or []
    if not isinstance(codes, list) or not all(isinstance(code, (str, int)) for code in codes):
        raise ReportSettingsError(texts.reports_settings_codes_not_list(source_name))
    return ReportSettings(frozenset(str(code) for code in codes))
