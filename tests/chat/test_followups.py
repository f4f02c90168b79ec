"""After the window closes: the roll goes to the secretaries once, then a nag, then the upper committee."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.callbacks import CallbackSigner
from bot.handlers import outbox_renderers
from bot.handlers.common import ChatContext
from bot.clock import ManualClock
from bot.deployment import load_catalog
from bot.settings import PROJECT_CONFIG_DIR
from storage import models
from storage.services import followup
from storage.services.attendance import check_in
from tests.chat.replies import PARTY_DAY_ROLL_ONLY_ALICE
from tests.runtime.factories import as_claimed
from tests.chat.world import MEETING_START, SHANGHAI, actor, build_world

T = MEETING_START
CLOSES = T + timedelta(hours=2)


def queued(session):
    rows = session.scalars(select(models.OutboxMessage).order_by(models.OutboxMessage.id)).all()
    names = {m.id: m.name for m in session.scalars(select(models.Member))}
    titles = {a.id: a.title for a in session.scalars(select(models.Activity))}
    return [(r.kind, titles.get(r.activity_id), names.get(r.member_id) or r.chat_id) for r in rows]


@pytest.mark.parametrize(("now", "expected"), [
    pytest.param(T - timedelta(days=1, hours=1), [], id="nothing-yet"),
    pytest.param(T - timedelta(hours=12), [
        ("group_announcement", "主题党日", -100001), ("group_announcement", "第二支部主题党日", -100003),
    ], id="group-announcements-a-day-ahead"),
    pytest.param(CLOSES, [
        ("roll_summary", "主题党日", "王书记"), ("roll_summary", "主题党日", "李副书记"),
        ("roll_summary", "第二支部主题党日", "孙书记"),
    ], id="window-closed-roll-to-secretaries"),
    pytest.param(CLOSES + timedelta(days=3), [
        ("roll_summary", "主题党日", "王书记"), ("roll_summary", "主题党日", "李副书记"),
        ("confirm_nag", "主题党日", "王书记"), ("confirm_nag", "主题党日", "李副书记"),
        ("confirm_escalation", "主题党日", "吴委员"),
        ("roll_summary", "第二支部主题党日", "孙书记"), ("confirm_nag", "第二支部主题党日", "孙书记"),
        ("confirm_escalation", "第二支部主题党日", "吴委员"),
        # The 党小组会 three days later has just closed too: its roll goes to the branch's secretaries.
        ("roll_summary", "党小组会", "王书记"), ("roll_summary", "党小组会", "李副书记"),
    ], id="three-days-unconfirmed-escalates-upwards"),
])
def test_followups_by_time(session, now, expected):
    build_world(session)
    followup.enqueue_followups(session, now)
    assert queued(session) == expected


@pytest.fixture
def b01_escalates_after_half_a_day(tmp_path):
    """The project's catalog, with B01's override bringing 主题党日's escalation forward to twelve hours."""
    config = tmp_path / "config"
    shutil.copytree(PROJECT_CONFIG_DIR, config)
    (config / "overrides" / "B01.yaml").write_text("theme_party_day:\n  escalate_after: 12h\n", encoding="utf-8")
    return load_catalog(config)


def test_a_meeting_escalates_after_the_catalog_s_escalate_after(session, b01_escalates_after_half_a_day):
    build_world(session)
    catalog = b01_escalates_after_half_a_day
    # The sandbox's clock stops at B01's escalation, twelve hours after the window closed (else at the nag).
    assert followup.next_moment(session, CLOSES + timedelta(hours=1), catalog) == CLOSES + timedelta(hours=12)
    assert followup.next_moment(session, CLOSES + timedelta(hours=1)) == CLOSES + timedelta(days=1)
    followup.enqueue_followups(session, CLOSES + timedelta(hours=12), catalog=catalog)
    escalations = [row for row in queued(session) if row[0] == "confirm_escalation"]
    assert escalations == [("confirm_escalation", "主题党日", "吴委员")]  # B02 keeps the default three days
    followup.enqueue_followups(session, CLOSES + timedelta(days=3), catalog=catalog)
    escalations = [row for row in queued(session) if row[0] == "confirm_escalation"]
    assert escalations == [("confirm_escalation", "主题党日", "吴委员"), ("confirm_escalation", "第二支部主题党日", "吴委员")]


