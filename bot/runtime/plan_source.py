"""The production plan source: the deployment's catalog, overrides and official calendar, planned purely."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.deployment import Deployment, DeploymentSource
from schedules.calendar import CalendarUnknownYear, OfficialCalendar
from schedules.catalog import Catalog
from schedules.plan import Occurrence, plan_between
from schedules.roster import Roster

log = logging.getLogger(__name__)


class CatalogPlan:
    """Plans from the deployment's configuration and answers the runtime's two questions.

    It keeps the snapshot it last planned with until the runtime calls `reload()`, so a change is noticed
    (`changed_on_disk`) even when another reader of the same source swapped the snapshot first.
    """

    def __init__(self, source: DeploymentSource) -> None:
        self.source = source
        self._deployment: Deployment = source.current()

    @classmethod
    def for_dir(cls, config_dir: Path, zone: ZoneInfo) -> "CatalogPlan":
        return cls(DeploymentSource.for_dir(config_dir, zone))

    @property
    def catalog(self) -> Catalog:
        return self._deployment.catalog

    @property
    def calendar(self) -> OfficialCalendar:
        return self._deployment.calendar

    @property
    def zone(self) -> ZoneInfo:
        return self._deployment.zone

    def reload(self) -> None:
        """Plan with the source's newest valid snapshot from now on."""
        self.source.refresh()
        self._deployment = self.source.current()

    def changed_on_disk(self) -> bool:
        self.source.refresh()
        return self.source.current() is not self._deployment

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
