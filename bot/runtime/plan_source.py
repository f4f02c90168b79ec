"""The production plan source: the catalog, overrides and official calendar from config/, planned purely."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from schedules.calendar import CalendarUnknownYear, load_official_calendar
from schedules.catalog import load_catalog
from schedules.plan import Occurrence, plan_between
from schedules.roster import Roster

log = logging.getLogger(__name__)


class CatalogPlan:
    """Reads config once (call `reload()` when the files change) and answers the runtime's two questions."""

    def __init__(self, config_dir: Path, zone: ZoneInfo) -> None:
        self.config_dir = Path(config_dir)
        self.zone = zone
        self.reload()

    def reload(self) -> None:
        self.catalog = load_catalog(self.config_dir)
        self.calendar = load_official_calendar(self.config_dir / "holidays")
        self._fingerprint = self.files_fingerprint()

    def files_fingerprint(self) -> tuple:
        """Changes when the catalog, an override or a holiday file changes (the reconcile job polls it)."""
        files = [self.config_dir / "catalog.yaml", *sorted((self.config_dir / "overrides").glob("*.yaml")),
                 *sorted((self.config_dir / "holidays").glob("*"))]
        return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files if p.is_file())

    def changed_on_disk(self) -> bool:
        return self.files_fingerprint() != self._fingerprint

    def occurrences(self, roster: Roster, start: datetime, end: datetime) -> list[Occurrence]:
        try:
            return plan_between(self.catalog, roster, self.calendar, start, end, self.zone)
        except CalendarUnknownYear as exc:
            # Plan what is known; the unknown year is refused (logged) rather than planned on a guess.
            year = getattr(exc, "year", None)
            log.warning("plan: %s", exc)
            if year is None:
                return []
            cut = datetime(int(year), 1, 1, tzinfo=self.zone)
            if cut <= start:
                return []
            return plan_between(self.catalog, roster, self.calendar, start, min(end, cut), self.zone)

    def obligations_by_org(self, roster: Roster) -> dict[str, set[str]]:
        result: dict[str, set[str]] = {}
        for org in roster.organizations:
            lineage = [o.code for o in roster.ancestors(org.code)][::-1] + [org.code]
            entries = self.catalog.for_org(lineage)
            result[org.code] = {
                key for key, entry in entries.items() if entry.enabled and org.type.value in entry.applies_to
            }
        return result
