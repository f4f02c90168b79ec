"""What each unit owes, from the catalog and its per-organisation overrides (config/catalog.yaml, overrides/)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy.orm import Session

from schedules.catalog import Catalog, load_catalog
from schedules.completion import Requirement, Unit, requirements_from_catalog
from storage.repositories import reports


def catalog_requirements(catalog: Catalog, lineages: dict[str, tuple[str, ...]]) -> Callable[[Unit], Sequence[Requirement]]:
    """`requirements_for(unit)` for `evaluate_completion`, memoised per override chain (thousands of
    branches usually share one or two chains)."""
    cache: dict[tuple[str, ...], tuple[Requirement, ...]] = {}

    def requirements_for(unit: Unit) -> Sequence[Requirement]:
        chain = catalog.override_chain(lineages.get(unit.code, (unit.code,)))
        if chain not in cache:
            cache[chain] = requirements_from_catalog(catalog.resolved(chain))
        return cache[chain]

    return requirements_for


def requirements_for_org(session: Session, config_dir: Path, org_code: str) -> Callable[[Unit], Sequence[Requirement]]:
    """Loads the catalog (CatalogError when it is broken) and the lineages below `org_code`."""
    return catalog_requirements(load_catalog(config_dir), reports.lineages(session, org_code))
