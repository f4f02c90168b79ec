"""`branchbot rectification add|list|close|export` and the 台账's 整改清单 and 谈心谈话记录 sheets, read back with openpyxl."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import main
from storage import models
from storage.db import transaction
from storage.services import talks as talk_svc
from storage.services.actors import actor_for_member_no
from tests.chat.world import SHANGHAI
from tests.cli_runner import cli_world  # noqa: F401  (a fixture)

NOW = "2025-03-15T10:00:00+08:00"
ADD = ["rectification", "add", "--org", "B01", "--problem", "三会一课记录不规范", "--source", "组织生活会",
       "--measures", "会后三日内整理记录", "--owner", "P003", "--owner", "P004", "--deadline", "本月底前", "--now", NOW]


def test_add_list_close_on_the_command_line(cli_world, session_factory, capsys):
    assert main([*ADD, "--by", "P001"]) == 0
    assert capsys.readouterr().out == ("已登记整改事项 #1：三会一课记录不规范（第一党支部），责任人 张三、李四，"
                                       "时限 本月底（2025年3月31日 星期一）当天结束前\n")
    assert main(["rectification", "list", "--org", "D01", "--format", "json", "--now", "2025-04-02T10:00:00+08:00"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert {k: listed[k] for k in ("id", "org", "source", "owners", "due_on", "overdue_days", "closed_at")} == {
        "id": 1, "org": "B01", "source": "组织生活会", "owners": ["张三", "李四"], "due_on": "2025-03-31",
        "overdue_days": 2, "closed_at": None}
    assert main(["rectification", "close", "1", "--evidence", "记录已补齐", "--by", "P003", "--now", NOW]) == 2
    assert capsys.readouterr().err == "错误：只有本支部书记或副书记可以进行此操作。\n"
    assert main(["rectification", "close", "1", "--evidence", "记录已补齐", "--by", "P001", "--now", NOW]) == 0
    assert capsys.readouterr().out == "已销号：#1 三会一课记录不规范，依据：记录已补齐\n"
    assert main(["rectification", "list", "--org", "B01", "--now", NOW]) == 0
    assert capsys.readouterr().out == "没有整改事项。\n"
    assert main(["rectification", "list", "--org", "B01", "--all", "--now", NOW]) == 0
    assert capsys.readouterr().out == "#1\t第一党支部\t三会一课记录不规范\t组织生活会\t张三、李四\t2025-03-31\t已销号\n"
    with transaction(session_factory) as session:
        actions = session.scalars(select(models.AuditEntry.action).where(models.AuditEntry.entity == "rectification")
                                  .order_by(models.AuditEntry.id)).all()
        assert actions == ["rectification.add", "rectification.close"]


@pytest.mark.parametrize("change, message", [
    pytest.param(["--source", "座谈会"], "错误：问题来源应为：组织生活会、民主生活会、巡察、党建督查、述职评议，而不是“座谈会”。\n",
                 id="unknown-source"),
    pytest.param(["--deadline", "上个月"],
                 "错误：看不懂期限“上个月”\n例如：本月底前、周五前、3月15日前、国庆节前、年底前、3个工作日内\n", id="bad-deadline"),
    pytest.param(["--by", "P003"], "错误：只有本支部书记、副书记或上级党组织委员可以登记整改事项。\n", id="not-the-secretary"),
    pytest.param(["--owner", "P102"], "错误：责任人须是本支部的党员。\n", id="owner-of-another-branch"),
])
def test_refusals_change_nothing(cli_world, session_factory, capsys, change, message):
    args = [*ADD, "--by", "P001"]
    flag = change[0]
    if flag in ("--source", "--deadline", "--by"):
        args[args.index(flag) + 1] = change[1]
    else:
        args += change
    assert main(args) == 2
    assert capsys.readouterr().err == message
    with transaction(session_factory) as session:
        assert session.scalars(select(models.Rectification)).all() == []


def test_export_and_the_ledger_sheets(cli_world, session_factory, tmp_path, capsys):
    assert main([*ADD, "--by", "P201"]) == 0  # the upper committee raises it
    with transaction(session_factory) as session:
        secretary = actor_for_member_no(session, "P001")
        talk_svc.record_talk(session, secretary, cli_world.members["alice"], date(2025, 3, 5),
                             datetime(2025, 3, 15, 10, tzinfo=SHANGHAI), topic="思想交流")
    export = tmp_path / "整改清单.xlsx"
    assert main(["rectification", "export", "--org", "D01", "--output", str(export), "--now", NOW]) == 0
    sheet = load_workbook(export)["整改清单"]
    assert [c.value for c in sheet[3]] == ["序号", "支部", "问题", "来源", "整改措施", "责任人", "时限", "进展", "状态",
                                           "销号日期", "销号依据"]
    assert [c.value for c in sheet[4]][:9] == [1, "第一党支部", "三会一课记录不规范", "组织生活会", "会后三日内整理记录",
                                               "张三、李四", "2025-03-31（本月底前）", None, "整改中"]
    ledger = tmp_path / "台账.xlsx"
    assert main(["report", "attendance", "--org", "B01", "--format", "xlsx", "--output", str(ledger),
                 "--now", "2025-04-02T10:00:00+08:00"]) == 0
    book = load_workbook(ledger)
    assert {"整改清单", "谈心谈话记录"} <= set(book.sheetnames)
    assert [c.value for c in book["整改清单"][4]][8] == "逾期2天"
    talks = book["谈心谈话记录"]
    assert [c.value for c in talks[3]] == ["序号", "日期", "支部", "支委", "谈话对象", "话题", "记录人"]
    assert [c.value for c in talks[4]] == [1, "2025-03-05", "第一党支部", "王书记", "张三", "思想交流", "王书记"]
    assert [c.value for c in talks[6]][:5] == ["支部", "支委", "已谈", "待谈", "尚未谈话的同志"]
    assert [c.value for c in talks[7]][:5] == ["第一党支部", "王书记", 1, 4, "李副书记、李四、赵老、郑新"]
    assert [c.value for c in talks[8]][:5] == ["第一党支部", "李副书记", 0, 5, "王书记、张三、李四、赵老、郑新"]
