"""An organisation that switched member self check-in off: reminders and the group notice carry 📝 请假 only,
a member's ✅ 签到 (even on an old button) is refused, and the secretary's roll and 代签 still record presence."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.deployment import DeploymentSource
from storage import models
from storage.db import transaction
from storage.services import attendance as attendance_svc
from tests.chat.dialog import press, running_bot
from tests.chat.world import MEETING_START, actor

T = MEETING_START
ROOT = Path(__file__).resolve().parents[2]
REFUSED = "本支部不使用党员自助签到：出席情况由书记点名登记（含代签）。如不能参加，请点“📝 请假”。"


@pytest.fixture
def config_without_self_checkin(tmp_path) -> Path:
    """The project's config, plus D01 (the 党委 above B01 and B02) turning self check-in off."""
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    (config / "overrides" / "D01.yaml").write_text("organization:\n  self_checkin: false\n", encoding="utf-8")
    return config


def labels(message: dict) -> list[str]:
    return [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


async def test_reminders_carry_leave_only_and_check_in_is_refused(session_factory, world, config_without_self_checkin):
    async with running_bot(session_factory, world, T - timedelta(minutes=5), started=("alice", "bob", "secretary")) as chat:
        assert labels(await chat.remind("alice", "party_day")) == ["✅ 签到", "📝 请假"]  # the project default
        chat.chat.config = DeploymentSource.for_dir(config_without_self_checkin)
        reminder = await chat.remind("bob", "party_day")
        assert labels(reminder) == ["📝 请假"]
        assert labels(await chat.announce("party_day")) == ["📝 请假", "💬 先和我开始对话"]
        await chat.step("alice", "/checkin", REFUSED)
        await chat.step("alice", press("✅ 签到"), REFUSED)  # the button of the earlier reminder
        # 请假 works as before; the reminder keeps no ✅ 签到 under the request.
        await chat.run([
            ("bob", press("📝 请假"), "📝 您要为「主题党日」请假。请直接回复一句话说明原因："),
            ("bob", "出差", "已提交请假：「主题党日」，原因：出差。王书记、李副书记审批后会通知您。"),
        ])
        edited = await chat.expect(("⏰ 活动提醒：主题党日\n"
                                    "时间：3月15日（周六）09:00（5分钟后）\n"
                                    "组织：第一党支部\n"
                                    "地点：三楼会议室\n"
                                    "议程：学习党章\n"
                                    "请按时参加；如不能参加，请提前请假。\n"
                                    "\n"
                                    "📝 已请假（原因：出差），等待书记审批"))
        assert "reply_markup" not in edited.params or not labels(edited.params)
    with transaction(session_factory) as session:
        secretary = actor(session, world, "secretary")
        attendance_svc.proxy_sign(session, secretary, world.activities["party_day"], world.members["alice"], T)
        rows = session.execute(select(models.Attendance.member_id, models.Attendance.status)).all()
        assert sorted(rows) == sorted([(world.members["alice"], "proxy"), (world.members["bob"], "leave")])


def test_confirming_a_meeting_needs_no_photo_minutes_or_check_in(session_factory, world):
    """The rules forbid making photos or records a required proof: the secretary's word confirms a meeting."""
    with transaction(session_factory) as session:
        secretary = actor(session, world, "secretary")
        result = attendance_svc.confirm_activity(session, secretary, world.activities["party_day"], True,
                                                 T + timedelta(hours=3))
        activity = session.get(models.Activity, world.activities["party_day"])
        attachments = session.scalars(select(models.ActivityAttachment)).all()
        assert (result.held, activity.status, activity.minutes, attachments) == (True, "held", None, [])
