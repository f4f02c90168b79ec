"""What each unit owes, from the deployment's catalog and its per-organisation overrides."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from schedules.catalog import Catalog
from schedules.completion import Requirement, Unit, catalog_requirements
from storage.services import reports


def requirements_for_org(session: Session, catalog: Catalog, org_code: str) -> Callable[[Unit], Sequence[Requirement]]:
    """The lineages below `org_code`, for `schedules.completion.catalog_requirements` over `catalog`."""
    return catalog_requirements(catalog, reports.lineages(session, org_code))
