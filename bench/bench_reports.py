"""Benchmark: branch-year ledger and organisation-quarter completion over five years of 1,000 branches."""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

from bench.harness import PG_ADMIN_URL, measure, report, run_main
from bot.reports.workbook import workbook_bytes
from schedules.completion import evaluate_completion, quarter_period, summarise_by_branch, year_period
from storage import models
from storage.db import make_engine, make_session_factory, transaction
from storage.services import queries, reports

ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 1, 10, tzinfo=ZONE)
DEFAULT_SQLITE = Path("/tmp/branchbot-bench/reports.sqlite")
PG_DATABASE = "branchbot_bench_reports"
STATUS_WEIGHTS = (("present", 90), ("leave", 6), ("absent", 3), ("proxy", 1))
MEMBERS_PER_BRANCH = 45
COMMITTEE_SIZE = 5

# (obligation, months it happens in, who attends). About 1,800 attendance rows per branch-year.
SCHEDULE = (
    ("theme_party_day", range(1, 13), "all"),
    ("committee_meeting", range(1, 13), "branch_committee"),
    ("group_meeting", range(1, 13), "group"),
    ("general_assembly", (3, 6, 9, 12), "all"),
    ("party_lecture", (2, 5, 8, 11), "all"),
    ("study_day", (1, 3, 5, 7, 9, 11), "all"),
    ("org_life_meeting", (12,), "all"),
)


@dataclass(frozen=True)
class Shape:
    branches: int
    years: tuple[int, ...]
    groups_per_branch: int = 2

    @property
    def label(self) -> str:
        return f"{self.branches}b-{self.years[0]}-{self.years[-1]}"


def _utc_text(moment: datetime) -> str:
    """SQLAlchemy's SQLite DateTime storage format, for the UTC value UTCDateTime would bind."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


class Rows:
    """Deterministic generated rows for every table the reports read."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.now = datetime(2026, 1, 10, tzinfo=timezone.utc)
        self.orgs: list[tuple] = []
        self.members: list[tuple] = []
        self.roles: list[tuple] = []
        self.branch_members: dict[int, list[int]] = {}
        self.group_members: dict[int, list[int]] = {}
        self.committee: dict[int, list[int]] = {}
        self.groups_of: dict[int, list[int]] = {}
        self._build_roster()

    def _build_roster(self) -> None:
        org_id = 1
        self.orgs.append((org_id, "ROOT", "全市机关党委", "党委", None))
        root = org_id
        member_id = 0
        per_general = 100
        general = None
        for b in range(self.shape.branches):
            if b % per_general == 0:
                org_id += 1
                general = org_id
                self.orgs.append((general, f"Z{b // per_general:02d}", f"第{b // per_general + 1}党总支", "党总支", root))
            org_id += 1
            branch = org_id
            self.orgs.append((branch, f"B{b:04d}", f"第{b + 1}支部", "党支部", general))
            groups = []
            for g in range(self.shape.groups_per_branch):
                org_id += 1
                groups.append(org_id)
                self.orgs.append((org_id, f"B{b:04d}G{g + 1}", f"第{b + 1}支部第{g + 1}党小组", "党小组", branch))
            self.groups_of[branch] = groups
            ids = []
            for n in range(MEMBERS_PER_BRANCH):
                member_id += 1
                group = groups[n % len(groups)]
                self.members.append((member_id, f"P{b:04d}{n:02d}", f"党员{b}-{n}", branch, group))
                ids.append(member_id)
                self.group_members.setdefault(group, []).append(member_id)
            self.branch_members[branch] = ids
            self.committee[branch] = ids[:COMMITTEE_SIZE]
            for seat, role in zip(ids[:COMMITTEE_SIZE], ("书记", "副书记", "组织委员", "宣传委员", "纪检委员")):
                self.roles.append((seat, branch, role, False))

    def activities_and_attendance(self) -> Iterator[tuple[tuple, list[tuple]]]:
        rng = random.Random(20250101)
        statuses = [s for s, w in STATUS_WEIGHTS for _ in range(w)]
        activity_id = 0
        for branch, members in self.branch_members.items():
            code = next(o[1] for o in self._org_rows_by_id([branch]))
            for year in self.shape.years:
                for obligation, months, who in SCHEDULE:
                    for month in months:
                        hosts = [(g, self.group_members[g]) for g in self.groups_of[branch]] if who == "group" else [
                            (branch, self.committee[branch] if who == "branch_committee" else members)
                        ]
                        for org, audience in hosts:
                            activity_id += 1
                            day = 15 if obligation == "theme_party_day" else 5 + (month * 7 + org) % 20
                            starts = datetime(year, month, day, 9, tzinfo=ZONE)
                            held = rng.random() < 0.95
                            activity = (
                                activity_id, f"{obligation}:{code}:{org}:{year}-{month:02d}", org, obligation,
                                f"{year}年{month}月{obligation}", starts, "held" if held else "not_held",
                                "branch_committee" if who == "branch_committee" else "all_members",
                            )
                            marks = (
                                [(activity_id, m, statuses[rng.randrange(100)]) for m in audience] if held else []
                            )
                            yield activity, marks

    def _org_rows_by_id(self, ids: list[int]) -> Iterator[tuple]:
        # Org ids are dense from 1, so the row of id n is at position n - 1.
        for org_id in ids:
            yield self.orgs[org_id - 1]


