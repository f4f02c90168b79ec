"""Reads a roster's two tables from a folder of CSV files or one .xlsx workbook into text cells."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from storage.cells import unguard
from storage.roster_io.columns import MEMBERS, ORGANIZATIONS, Column, TableSpec
from storage.roster_io.problems import RosterError, RosterProblem

# What Excel in China writes: UTF-8 (with BOM when "CSV UTF-8" is chosen) or the ANSI code page, GB18030.
ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass
class Table:
    """One table's cells as stripped text, keyed by canonical column, with the row number a user sees."""

    label: str  # "members.csv" or "book.xlsx[members]": the file part of every problem
    headers: dict[str, str] = field(default_factory=dict)  # canonical key -> header as the user wrote it
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)

    def header(self, key: str) -> str:
        return self.headers.get(key, key)


@dataclass
class RosterTables:
    organizations: Table
    members: Table
    # Rows the reader could not read (a CSV field over the csv module's limit): listed with the rows' own problems.
    unread: list[RosterProblem] = field(default_factory=list)


def read_tables(path: Path) -> RosterTables:
    """The two tables of the roster at `path` (a folder or an .xlsx); file-level problems raise RosterError."""
    if path.is_dir():
        return _read_folder(path)
    if path.suffix.lower() == ".xlsx" and path.is_file():
        return _read_workbook(path)
    if path.suffix.lower() == ".csv" and path.is_file():
        return _read_folder(path.parent)  # pointed at one of the two files: read the pair beside it
    if not path.exists():
        raise RosterError([RosterProblem(str(path), 0, "", "找不到名册：路径不存在")])
    raise RosterError([RosterProblem(
        path.name, 0, "", "无法识别的名册：请提供包含 organizations.csv 和 members.csv 的文件夹，或一个 .xlsx 工作簿"
    )])


def decode(raw: bytes) -> str:
    """Text of a CSV file in UTF-8 (BOM or not) or GB18030; raises UnicodeDecodeError for anything else."""
    for encoding in ENCODINGS[:-1]:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode(ENCODINGS[-1])


def _read_folder(folder: Path) -> RosterTables:
    problems: list[RosterProblem] = []
    unread: list[RosterProblem] = []
    tables: list[Table] = []
    for spec in (ORGANIZATIONS, MEMBERS):
        file = _find_file(folder, spec)
        if file is None:
            problems.append(RosterProblem(spec.file_name, 0, "", f"文件夹 {folder} 中缺少此文件"))
            continue
        try:
            text = decode(file.read_bytes())
        except UnicodeDecodeError:
            problems.append(RosterProblem(file.name, 0, "", "无法识别文件编码：请另存为 UTF-8 或 GB18030 编码的 CSV"))
            continue
        unreadable: list[RosterProblem] = []
        table, table_problems = _table(spec, file.name, _csv_records(text, file.name, unreadable))
        if unreadable:  # the reader's own line says why; "the file is empty" would only mislead
            table_problems = [p for p in table_problems if p.row != 0]
        problems += table_problems
        unread += unreadable
        tables.append(table)
    if problems:
        raise RosterError(problems + unread)
    return RosterTables(*tables, unread=unread)


def _csv_records(text: str, label: str, unreadable: list[RosterProblem]) -> Iterator[tuple[int, list[str]]]:
    """The CSV's records numbered as a spreadsheet shows them; a record the csv module cannot read ends the file
    with one problem in `unreadable` (what follows it cannot be told apart from the broken field)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    row_no = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            unreadable.append(RosterProblem(label, row_no + 1, "", _csv_message(exc)))
            return
        row_no += 1
        yield row_no, cells


def _csv_message(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        message = f"单元格过长（超过 {csv.field_size_limit()} 个字符），无法读取"
    else:
        message = f"无法按 CSV 读取此行（{exc}）"
    return message + "；此行及以后的行未检查"


def _find_file(folder: Path, spec: TableSpec) -> Path | None:
    for name in (spec.file_name, f"{spec.zh_sheet}.csv"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _read_workbook(path: Path) -> RosterTables:
    from openpyxl import load_workbook  # imported here: only workbook users pay for it

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise RosterError([RosterProblem(path.name, 0, "", f"无法打开工作簿：{exc}")]) from exc
    try:
        problems: list[RosterProblem] = []
        tables: list[Table] = []
        for spec in (ORGANIZATIONS, MEMBERS):
            sheet_name = next(
                (name for name in workbook.sheetnames if name.strip().lower() in (spec.name, spec.zh_sheet)), None
            )
            if sheet_name is None:
                problems.append(RosterProblem(
                    path.name, 0, "", f"缺少工作表 {spec.name}（或 {spec.zh_sheet}）；现有：{'、'.join(workbook.sheetnames)}"
                ))
                continue
            records = ([_cell_text(value) for value in row] for row in workbook[sheet_name].iter_rows(values_only=True))
            table, table_problems = _table(spec, f"{path.name}[{sheet_name}]", enumerate(records, start=1))
            problems += table_problems
            tables.append(table)
    except RosterError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged sheet fails while its rows are read, not when opened
        raise RosterError([RosterProblem(path.name, 0, "", f"无法读取工作簿：{exc.__class__.__name__}")]) from exc
    finally:
        workbook.close()
    if problems:
        raise RosterError(problems)
    return RosterTables(*tables)


def _cell_text(value: Any) -> str:
    """Excel cells as the text a user would have typed: dates as ISO, 2019001.0 as 2019001."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _table(
    spec: TableSpec, label: str, records: Iterable[tuple[int, list[str]]]
) -> tuple[Table, list[RosterProblem]]:
    table = Table(label)
    problems: list[RosterProblem] = []
    columns: list[Column | None] = []
    for row_no, cells in records:
        if not columns and not table.headers:
            columns = [spec.column_for_header(cell) if cell else None for cell in cells]
            for column, cell in zip(columns, cells):
                if column is None:
                    continue  # extra columns (性别, 备注 …) are the user's own business
                if column.key in table.headers:
                    problems.append(RosterProblem(label, 1, cell.strip(), f"列重复：{column.key}（{column.zh}）"))
                table.headers[column.key] = cell.strip()
            missing = [c for c in spec.columns if c.required and c.key not in table.headers]
            for column in missing:
                problems.append(RosterProblem(label, 1, "", f"缺少必需的列：{column.key}（{column.zh}）"))
            if not table.headers:
                columns = [None]  # an empty header row: remember we have seen it
            continue
        values = {
            column.key: _clean(cell)
            for column, cell in zip(columns, cells)
            if column is not None
        }
        if any(values.values()):
            table.rows.append((row_no, values))
    if not columns:
        problems.append(RosterProblem(label, 0, "", "文件为空：第 1 行应为表头"))
    return table, problems


def _clean(cell: str) -> str:
    if not cell:  # most optional cells are empty
        return cell
    # `roster export` guards text against formula injection (storage.cells); the guard is not part of the value.
    return unguard(cell.replace("\u3000", " ").replace("\ufeff", "").strip())
