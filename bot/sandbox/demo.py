"""Loads the demo organisation and roster (config/demo/) into an empty sandbox database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage import models
from storage.db import transaction
from storage.roster_io import import_roster, read_roster


@dataclass(frozen=True, slots=True)
class DemoLoad:
    loaded: bool  # False when the database already had a roster
    organizations: int
    members: int
    source: Path | None


def demo_roster_path(config_dir: Path) -> Path:
    """The demo roster: a folder of CSV files under the configuration directory."""
    return config_dir / "demo"


def database_is_empty(session: Session) -> bool:
    """No organisation at all: the sandbox may bring its own."""
    return not session.scalar(select(func.count()).select_from(models.Organization))


def load_demo_if_empty(
    factory: sessionmaker[Session], config_dir: Path, *, now: datetime, zone: ZoneInfo,
) -> DemoLoad:
    """Imports the demo roster with the roster importer (all or nothing) when no organisation exists yet."""
    with transaction(factory) as session:
        if not database_is_empty(session):
            return DemoLoad(False, 0, 0, None)
        source = demo_roster_path(config_dir)
        roster = read_roster(source, today=now.astimezone(zone).date())
        import_roster(session, roster, now=now, actor_label="sandbox", source=str(source))
        return DemoLoad(True, len(roster.organizations), len(roster.members), source)
