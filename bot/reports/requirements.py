"""What each unit owes, from the catalog and its per-organisation overrides (config/catalog.yaml, overrides/)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from schedules.catalog import load_catalog
from schedules.completion import Requirement, Unit, catalog_requirements
from storage.repositories import reports


def requirements_for_org(session: Session, config_dir: Path, org_code: str) -> Callable[[Unit], Sequence[Requirement]]:
    """Loads the catalog (CatalogError when it is broken) and the lineages below `org_code`, for
    `schedules.completion.catalog_requirements`."""
    return catalog_requirements(load_catalog(config_dir), reports.lineages(session, org_code))
