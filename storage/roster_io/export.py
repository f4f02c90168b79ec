"""Writes a roster in the import format: a folder of two CSV files (UTF-8 with BOM) or one .xlsx, text guarded."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

from schedules.roster import Member, Organization, Role, Roster
from storage.cells import guard
from storage.roster_io.columns import MEMBERS, ORGANIZATIONS, TableSpec

LIST_SEPARATOR = "、"


def organization_cells(org: Organization) -> dict[str, Any]:
    return {
        "code": org.code, "name": org.name, "type": org.type.value, "parent_code": org.parent_code,
        "elected_on": org.elected_on, "term_years": org.term_years, "group_chat_id": org.group_chat_id,
        "timezone": org.timezone,
    }


def member_cells(member: Member) -> dict[str, Any]:
    return {
        "member_no": member.member_no, "name": member.name, "org_code": member.org_code,
        "group_code": member.group_code, "category": member.category.value, "joined_on": member.joined_on,
        "full_member_on": member.full_member_on, "activist_on": member.activist_on,
        # Enum order (书记 before 委员) reads the way a secretary would write it.
        "roles": LIST_SEPARATOR.join(role.value for role in sorted(member.roles, key=_role_rank)),
        "upper_roles": LIST_SEPARATOR.join(sorted(str(seat) for seat in member.upper_roles)),
        "leading_cadre": "是" if member.leading_cadre else "否",
        "telegram_username": member.telegram_username,
    }


def export_roster(roster: Roster, path: Path, *, chinese_headers: bool = True) -> list[Path]:
    """Writes `roster` to `path` (an .xlsx file, or else a folder) and returns the files written."""
    org_rows = [organization_cells(org) for org in _tree_order(roster)]
    member_rows = [member_cells(m) for m in sorted(roster.members, key=lambda m: m.member_no) if m.is_active]
    if path.suffix.lower() == ".xlsx":
        _write_workbook(path, [(ORGANIZATIONS, org_rows), (MEMBERS, member_rows)], chinese_headers)
        return [path]
    path.mkdir(parents=True, exist_ok=True)
    written = []
    for spec, rows in ((ORGANIZATIONS, org_rows), (MEMBERS, member_rows)):
        file = path / spec.file_name
        # utf-8-sig: the BOM is what makes Excel open a UTF-8 CSV without garbling Chinese.
        with file.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(_headers(spec, chinese_headers))
            for row in rows:
                writer.writerow([_field(row[column.key]) for column in spec.columns])
        written.append(file)
    return written


def _tree_order(roster: Roster) -> list[Organization]:
    """Parents before children, siblings by code: the order a person reads an org chart in."""
    # Roster keeps children in the order it was given, so a roster sorted by code walks siblings by code.
    by_code = Roster.of(sorted(roster.organizations, key=lambda o: o.code))
    roots = [o for o in by_code.organizations if o.parent_code not in by_code.by_code]
    return [org for root in roots for org in (root, *by_code.descendants(root.code))]


def _role_rank(role: Role) -> int:
    return list(Role).index(role)


def _headers(spec: TableSpec, chinese: bool) -> list[str]:
    return [column.zh if chinese else column.key for column in spec.columns]


def _field(value: Any) -> str:
    """A cell as text, guarded against formula injection (`storage.cells`); the importer unguards it."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return guard(str(value))


def _write_workbook(path: Path, tables: list[tuple[TableSpec, list[dict[str, Any]]]], chinese: bool) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for spec, rows in tables:
        sheet = workbook.create_sheet(spec.name)
        sheet.append(_headers(spec, chinese))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            # Codes, numbers and chat ids as text: Excel would turn 0012 into 12 and -100… into 1E+12.
            sheet.append([
                value if isinstance(value, date) or (key == "term_years" and value is not None) else _field(value)
                for key, value in ((column.key, row[column.key]) for column in spec.columns)
            ])
        for column_cells in sheet.iter_cols(min_row=2):
            for cell in column_cells:
                if isinstance(cell.value, date):
                    cell.number_format = "yyyy-mm-dd"
        sheet.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