def test_sweep_is_idempotent_and_confirmed_activities_are_left_alone(session):
    world = build_world(session)
    followup.enqueue_followups(session, CLOSES)
    first = queued(session)
    assert followup.enqueue_followups(session, CLOSES + timedelta(minutes=1)) == 0
    session.get(models.Activity, world.activities["party_day"]).status = "held"
    session.get(models.Activity, world.activities["other_branch"]).status = "held"
    session.flush()
    followup.enqueue_followups(session, CLOSES + timedelta(days=4))
    later = [row for row in queued(session)[len(first):] if row[1] in ("主题党日", "第二支部主题党日")]
    assert later == [], "confirmed activities get no nag and no escalation"


def test_roll_summary_renders_through_the_runtime_renderer_with_buttons(session_factory):
    with session_factory.begin() as session:
        world = build_world(session)
        check_in(session, actor(session, world, "alice"), world.activities["party_day"], T)
        followup.enqueue_followups(session, CLOSES)
    chat = ChatContext(session_factory=session_factory, clock=ManualClock(CLOSES), zone=SHANGHAI,
                       signer=CallbackSigner.from_token("1:TEST"), bot_username="branchbot_test_bot")
    renderers = outbox_renderers(chat)
    with session_factory() as session:
        row = session.scalars(select(models.OutboxMessage).where(models.OutboxMessage.kind == "roll_summary")).first()
        text, markup = renderers.render(session, as_claimed(row), SHANGHAI)
    assert text == PARTY_DAY_ROLL_ONLY_ALICE
    labels = [button.text for row in markup.inline_keyboard for button in row]
    assert labels == ["✅ 已召开", "❌ 未召开", "记录议题", "记录主讲人", "记录会议记录/照片", "代签"]


def render_queued(session, renderers, kind, member_id):
    row = session.scalars(select(models.OutboxMessage).where(
        models.OutboxMessage.kind == kind, models.OutboxMessage.member_id == member_id)).one()
    return renderers.render(session, as_claimed(row), SHANGHAI)


@pytest.mark.parametrize(("then", "expected", "has_buttons"), [
    pytest.param("nothing", "📝 请假申请\n张三 申请不参加「主题党日」（3月15日（周六）09:00）\n原因：出差", True, id="pending-request-has-buttons"),
    pytest.param("decided", "📝 请假申请\n张三 申请不参加「主题党日」（3月15日（周六）09:00）\n原因：出差\n（这条请假已经处理：已同意。）", False, id="decided-before-it-went-out"),
    pytest.param("checked_in", "📝 请假申请\n张三 申请不参加「主题党日」（3月15日（周六）09:00）\n原因：出差\n（这条请假已不再需要审批：对方已签到或已撤回。）", False, id="member-came-after-all"),
])
def test_leave_request_is_rendered_as_it_stands_when_sent(session, then, expected, has_buttons):
    from storage.services import attendance as svc

    world = build_world(session)
    chat = ChatContext(session_factory=None, clock=ManualClock(T), zone=SHANGHAI,  # type: ignore[arg-type]
                       signer=CallbackSigner.from_token("1:TEST"), bot_username="branchbot_test_bot")
    renderers = outbox_renderers(chat)
    alice = actor(session, world, "alice")
    svc.begin_leave(session, alice, world.activities["party_day"], T - timedelta(days=1))
    svc.submit_pending_text(session, alice, "出差", T - timedelta(days=1))
    if then == "decided":
        svc.decide_leave(session, actor(session, world, "secretary"),
                         world.activities["party_day"], world.members["alice"], True, T - timedelta(hours=20))
    elif then == "checked_in":
        check_in(session, alice, world.activities["party_day"], T)
    text, markup = render_queued(session, renderers, "leave_request", world.members["deputy"])
    assert text == expected
    assert (markup is not None) == has_buttons


