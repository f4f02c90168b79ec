"""Helpers that write small rosters for tests: start from the basic fixture and change a cell or two."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from storage.roster_io.columns import MEMBERS, ORGANIZATIONS

BASIC = Path(__file__).resolve().parent.parent / "fixtures" / "roster" / "basic"

Rows = list[dict[str, str]]


def basic_rows() -> tuple[Rows, Rows]:
    """The basic fixture's organisations and members as editable dicts (English headers)."""
    return _read(BASIC / "organizations.csv"), _read(BASIC / "members.csv")


def _read(path: Path) -> Rows:
    with path.open(encoding="utf-8") as handle:
        return [dict(row) for row in csv.DictReader(handle)]


def csv_text(rows: Rows, *, chinese_headers: bool = False, spec=ORGANIZATIONS) -> str:  # noqa: ANN001
    keys = list(rows[0]) if rows else [c.key for c in spec.columns]
    zh = {c.key: c.zh for c in spec.columns}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([zh.get(k, k) if chinese_headers else k for k in keys])
    for row in rows:
        writer.writerow([row.get(k, "") for k in keys])
    return buffer.getvalue()


def write_roster(
    folder: Path, orgs: Rows, members: Rows, *, encoding: str = "utf-8", chinese_headers: bool = False
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "organizations.csv").write_bytes(
        csv_text(orgs, chinese_headers=chinese_headers, spec=ORGANIZATIONS).encode(encoding)
    )
    (folder / "members.csv").write_bytes(
        csv_text(members, chinese_headers=chinese_headers, spec=MEMBERS).encode(encoding)
    )
    return folder


def member(rows: Rows, member_no: str) -> dict[str, str]:
    return next(row for row in rows if row["member_no"] == member_no)


def org(rows: Rows, code: str) -> dict[str, str]:
    return next(row for row in rows if row["code"] == code)
