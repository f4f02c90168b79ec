"""One completion, three formats: chat /attendance, `report attendance --format json` and the workbook agree.

The deployment has overrides (a branch without 党课, one whose 支委会 is quarterly), so a reader that ignored
cadence or overrides would disagree; the workbook's 完成情况 sheet is compared row by row with the JSON cells."""

from __future__ import annotations

import json
import random
import re
import shutil
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot import texts
from bot.cli import main
from bot.reports.labels import obligation_label
from bot.reports.requirements import requirements_for_org
from bot.settings import PROJECT_CONFIG_DIR
from bot.deployment import load_catalog, load_official_calendar
from schedules.completion import THREE_MEETINGS_ONE_LECTURE
from schedules.plan import build_plan
from schedules.roles import Role, Seat
from schedules.roster import Category, Member, Organization, OrgType, Roster
from storage import models
from storage.db import transaction
from storage.repositories import activities as activity_repo
from storage.roster_io.apply import import_roster
from storage.services import queries
from storage.services.actors import Actor
from storage.services.attendance import expected_ids
from tests.cli_runner import point_cli_at

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 10, 15, 10, tzinfo=SHANGHAI)
PERIODS = [("2025Q1", "2025-01-01", "2025-03-31"), ("2025-07", "2025-07-01", "2025-07-31"),
           ("2025Q4", "2025-10-01", "2025-12-31"), ("2025", "2025-01-01", "2025-12-31")]
FIGURES = re.compile(r"^(?:• .+?（(?P<code>[^）]+)）|合计)：已召开会议 (?P<held>\d+) 次，出勤率 (?P<rate>\S+?)；"
                     r"三会一课 完成 (?P<met>\d+)、补开 (?P<late>\d+)、未开展 (?P<missed>\d+)、进行中 (?P<pending>\d+)"
                     r"(?:、无记录 (?P<no_record>\d+))?$")


def generated_roster(rng: random.Random) -> Roster:
    organizations = [Organization("D01", "机关党委", OrgType.COMMITTEE)]
    members = []
    for b in range(1, 4):
        code = f"B{b}"
        organizations.append(Organization(code, f"第{b}党支部", OrgType.BRANCH, "D01"))
        groups = [f"{code}G{g}" for g in range(1, rng.randint(0, 2) + 1)]
        organizations += [Organization(g, f"{code}第{g[-1]}党小组", OrgType.GROUP, code) for g in groups]
        for i in range(rng.randint(3, 7)):
            roles = frozenset({Role.SECRETARY}) if i == 0 else frozenset({Role.COMMITTEE_MEMBER}) if i == 1 else frozenset()
            members.append(Member(f"{b}{i:02d}", f"党员{b}{i:02d}", code, rng.choice([Category.FULL, Category.PROBATIONARY]),
                                  rng.choice([None, *groups]), joined_on=date(2010, 5, 1), roles=roles))
    return Roster.of(organizations, members)


OVERRIDES = {
    "B2": "party_lecture:\n  enabled: false\n",
    "B3": "committee_meeting:\n  cadence: quarterly\n  when: {month: last, weekday: tuesday, nth: first}\n",
}


@pytest.fixture
def config_dir(tmp_path):
    """The shipped configuration with the overrides above."""
    config = tmp_path / "config"
    shutil.copytree(PROJECT_CONFIG_DIR, config)
    for code, text in OVERRIDES.items():
        (config / "overrides" / f"{code}.yaml").write_text(text, encoding="utf-8")
    return config


def generate(session, seed: int, config) -> list[str]:
    """A year of the shipped catalog's plan for a generated roster, with held, missed and pending meetings."""
    rng = random.Random(seed)
    roster = generated_roster(rng)
    import_roster(session, roster, now=datetime(2024, 12, 1, tzinfo=SHANGHAI))
    occurrences = build_plan(load_catalog(config), roster, load_official_calendar(config / "holidays"), 2025, SHANGHAI)
    activity_repo.upsert_occurrences(session, occurrences)
    for activity in session.scalars(select(models.Activity).where(models.Activity.starts_at < NOW)):
        activity.status = rng.choices(["held", "not_held", "scheduled", "cancelled"], [6, 1, 2, 1])[0]
        if activity.status == "held" and activity.kind == "meeting":
            for member_id in expected_ids(session, activity):
                answer = rng.choices(["present", "leave", "proxy", None], [6, 1, 1, 2])[0]
                if answer:
                    session.add(models.Attendance(activity_id=activity.id, member_id=member_id, status=answer))
    return [org.code for org in roster.organizations if org.type is not OrgType.GROUP]


