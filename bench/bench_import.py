"""Benchmark: import a roster of 30,000 members in 1,000 branches (target: under 10 s on SQLite, < 300 MB)."""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from bench.harness import measure, report, run_main, scratch_postgres
from storage.db import make_engine, make_session_factory, transaction
from storage.migrate import ensure_schema
from storage.roster_io import import_roster, read_roster
from storage.roster_io.columns import MEMBERS, ORGANIZATIONS

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂华建国志红玉兰文斌鹏宇浩凯倩婷雪琳晨阳"
TODAY = date(2026, 6, 1)


def generate(folder: Path, *, branches: int, members_per_branch: int, seed: int = 7) -> int:
    """Writes organizations.csv and members.csv (Chinese headers, UTF-8 with BOM); returns the member count."""
    rng = random.Random(seed)
    general_branches = max(1, branches // 20)
    orgs = [["D0001", "某市直机关工委", "党委", "", "2022-06-30", "5", ""]]
    orgs += [[f"Z{g:04d}", f"第{g}党总支", "党总支", "D0001", "2024-03-15", "3", ""] for g in range(1, general_branches + 1)]
    rows = []
    number = 0
    for b in range(1, branches + 1):
        code, parent = f"B{b:05d}", f"Z{(b - 1) % general_branches + 1:04d}"
        orgs.append([code, f"第{b}党支部", "党支部", parent, "2025-01-10", "3", str(-1001000000000 - b)])
        orgs += [[f"{code}G{g}", f"第{b}支部第{g}党小组", "党小组", code, "", "", ""] for g in (1, 2)]
        for i in range(members_per_branch):
            number += 1
            group = f"{code}G{i % 2 + 1}"
            roles = {0: "书记", 1: "副书记", 2: "组织委员、党小组长", 3: "宣传委员、党小组长", 4: "纪检委员"}.get(i, "")
            upper = f"{parent}:委员" if i == 0 else ""
            joined = date(1985, 1, 1) + timedelta(days=rng.randrange(14000))
            if i < members_per_branch - 3:
                category, full, activist = "正式党员", (joined + timedelta(days=366)).isoformat(), ""
            elif i == members_per_branch - 3:
                category, joined, full, activist = "预备党员", date(2025, 11, 3), "", "2022-05-01"
            else:
                category, joined, full, activist = "入党积极分子", None, "", "2025-04-18"
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
            rows.append([
                f"{number:08d}", name, code, group, category, joined.isoformat() if joined else "", full, activist,
                roles, upper, "是" if i == 0 and b % 10 == 0 else "否", f"member_{number:08d}" if number % 2 else "",
            ])
    folder.mkdir(parents=True, exist_ok=True)
    for spec, table in ((ORGANIZATIONS, orgs), (MEMBERS, rows)):
        with (folder / spec.file_name).open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([c.zh for c in spec.columns][: len(table[0])])
            writer.writerows(table)
    return number


def import_once(url: str, folder: Path, now: datetime) -> tuple[dict[str, float], dict[str, int]]:
    engine = make_engine(url)
    try:
        with measure(trace_memory=False) as parse:
            roster = read_roster(folder, today=TODAY)
        with measure(trace_memory=False) as write, transaction(make_session_factory(engine)) as session:
            summary = import_roster(session, roster, now=now)
    finally:
        engine.dispose()
    seconds = {"parse_s": parse.seconds, "write_s": write.seconds, "total_s": parse.seconds + write.seconds}
    return seconds, summary.counts()


def bench(url: str, backend: str, folder: Path, members: int) -> None:
    ensure_schema(url)
    now = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
    first, counts = import_once(url, folder, now)
    report("roster_import", backend=backend, members=members, members_added=counts["members_added"], **first)
    again, counts = import_once(url, folder, now + timedelta(hours=1))
    report("roster_reimport_unchanged", backend=backend, members=members, members_unchanged=counts["members_unchanged"],
           **again)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--branches", type=int, default=1000)
    parser.add_argument("--members-per-branch", type=int, default=30)
    parser.add_argument("--postgres", action="store_true", help="also run against PostgreSQL on 127.0.0.1:5432")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "roster"
        members = generate(folder, branches=args.branches, members_per_branch=args.members_per_branch)
        bench(f"sqlite:///{scratch}/bench.db", "sqlite", folder, members)
        if args.postgres:
            with scratch_postgres("bench_import") as url:
                bench(url, "postgresql", folder, members)


if __name__ == "__main__":
    run_main(main)