@pytest.fixture
def b01_escalates_after_three_weeks(tmp_path):
    """The project's catalog, with B01's override putting 主题党日's escalation three weeks after the close,
    longer than the sweep's catch-up of two weeks."""
    config = tmp_path / "config"
    shutil.copytree(PROJECT_CONFIG_DIR, config)
    (config / "overrides" / "B01.yaml").write_text("theme_party_day:\n  escalate_after: 21d\n", encoding="utf-8")
    return load_catalog(config)


B02_ESCALATION = ("confirm_escalation", "第二支部主题党日", "吴委员")  # the default three days, caught up on
B01_ESCALATION = ("confirm_escalation", "主题党日", "吴委员")


@pytest.mark.parametrize(("now", "escalations", "next_moment"), [
    pytest.param(CLOSES + timedelta(days=20), [B02_ESCALATION], CLOSES + timedelta(days=21),
                 id="twenty-days-not-yet-the-clock-stops-at-three-weeks"),
    pytest.param(CLOSES + timedelta(days=21), [B01_ESCALATION, B02_ESCALATION], None,
                 id="three-weeks-after-the-close-the-committee-is-told"),
    pytest.param(CLOSES + timedelta(days=34), [B01_ESCALATION, B02_ESCALATION], None,
                 id="a-bot-down-since-still-tells-it-within-the-catch-up"),
    pytest.param(CLOSES + timedelta(days=36), [], None, id="past-the-catch-up-nothing"),
])
def test_an_escalation_longer_than_the_catch_up_still_happens(session, b01_escalates_after_three_weeks, now,
                                                              escalations, next_moment):
    build_world(session)
    catalog = b01_escalates_after_three_weeks
    assert followup.next_moment(session, now, catalog) == next_moment
    followup.enqueue_followups(session, now, catalog=catalog)
    party_days = [row for row in queued(session) if row[0] == "confirm_escalation" and "主题党日" in row[1]]
    assert party_days == escalations


DAYS_AHEAD_CLOSES = T - timedelta(days=2)  # 主题党日's window, set to open three days and close two days ahead
B01_ROLL = [("roll_summary", "主题党日", "王书记"), ("roll_summary", "主题党日", "李副书记")]
B01_NAG = [("confirm_nag", "主题党日", "王书记"), ("confirm_nag", "主题党日", "李副书记")]
B02_ANNOUNCEMENT = [("group_announcement", "第二支部主题党日", -100003)]  # its default window, a day ahead
B01_ANNOUNCEMENT = [("group_announcement", "主题党日", -100001)]  # as its window opens, the day ahead is too late


@pytest.mark.parametrize(("now", "expected", "next_moment"), [
    pytest.param(DAYS_AHEAD_CLOSES - timedelta(minutes=1), B01_ANNOUNCEMENT, DAYS_AHEAD_CLOSES,
                 id="window-still-open-announced-the-clock-stops-at-its-close"),
    pytest.param(DAYS_AHEAD_CLOSES, B01_ROLL, T - timedelta(days=1),
                 id="two-days-ahead-the-window-closes-the-roll-goes-out-no-announcement-after-the-close"),
    pytest.param(T - timedelta(days=1), B01_ROLL + B01_NAG + B02_ANNOUNCEMENT, T - timedelta(minutes=30),
                 id="a-day-after-the-close-the-secretaries-are-nagged-b02-announced"),
])
def test_a_window_closing_days_before_the_start_rolls_at_its_close(session, now, expected, next_moment):
    world = build_world(session)
    party_day = session.get(models.Activity, world.activities["party_day"])
    party_day.checkin_opens_minutes, party_day.checkin_closes_minutes = -3 * 24 * 60, -2 * 24 * 60
    session.flush()
    assert followup.next_moment(session, now) == next_moment
    followup.enqueue_followups(session, now)
    assert queued(session) == expected