def generate_sqlite(path: Path, shape: Shape) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    models.Base.metadata.create_all(engine)
    engine.dispose()
    rows = Rows(shape)
    stamp = _utc_text(rows.now)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    with conn:
        conn.executemany(
            "INSERT INTO organizations (id, code, name, type, parent_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?)",
            [(*o, stamp, stamp) for o in rows.orgs],
        )
        conn.executemany(
            "INSERT INTO members (id, member_no, name, org_id, group_id, category, leading_cadre, status, created_at,"
            " updated_at) VALUES (?,?,?,?,?,'正式党员',0,'active',?,?)",
            [(*m, stamp, stamp) for m in rows.members],
        )
        conn.executemany("INSERT INTO member_roles (member_id, org_id, role, upper) VALUES (?,?,?,?)", rows.roles)
    count = 0
    activity_batch: list[tuple] = []
    mark_batch: list[tuple] = []

    def flush() -> None:
        with conn:
            conn.executemany(
                "INSERT INTO activities (id, occurrence_key, org_id, obligation, kind, title, starts_at, audience,"
                " source, status, requires_confirmation, reminder_leads, created_at, updated_at)"
                " VALUES (?,?,?,?,'meeting',?,?,?,'plan',?,1,'',?,?)",
                activity_batch,
            )
            conn.executemany(
                "INSERT INTO attendance (activity_id, member_id, status, recorded_at, via) VALUES (?,?,?,?,'private')",
                mark_batch,
            )
        activity_batch.clear()
        mark_batch.clear()

    for (aid, key, org, obligation, title, starts, status, audience), marks in rows.activities_and_attendance():
        activity_batch.append((aid, key, org, obligation, title, _utc_text(starts), audience, status, stamp, stamp))
        mark_batch.extend((a, m, s, stamp) for a, m, s in marks)
        count += len(marks)
        if len(mark_batch) > 200_000:
            flush()
    flush()
    conn.execute("ANALYZE")
    conn.close()
    return count


def generate_postgresql(url: str, shape: Shape) -> int:
    engine = make_engine(url)
    models.Base.metadata.drop_all(engine)
    models.Base.metadata.create_all(engine)
    rows = Rows(shape)
    count = 0
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy("COPY organizations (id, code, name, type, parent_id, created_at, updated_at) FROM STDIN") as copy:
            for o in rows.orgs:
                copy.write_row((*o, rows.now, rows.now))
        with cursor.copy(
            "COPY members (id, member_no, name, org_id, group_id, category, leading_cadre, status, created_at, updated_at)"
            " FROM STDIN"
        ) as copy:
            for m in rows.members:
                copy.write_row((*m, "正式党员", False, "active", rows.now, rows.now))
        with cursor.copy("COPY member_roles (member_id, org_id, role, upper) FROM STDIN") as copy:
            for r in rows.roles:
                copy.write_row(r)
        # Two passes over the deterministic generator keep 9 million rows out of memory.
        with cursor.copy(
            "COPY activities (id, occurrence_key, org_id, obligation, kind, title, starts_at, audience, source, status,"
            " requires_confirmation, reminder_leads, created_at, updated_at) FROM STDIN"
        ) as copy:
            for (aid, key, org, obligation, title, starts, status, audience), _ in rows.activities_and_attendance():
                copy.write_row((aid, key, org, obligation, "meeting", title, starts, audience, "plan", status, True, "",
                                rows.now, rows.now))
        with cursor.copy("COPY attendance (activity_id, member_id, status, recorded_at, via) FROM STDIN") as copy:
            for _, marks in rows.activities_and_attendance():
                for a, m, s in marks:
                    copy.write_row((a, m, s, rows.now, "private"))
                count += len(marks)
        for table in ("organizations", "members", "activities", "attendance"):
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return count


def _pg_url(admin_url: str) -> str | None:
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": PG_DATABASE}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
        return admin.url.set(database=PG_DATABASE).render_as_string(hide_password=False)
    except Exception:  # noqa: BLE001 - PostgreSQL unreachable: the benchmark runs on SQLite only
        return None
    finally:
        admin.dispose()


def _attendance_rows(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(models.Attendance)).scalar_one()
    except Exception:  # noqa: BLE001 - no schema yet
        return 0
    finally:
        engine.dispose()


