"""`branchbot activity add`: ad-hoc and rescheduled activities, their reminders, and refusals that change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.cli import main
from storage import models
from storage.db import transaction
from tests.cli_runner import cli_env  # noqa: F401  (a fixture)
from tests.runtime.factories import at, make_activity, make_branch

NOW = "2025-03-10T09:00:00+08:00"


@pytest.fixture
def cli(engine, cli_env, session_factory):  # noqa: ANN001, ANN201
    """B01 with three bound members in the database `branchbot` reads; the tests read it back through this factory."""
    with transaction(session_factory) as session:
        make_branch(session, "B01", members=3)
    return session_factory


def reminders(session_factory) -> list[tuple[int, str]]:
    """(lead minutes, due time in Shanghai) of the reminders of the newest activity."""
    with transaction(session_factory) as session:
        newest = session.scalar(select(func.max(models.Activity.id)))
        rows = session.execute(select(models.OutboxMessage.lead_minutes, models.OutboxMessage.due_at)
                               .where(models.OutboxMessage.activity_id == newest)).all()
    return sorted({(lead, due.astimezone(at("2025-01-01 00:00").tzinfo).isoformat()) for lead, due in rows})


def test_add_with_iso_time_enqueues_the_default_reminders_for_every_member(cli, capsys):
    assert main(["activity", "add", "--org", "B01", "--title", "专题学习会", "--at", "2025-03-20T15:00+08:00",
                 "--now", NOW]) == 0
    out = capsys.readouterr().out
    assert "已新增活动：专题学习会" in out and "3月20日（周四）15:00" in out
    assert "已安排提醒 9 条" in out
    with transaction(cli) as session:
        activity = session.scalars(select(models.Activity)).one()
        assert activity.source == "adhoc" and activity.starts_at == at("2025-03-20 15:00")
        leads = sorted({row.lead_minutes for row in session.scalars(select(models.OutboxMessage))})
    assert leads == [60, 1440, 4320]


def test_custom_leads_a_naive_time_quiet_hours_and_a_lead_already_passed(cli, capsys):
    assert main(["activity", "add", "--org", "B01", "--title", "支委会", "--at", "2025-03-11 08:30",
                 "--remind", "1d,2h,30m", "--now", NOW]) == 0
    with transaction(cli) as session:
        by_lead = {row.lead_minutes: row.due_at for row in session.scalars(select(models.OutboxMessage))}
    assert by_lead == {
        1440: at("2025-03-10 09:00"),  # 08:30 on the 10th had passed when it was added: it goes out now
        # 2h (06:30) is in quiet hours and moves to 08:00, where the 30-minute reminder is already due:
        # one reminder then, not two at once.
        30: at("2025-03-11 08:00"),
    }


def test_quiet_hours_are_the_bots_setting(cli, monkeypatch):
    monkeypatch.setenv("BRANCHBOT_QUIET_HOURS", "off")
    assert main(["activity", "add", "--org", "B01", "--title", "支委会", "--at", "2025-03-11 08:30",
                 "--remind", "2h", "--now", NOW]) == 0
    with transaction(cli) as session:
        dues = set(session.scalars(select(models.OutboxMessage.due_at)))
    assert dues == {at("2025-03-11 06:30")}  # not moved to 08:00: quiet hours are off


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        pytest.param("3d,1d,1h,30m", (4320, 1440, 60, 30), id="letters"),
        pytest.param("3天、1小时、30分钟", (4320, 60, 30), id="chinese-units"),
        pytest.param("1h, 1H，60m", (60,), id="duplicates-and-case"),
    ],
)
def test_parse_leads(text, minutes):
    from bot.commands.activity import parse_leads

    assert parse_leads(text) == minutes


def test_natural_language_time(cli, capsys):
    assert main(["activity", "add", "--org", "B01", "--title", "党课", "--at", "下周三下午3点", "--now", NOW]) == 0
    out = capsys.readouterr().out
    assert "3月19日（周三）15:00" in out and "时间理解为" in out


def test_rescheduling_a_planned_activity_moves_it_and_replans_its_reminders(cli, capsys):
    with transaction(cli) as session:
        org = session.scalars(select(models.Organization)).one()
        planned = make_activity(session, org, at("2025-03-15 09:00"), key="theme_party_day:B01:2025-03")
    assert main(["activity", "add", "--org", "B01", "--title", "主题党日（改期）", "--at", "2025-03-18T14:30+08:00",
                 "--obligation", "theme_party_day", "--remind", "1d", "--now", NOW]) == 0
    assert "已调整活动" in capsys.readouterr().out
    with transaction(cli) as session:
        moved = session.get(models.Activity, planned.id)
        assert moved.starts_at == at("2025-03-18 14:30") and moved.source == "moved"
        assert str(moved.moved_from) == "2025-03-15"
        assert session.scalar(select(func.count()).select_from(models.Activity)) == 1
        dues = {row.due_at for row in session.scalars(select(models.OutboxMessage))}
    assert dues == {at("2025-03-18 14:30") - timedelta(days=1)}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param(["--org", "X99", "--at", "2025-03-20 15:00"], "没有编码为 X99 的组织", id="unknown-org"),
        pytest.param(["--org", "B01", "--at", "2025-03-01 15:00"], "已经过去", id="past-time"),
        pytest.param(["--org", "B01", "--at", "2025-03-20 15:00", "--remind", "3x"], "无法识别", id="bad-lead"),
        pytest.param(["--org", "B01", "--at", "2025-03-20 15:00", "--obligation", "no_such"], "不是目录中的事项",
                     id="unknown-obligation"),
        pytest.param(["--org", "B01", "--at", "2025-03-20 15:00", "--obligation", "no_such", "--remind", "1h"],
                     "不是目录中的事项", id="unknown-obligation-with-own-leads"),
        pytest.param(["--org", "B01", "--at", "2025-02-30 15:00"], "无法确定时间", id="iso-day-that-does-not-exist"),
        pytest.param(["--org", "B01", "--at", "随便什么时候"], "无法确定时间", id="unreadable-time"),
    ],
)
def test_refusals_exit_2_with_a_chinese_reason_and_change_nothing(cli, capsys, extra, message):
    assert main(["activity", "add", "--title", "学习", "--now", NOW, *extra]) == 2
    assert message in capsys.readouterr().err
    with transaction(cli) as session:
        assert session.scalar(select(func.count()).select_from(models.Activity)) == 0
        assert session.scalar(select(func.count()).select_from(models.OutboxMessage)) == 0


def test_a_range_sets_the_activitys_end(cli, capsys):
    assert main(["activity", "add", "--org", "B01", "--title", "专题党课", "--at", "下周三下午3点到5点",
                 "--now", NOW]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "已新增活动：专题党课（编号 1），时间 3月19日（周三）15:00至17:00"
    with transaction(cli) as session:
        activity = session.scalars(select(models.Activity)).one()
        assert (activity.starts_at, activity.ends_at) == (at("2025-03-19 15:00"), at("2025-03-19 17:00"))


def test_a_range_that_ends_before_it_starts_adds_nothing(cli, capsys):
    assert main(["activity", "add", "--org", "B01", "--title", "专题党课", "--at", "下周三下午5点到3点",
                 "--now", NOW]) == 2
    assert "不晚于开始时间" in capsys.readouterr().err
    with transaction(cli) as session:
        assert session.scalars(select(models.Activity)).all() == []