@pytest.mark.parametrize("seed", [1, 2])
def test_attendance_json_and_workbook_give_the_same_figures(seed, db_url, session_factory, monkeypatch, tmp_path, capsys,
                                                            config_dir):
    with transaction(session_factory) as session:
        codes = generate(session, seed, config_dir)
        unit_names = dict(session.execute(select(models.Organization.code, models.Organization.name)).all())
        d01 = session.scalars(select(models.Organization.id).where(models.Organization.code == "D01")).one()
    viewer = Actor(0, "0", "党委委员", d01, None, "正式党员", False, frozenset({Seat(d01, Role.SECRETARY, True)}))
    point_cli_at(monkeypatch, db_url, config_dir=config_dir)
    compared = 0
    for code in codes:
        for label, start, end in PERIODS:
            window = ["--org", code, "--from", start, "--to", end, "--now", NOW.isoformat()]
            assert main(["report", "attendance", *window, "--format", "json"]) == 0
            data = json.loads(capsys.readouterr().out)
            book_path = tmp_path / f"{code}-{label}.xlsx"
            assert main(["report", "attendance", *window, "--format", "xlsx", "--output", str(book_path)]) == 0
            capsys.readouterr()
            with transaction(session_factory) as session:
                answer = queries.attendance(session, viewer, [label, code], NOW, SHANGHAI, requirements_of=lambda s, c: (
                    requirements_for_org(s, load_catalog(config_dir), c)))
                chat = texts.attendance_answer(answer)
            lines = [m.groupdict() for line in chat.splitlines() if (m := FIGURES.match(line))]
            total, *bullets = lines
            by_code = {line["code"]: line for line in bullets} or {code: total}
            names = {}
            for org in data["organizations"]:
                names[org["name"]] = org["org"]
                if org["type"] != OrgType.BRANCH.value:
                    continue
                shown = by_code[org["org"]]
                verdicts = org["three_meetings_one_lecture"]
                assert (int(shown["held"]), shown["rate"], int(shown["met"]), int(shown["late"]), int(shown["missed"]),
                        int(shown["pending"]), int(shown["no_record"] or 0)) == (
                    org["meetings_held"], texts.percent(org["attendance_rate"]), verdicts["met"], verdicts["late"],
                    verdicts["missed"], verdicts["pending"], verdicts["no_record"]), (code, label, org["org"], chat)
                compared += 1
            sums = {k: sum(o["three_meetings_one_lecture"][k] for o in data["organizations"])
                    for k in ("met", "late", "missed", "pending", "no_record")}
            assert {k: int(total[k] or 0) for k in sums} == sums, (code, label, chat)
            held = [a for a in data["activities"] if a["kind"] == "meeting" and a["status"] == "held"]
            expected = sum(a["expected"] for a in held)
            assert total["rate"] == texts.percent(sum(a["present"] for a in held) / expected if expected else None)
            # The workbook's completion sheet, 三会一课 rows summed per branch.
            sheet = load_workbook(book_path)["完成情况"]
            wanted = {obligation_label(key) for key in THREE_MEETINGS_ONE_LECTURE}
            per_branch: dict[str, list[int]] = {}
            for row in sheet.iter_rows(min_row=4, values_only=True):
                if row[2] in wanted:
                    figures = per_branch.setdefault(names.get(row[0], row[0]), [0, 0, 0, 0])
                    for i, value in enumerate(row[4:8]):
                        figures[i] += value
            for org in data["organizations"]:
                if org["type"] == OrgType.BRANCH.value:
                    verdicts = org["three_meetings_one_lecture"]
                    assert per_branch.get(org["org"], [0, 0, 0, 0]) == [
                        verdicts["met"], verdicts["late"], verdicts["missed"], verdicts["pending"]], (code, label)
            # Every row of the sheet (every obligation and unit) is the JSON's cells counted.
            cells: dict[tuple, list[dict]] = {}
            for cell in data["completion"]:
                key = (unit_names[cell["org"]], unit_names[cell["unit"]], obligation_label(cell["obligation"]))
                cells.setdefault(key, []).append(cell)
            from_json = {}
            for key, group in cells.items():
                states = Counter(cell["state"] for cell in group)
                from_json[key] = (len(group) - states["no_record"], states["met"], states["late"], states["missed"],
                                  states["pending"], "、".join(c["period"] for c in group if c["state"] == "missed"))
            from_sheet = {tuple(row[:3]): (*row[3:8], row[8] or "")
                          for row in sheet.iter_rows(min_row=4, values_only=True) if row[0]}
            assert from_sheet == from_json, (code, label)
            assert not any(c["obligation"] == "party_lecture" and c["org"] == "B2" for c in data["completion"])
    assert compared >= 3 * len(PERIODS) * 2
