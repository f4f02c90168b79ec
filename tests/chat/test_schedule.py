"""/schedule, /reschedule and /cancel: the card with its warnings, confirmation, and notices to the reminded."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.settings import PROJECT_CONFIG_DIR as PROJECT_CONFIG
from storage import models
from storage.db import transaction
from storage.errors import AlreadyHandled, PermissionDenied
from storage.services import schedule_cards as scheduling
from tests.runtime.factories import rendered
from tests.chat.dialog import press, running_bot
from tests.chat.world import MEETING_START, SHANGHAI, actor, add_sent_reminder, build_world

NOW = MEETING_START - timedelta(days=1)  # Friday 14 March 2025, 09:00


def weekdays_only(day: date) -> bool:
    return day.weekday() < 5


@pytest.mark.parametrize(("starts_at", "expected"), [
    pytest.param(datetime(2025, 3, 19, 15, 0, tzinfo=SHANGHAI), [], id="wednesday-afternoon-no-warning"),
    pytest.param(datetime(2025, 3, 16, 10, 0, tzinfo=SHANGHAI), ["⚠️ 这天是节假日或周末（按国家调休安排不上班）。"], id="sunday"),
    pytest.param(datetime(2025, 3, 19, 20, 0, tzinfo=SHANGHAI), ["⚠️ 时间在工作时间（08:30–18:00）之外。"], id="evening"),
    pytest.param(datetime(2025, 3, 15, 10, 0, tzinfo=SHANGHAI), ["⚠️ 这天是节假日或周末（按国家调休安排不上班）。", "⚠️ 与「主题党日」（3月15日 09:00）时间冲突。"],
                 id="clashes-with-party-day"),
])
def test_draft_warnings(session, starts_at, expected):
    world = build_world(session)
    secretary = actor(session, world, "secretary")
    draft = scheduling.draft(session, secretary, scheduling.NEW, NOW, SHANGHAI, weekdays_only,
                             title="专题党课", starts_at=starts_at, place="三楼会议室")
    assert list(draft.warnings) == expected


def test_unknown_year_is_a_warning_not_a_guess(session):
    world = build_world(session)
    secretary = actor(session, world, "secretary")
    draft = scheduling.draft(session, secretary, scheduling.NEW, NOW, SHANGHAI, lambda day: None,
                             title="党课", starts_at=datetime(2025, 3, 19, 15, 0, tzinfo=SHANGHAI))
    assert list(draft.warnings) == ["⚠️ 系统还不知道 2025 年的法定节假日安排，无法判断这天是否上班。"]


def test_members_cannot_schedule(session):
    world = build_world(session)
    with pytest.raises(PermissionDenied):
        scheduling.draft(session, actor(session, world, "alice"), scheduling.NEW, NOW,
                         SHANGHAI, weekdays_only, title="党课", starts_at=NOW + timedelta(days=5))


def test_reschedule_tells_members_who_were_reminded_and_card_is_one_shot(session):
    world = build_world(session)
    add_sent_reminder(session, world, "alice", NOW)
    secretary = actor(session, world, "secretary")
    new_time = datetime(2025, 3, 18, 9, 0, tzinfo=SHANGHAI)
    draft = scheduling.draft(session, secretary, scheduling.MOVE, NOW, SHANGHAI, weekdays_only,
                             title="主题党日", starts_at=new_time)
    applied = scheduling.apply(session, secretary, draft.draft_id, NOW, SHANGHAI, lead_minutes=(60,),
                               reminders=lambda session, activities, now: 0)
    assert (applied.activity.starts_at, applied.before, applied.told) == (new_time, MEETING_START, 1)
    notice = session.scalars(select(models.OutboxMessage).where(models.OutboxMessage.kind == "change_notice")).one()
    assert rendered(session, notice) == "📢 通知：「主题党日」由 3月15日 09:00 改为 3月18日 09:00，地点：三楼会议室。"
    with pytest.raises(AlreadyHandled):
        scheduling.apply(session, secretary, draft.draft_id, NOW, SHANGHAI, lead_minutes=(60,),
                         reminders=lambda session, activities, now: 0)


async def test_schedule_dialog(session_factory):
    with transaction(session_factory) as session:
        world = build_world(session)
    async with running_bot(session_factory, world, NOW) as chat:
        await chat.run([
            ("secretary", "/schedule 专题党课 下周三下午3点 三楼会议室", ("🗓 新活动\n"
                                                           "活动：专题党课（第一党支部）\n"
                                                           "时间：3月19日（周三）15:00\n"
                                                           "（时间理解为：下周三（2025年3月19日 星期三）下午3点（15:00））\n"
                                                           "地点：三楼会议室\n"
                                                           "请确认：")),
            ("secretary", press("✅ 确认"), "✅ 已安排「专题党课」：3月19日（周三）15:00。届时会提醒参加的党员。"),
            ("secretary", press("✅ 确认"), "这张确认卡已经确认过了，不会重复执行。"),
            ("secretary", "/schedule 学习会 明天上午10点 活动室", ("🗓 新活动\n"
                                                        "活动：学习会（第一党支部）\n"
                                                        "时间：3月15日（周六）10:00\n"
                                                        "（时间理解为：明天（2025年3月15日 星期六）上午10点（10:00））\n"
                                                        "地点：活动室\n"
                                                        "⚠️ 这天是节假日或周末（按国家调休安排不上班）。\n"
                                                        "⚠️ 与「主题党日」（3月15日 09:00）时间冲突。\n"
                                                        "请确认：")),
            ("secretary", press("🚫 放弃，不做改动"), ("🗓 新活动\n"
                                               "活动：学习会（第一党支部）\n"
                                               "时间：3月15日（周六）10:00\n"
                                               "（时间理解为：明天（2025年3月15日 星期六）上午10点（10:00））\n"
                                               "地点：活动室\n"
                                               "⚠️ 这天是节假日或周末（按国家调休安排不上班）。\n"
                                               "⚠️ 与「主题党日」（3月15日 09:00）时间冲突。\n"
                                               "请确认：\n"
                                               "\n"
                                               "已放弃，没有做任何改动。")),
            ("secretary", "/schedule 没有时间的活动", ("没有找到时间：请按“活动名称 时间 地点”的顺序写\n"
                                                "例如：专题党课 下周三下午3点 三楼会议室、支委会 明天上午9点 党员活动室、主题党日 3月5日 14:30\n"
                                                "用法：/schedule 活动名称 时间 地点，例如 /schedule 专题党课 下周三下午3点 三楼会议室")),
            ("alice", "/schedule 专题党课 下周三下午3点", "只有支部书记、副书记或组织委员可以安排活动。"),
            ("secretary", "/cancel 支委会", ("✖️ 取消活动\n"
                                          "活动：支委会（第一党支部）\n"
                                          "时间：3月20日（周四）09:00\n"
                                          "请确认：")),
            ("secretary", press("✅ 确认取消活动"), "✅ 已取消「支委会」。"),
        ])
    with transaction(session_factory) as session:
        lecture = session.scalars(select(models.Activity).where(models.Activity.title == "专题党课")).one()
        assert (lecture.place, lecture.starts_at) == ("三楼会议室", datetime(2025, 3, 19, 15, 0, tzinfo=SHANGHAI))
        reminders = session.scalars(select(models.OutboxMessage.member_id).where(
            models.OutboxMessage.activity_id == lecture.id)).all()
        assert len(set(reminders)) == 4  # bound party members of B01: secretary, deputy, alice, bob
        assert session.get(models.Activity, world.activities["committee_meeting"]).status == "cancelled"


async def test_reschedule_dialog_tells_the_reminded(session_factory):
    with transaction(session_factory) as session:
        world = build_world(session)
        add_sent_reminder(session, world, "bob", NOW)
    async with running_bot(session_factory, world, NOW) as chat:
        await chat.run([
            ("secretary", "/reschedule 主题党日 下周二上午9点 二楼会议室", ("🔁 调整活动时间\n"
                                                             "活动：主题党日（第一党支部）\n"
                                                             "原定：3月15日（周六）09:00\n"
                                                             "时间：3月18日（周二）09:00\n"
                                                             "（时间理解为：下周二（2025年3月18日 星期二）上午9点（09:00））\n"
                                                             "地点：二楼会议室\n"
                                                             "⚠️ 与「党小组会」（3月18日 09:00）时间冲突。\n"
                                                             "请确认：")),
            ("secretary", press("✅ 确认"), "✅ 已将「主题党日」改到 3月18日（周二）09:00。已通知之前收到提醒的 1 位党员。"),
            ("secretary", "/reschedule 不存在的会 下周二上午9点", "没有找到名为“不存在的会”的待开展活动。发送 /plan 查看本支部的安排。"),
        ])
        card = [t for t in chat.private_texts("secretary") if t.startswith("🔁")][0]
        assert card == ("🔁 调整活动时间\n"
                        "活动：主题党日（第一党支部）\n"
                        "原定：3月15日（周六）09:00\n"
                        "时间：3月18日（周二）09:00\n"
                        "（时间理解为：下周二（2025年3月18日 星期二）上午9点（09:00））\n"
                        "地点：二楼会议室\n"
                        "⚠️ 与「党小组会」（3月18日 09:00）时间冲突。\n"
                        "请确认：\n"
                        "\n"
                        "✅ 已将「主题党日」改到 3月18日（周二）09:00。已通知之前收到提醒的 1 位党员。")
    with transaction(session_factory) as session:
        notice = session.scalars(select(models.OutboxMessage).where(models.OutboxMessage.kind == "change_notice")).one()
        assert (notice.member_id, rendered(session, notice)) == (
            world.members["bob"], "📢 通知：「主题党日」由 3月15日 09:00 改为 3月18日 09:00，地点：二楼会议室。")


def test_the_cards_calendar_is_the_deployments_own(tmp_path):
    from bot.deployment import load_official_calendar
    from bot.handlers.schedule import workdays

    (tmp_path / "holidays").mkdir()
    template = (PROJECT_CONFIG / "holidays" / "TEMPLATE.yaml").read_text(encoding="utf-8")
    # An operator supplies a year no package knows yet: the card then judges that year's days by the file.
    (tmp_path / "holidays" / "2099.yaml").write_text(template.replace("2026", "2099"), encoding="utf-8")
    assert workdays(load_official_calendar(tmp_path / "holidays"))(date(2099, 10, 2)) is False
    assert workdays(load_official_calendar(PROJECT_CONFIG / "holidays"))(date(2099, 10, 2)) is None


def _move(session, world, to: datetime | None, place: str | None = None) -> None:
    secretary = actor(session, world, "secretary")
    operation = scheduling.MOVE if to is not None else scheduling.CANCEL
    draft = scheduling.draft(session, secretary, operation, NOW, SHANGHAI, weekdays_only, title="主题党日",
                             starts_at=to, place=place)
    scheduling.apply(session, secretary, draft.draft_id, NOW, SHANGHAI, lead_minutes=(60,),
                     reminders=lambda session, activities, now: 0)


def _notices(session, world) -> list[tuple[str, str]]:
    rows = session.scalars(select(models.OutboxMessage).where(
        models.OutboxMessage.kind == "change_notice", models.OutboxMessage.member_id == world.members["alice"])
        .order_by(models.OutboxMessage.id)).all()
    # What a waiting notice will say when it goes out (one already sent or superseded says nothing more).
    return [(row.state, rendered(session, row) if row.state == "pending" else "") for row in rows]


TUESDAY, WEDNESDAY = (datetime(2025, 3, day, 9, 0, tzinfo=SHANGHAI) for day in (18, 19))


@pytest.mark.parametrize(("first_sent", "second", "expected"), [
    pytest.param(False, WEDNESDAY, [
        ("skipped", ""),
        ("pending", "📢 通知：「主题党日」由 3月15日 09:00 改为 3月19日 09:00，地点：三楼会议室。"),
    ], id="two-moves-before-the-first-notice-went-out-one-notice-from-what-she-heard"),
    pytest.param(True, WEDNESDAY, [
        ("sent", ""),
        ("pending", "📢 通知：「主题党日」由 3月18日 09:00 改为 3月19日 09:00，地点：三楼会议室。"),
    ], id="second-move-after-the-first-notice-from-the-first-new-time"),
    pytest.param(True, None, [
        ("sent", ""),
        ("pending", "📢 通知：原定 3月18日 09:00 的「主题党日」已取消。"),
    ], id="moved-then-cancelled"),
    pytest.param(True, MEETING_START, [
        ("sent", ""),
        ("pending", "📢 通知：「主题党日」由 3月18日 09:00 改为 3月15日 09:00，地点：三楼会议室。"),
    ], id="moved-back-to-the-first-time-is-a-change-of-its-own"),
])
def test_change_notice_after_two_moves_tells_the_current_facts(session, first_sent, second, expected):
    """The notice is written when it is sent, from the activity as it stands: never a stale frozen text."""
    world = build_world(session)
    add_sent_reminder(session, world, "alice", NOW)
    _move(session, world, TUESDAY)
    if first_sent:
        for row in session.scalars(select(models.OutboxMessage).where(models.OutboxMessage.kind == "change_notice")):
            row.state = "sent"
        session.flush()
    _move(session, world, second)
    assert _notices(session, world) == expected