def branch_year_report(session, code: str, year: int) -> tuple[reports.AttendanceReport, int]:
    """What the branch-year 台账 shows, computed: ledger, completion, every tally, the whole matrix, rates."""
    report = reports.load_report(session, code, year_period(year), ZONE, NOW)
    ledger = report.ledger
    branch = ledger.by_code[code]
    cells = 0
    meetings = ledger.meetings(branch)
    for activity in meetings:
        ledger.tally(activity)
    for member_id in ledger.matrix_member_ids(branch):
        for activity in meetings:
            ledger.status_of(activity, member_id)
            cells += 1
    ledger.monthly_rates(branch)
    return report, cells


def org_quarter_completion(session, code: str, year: int, quarter: int) -> int:
    window = quarter_period(year, quarter)
    inputs = reports.load_completion_inputs(session, code, window, ZONE)
    cells = evaluate_completion(inputs.units, inputs.facts, window=window, now=NOW, zone=ZONE)
    summarise_by_branch(cells)
    return len(cells)


def time_backend(backend: str, url: str, shape: Shape, repeats: int, generated: dict) -> None:
    engine = make_engine(url)
    factory = make_session_factory(engine)
    rng = random.Random(7)
    year = shape.years[-2] if len(shape.years) > 1 else shape.years[0]
    branch_times = []
    xlsx_times = []
    cells = 0
    for n in range(repeats):
        code = f"B{rng.randrange(shape.branches):04d}"
        with transaction(factory) as session:
            started = time.perf_counter()
            report_data, cells = branch_year_report(session, code, year)
            branch_times.append(time.perf_counter() - started)
        if n < 3:  # formatting is the same on every backend; a few samples are enough
            started = time.perf_counter()
            workbook_bytes(report_data)
            xlsx_times.append(time.perf_counter() - started)
    quarter_times = []
    units = 0
    for quarter in (1, 2, 3, 4):
        with transaction(factory) as session:
            started = time.perf_counter()
            units = org_quarter_completion(session, "ROOT", year, quarter)
            quarter_times.append(time.perf_counter() - started)
    with transaction(factory) as session, measure() as memory:
        org_quarter_completion(session, "ROOT", year, 2)
    # The lists' lower bound (queries.listed_since: /upcoming, /checkin, /leave, /absent, /plan) for one branch with
    # its groups, over every activity the shape made: one pass through the organisations' index.
    since_times = []
    for _ in range(repeats):
        code = f"B{rng.randrange(shape.branches):04d}"
        with transaction(factory) as session:
            org_ids = list(session.scalars(select(models.Organization.id).where(models.Organization.code.like(f"{code}%"))))
            started = time.perf_counter()
            queries.listed_since(session, NOW, org_ids)
            since_times.append(time.perf_counter() - started)
    with transaction(factory) as session:
        activities = session.scalar(select(func.count()).select_from(models.Activity))
    engine.dispose()
    report(
        "reports",
        backend=backend,
        shape=shape.label,
        attendance_rows=generated["rows"],
        generation_seconds=generated["seconds"],
        branch_year_median_ms=statistics.median(branch_times) * 1000,
        branch_year_max_ms=max(branch_times) * 1000,
        branch_year_matrix_cells=cells,
        branch_year_xlsx_median_ms=statistics.median(xlsx_times) * 1000,
        org_quarter_median_ms=statistics.median(quarter_times) * 1000,
        org_quarter_max_ms=max(quarter_times) * 1000,
        org_quarter_verdicts=units,
        org_quarter_peak_python_mb=memory.peak_python_mb,
        activities=activities,
        branch_listed_since_median_ms=statistics.median(since_times) * 1000,
        target_branch_year_ms=100,
        target_org_quarter_ms=1000,
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--branches", type=int, default=1000)
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--sqlite", type=Path, default=DEFAULT_SQLITE)
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the data even if it looks complete")
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    shape = Shape(args.branches, tuple(range(2021, 2021 + args.years)))

    targets = []
    if args.backend in ("sqlite", "both"):
        targets.append(("sqlite", f"sqlite:///{args.sqlite}"))
    if args.backend in ("postgresql", "both"):
        pg = _pg_url(args.pg_admin_url)
        if pg:
            targets.append(("postgresql", pg))
    for backend, url in targets:
        marker = Path(str(args.sqlite) + f".{backend}.{shape.label}.done")
        # Reuse earlier data only when the database still holds exactly what that run generated.
        rows = 0
        if marker.exists() and not args.regenerate and _attendance_rows(url) == int(marker.read_text()):
            rows = int(marker.read_text())
        seconds = 0.0
        if rows == 0:
            started = time.perf_counter()
            rows = generate_sqlite(args.sqlite, shape) if backend == "sqlite" else generate_postgresql(url, shape)
            seconds = time.perf_counter() - started
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.write_text(str(rows))
        time_backend(backend, url, shape, args.repeats, {"rows": rows, "seconds": seconds})


if __name__ == "__main__":
    run_main(main)
