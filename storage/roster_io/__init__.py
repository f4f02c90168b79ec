"""Roster import and export: files ↔ typed `schedules.roster` values ↔ database, all or nothing.

    roster = read_roster(Path("roster/"), today=date.today())   # raises RosterError with every problem
    with transaction(factory) as session:
        summary = import_roster(session, roster, now=datetime.now(UTC))
    export_roster(load_roster(session), Path("out.xlsx"))
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from schedules.roster import Roster
from storage.roster_io.apply import (
    ImportPlan,
    ImportSummary,
    MemberChange,
    OrgChange,
    apply_import,
    import_roster,
    plan_import,
)
from storage.roster_io.export import export_roster
from storage.roster_io.parse import ProgressCallback, parse_date, parse_roster
from storage.roster_io.problems import RosterError, RosterProblem
from storage.roster_io.sources import RosterTables, read_tables


def read_roster(path: Path, *, today: date, progress: ProgressCallback | None = None) -> Roster:
    """Reads and validates the roster at `path`; raises RosterError listing every problem."""
    return parse_roster(read_tables(Path(path)), today=today, progress=progress)


__all__ = [
    "ImportPlan",
    "ImportSummary",
    "MemberChange",
    "OrgChange",
    "RosterError",
    "RosterProblem",
    "RosterTables",
    "apply_import",
    "export_roster",
    "import_roster",
    "parse_date",
    "parse_roster",
    "plan_import",
    "read_roster",
    "read_tables",
]
