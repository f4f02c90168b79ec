"""Check-in rules: only oneself, only one's own audience, only inside the window; presses are idempotent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from telegram import CallbackQuery, Update, User

from bot.callbacks import CallbackSigner
from bot.clock import ManualClock
from bot.handlers.common import ChatContext
from storage import models
from storage.db import transaction
from storage.repositories import attendance as attendance_repo
from storage.errors import InvalidInput, NotBound, OutsideWindow, PermissionDenied
from storage.services import attendance as svc
from storage.services.actors import actor_for_telegram
from storage.services.runner import run_together
from storage.services import queries
from storage.services.views import StaleButton, checkin_open
from tests.chat.world import MEETING_START, SHANGHAI, actor, build_world
from tests.runtime.factories import add_reminder

T = MEETING_START


@pytest.mark.parametrize(("who", "activity", "now"), [
    pytest.param("alice", "party_day", T - timedelta(minutes=30), id="window-opens-30-min-before"),
    pytest.param("alice", "party_day", T + timedelta(hours=1, minutes=59), id="still-open-before-2h-after"),
    pytest.param("bob", "group_meeting", T + timedelta(days=3), id="group-member-at-group-meeting"),
    pytest.param("bob", "assembly", T + timedelta(days=10), id="probationary-at-general-assembly"),
    pytest.param("deputy", "committee_meeting", T + timedelta(days=5), id="deputy-at-committee-meeting"),
])
def test_member_checks_in_inside_window(session, who, activity, now):
    world = build_world(session)
    member = actor(session, world, who)
    result = svc.check_in(session, member, world.activities[activity], now)
    assert (result.status, result.already) == ("present", False)
    row = session.scalars(select(models.Attendance).where(
        models.Attendance.activity_id == world.activities[activity])).one()
    assert (row.member_id, row.status, row.recorded_at) == (world.members[who], "present", now)


@pytest.mark.parametrize(("who", "activity", "now", "error", "message"), [
    pytest.param("alice", "party_day", T - timedelta(minutes=31), OutsideWindow, "「主题党日」的签到还没开始，开放时间为活动开始前 30 分钟。", id="too-early"),
    pytest.param("alice", "party_day", T + timedelta(hours=2), OutsideWindow, "「主题党日」的签到已经结束。如需补签，请联系支部书记。", id="too-late"),
    pytest.param("other_member", "party_day", T, PermissionDenied, "「主题党日」不是您需要参加的活动，无法为它签到或请假。", id="other-branch"),
    pytest.param("alice", "committee_meeting", T + timedelta(days=5), PermissionDenied, "「支委会」不是您需要参加的活动，无法为它签到或请假。",
                 id="not-on-committee"),
    pytest.param("secretary", "group_meeting", T + timedelta(days=3), PermissionDenied, "「党小组会」不是您需要参加的活动，无法为它签到或请假。",
                 id="not-in-that-group"),
    pytest.param("activist", "party_day", T, PermissionDenied, "「主题党日」不是您需要参加的活动，无法为它签到或请假。",
                 id="activist-not-at-party-meetings"),
    pytest.param("alice", "cancelled", T, InvalidInput, "「取消的党课」已取消。", id="cancelled"),
    pytest.param("alice", "task", T, InvalidInput, "这项工作不需要签到。", id="task-has-no-checkin"),
])
def test_check_in_is_refused(session, who, activity, now, error, message):
    world = build_world(session)
    member = actor(session, world, who)
    with pytest.raises(error) as refused:
        svc.check_in(session, member, world.activities[activity], now)
    assert refused.value.message == message
    assert session.scalars(select(models.Attendance)).all() == []


@pytest.mark.parametrize(("opens_minutes", "message"), [
    pytest.param(-45, "「主题党日」的签到还没开始，开放时间为活动开始前 45 分钟。", id="before-the-start"),
    pytest.param(0, "「主题党日」的签到还没开始，开放时间为活动开始时。", id="at-the-start"),
    pytest.param(15, "「主题党日」的签到还没开始，开放时间为活动开始后 15 分钟。", id="after-the-start"),
])
def test_too_early_says_when_the_window_opens_from_the_start(session, opens_minutes, message):
    world = build_world(session)
    activity = session.get(models.Activity, world.activities["party_day"])
    activity.checkin_opens_minutes = opens_minutes
    session.flush()
    with pytest.raises(OutsideWindow) as refused:
        svc.check_in(session, actor(session, world, "alice"), activity.id, T + timedelta(minutes=opens_minutes - 1))
    assert refused.value.message == message


NOT_YET = "「主题党日」的签到还没开始，开放时间为活动开始前 30 分钟。"
ENDED = "「主题党日」的签到已经结束。如需补签，请联系支部书记。"
MOMENTS = {"before-it-opens": T - timedelta(minutes=31), "as-it-opens": T - timedelta(minutes=30),
           "inside": T + timedelta(hours=1), "just-before-it-closes": T + timedelta(hours=1, minutes=59),
           "as-it-closes": T + timedelta(hours=2)}
# (status, moment) -> the refusal the member reads, None: accepted. The window opens 30 minutes before the start
# and closes 2 hours after it; a meeting recorded held or not held is answerable no more.
CHECK_IN_REPLIES = {
    ("scheduled", "before-it-opens"): NOT_YET,
    ("scheduled", "as-it-opens"): None,
    ("scheduled", "inside"): None,
    ("scheduled", "just-before-it-closes"): None,
    ("scheduled", "as-it-closes"): ENDED,
    **{(status, moment): ENDED for status in ("held", "not_held") for moment in MOMENTS},
}


@pytest.mark.parametrize(("status", "moment", "reply"), [
    pytest.param(status, moment, reply, id=f"{status}-{moment}")
    for (status, moment), reply in CHECK_IN_REPLIES.items()])
def test_a_check_in_is_accepted_exactly_when_the_one_rule_and_checkin_say_it_is_open(session, status, moment, reply):
    """`check_in` asks `views.checkin_open`, as /checkin's list does (`queries.open_for_checkin`): a press, the
    command and the rule agree at every moment; a refusal says not yet only while the meeting is still answerable."""
    now = MOMENTS[moment]
    world = build_world(session)
    activity = session.get(models.Activity, world.activities["party_day"])
    activity.status = status
    session.flush()
    member = actor(session, world, "alice")
    listed = [view.id for view in queries.open_for_checkin(session, member, now)] == [activity.id]
    try:
        svc.check_in(session, member, activity.id, now)
    except OutsideWindow as refused:
        said = refused.message
    else:
        said = None
    assert said == reply
    assert listed == checkin_open(activity, now) == (reply is None)


def test_second_press_is_idempotent(session):
    world = build_world(session)
    member = actor(session, world, "alice")
    first = svc.check_in(session, member, world.activities["party_day"], T)
    second = svc.check_in(session, member, world.activities["party_day"], T + timedelta(minutes=5))
    assert (first.already, second.already) == (False, True)
    rows = session.scalars(select(models.Attendance)).all()
    assert [(r.status, r.recorded_at) for r in rows] == [("present", T)]


def test_group_press_reports_the_tally(session):
    world = build_world(session)
    for who in ("alice", "bob"):
        result = svc.check_in(session, actor(session, world, who),
                              world.activities["party_day"], T, via="group", with_tally=True)
    # B01 expects its 6 party members: secretary, deputy, alice, bob, offline and unbound (not the activist).
    assert (result.tally.expected, result.tally.present, result.tally.leave) == (6, 2, 0)


def test_stranger_is_told_to_bind(session):
    build_world(session)
    with pytest.raises(NotBound) as refused:
        actor_for_telegram(session, 999)
    assert refused.value.message == "您还没有绑定党员身份。请向支部书记索取绑定码，然后发送 /start 绑定码。"


def test_transferred_member_is_refused(session):
    world = build_world(session)
    session.get(models.Member, world.members["alice"]).status = "transferred_out"
    session.flush()
    with pytest.raises(PermissionDenied):
        actor(session, world, "alice")


def test_two_racing_presses_record_one_check_in(session_factory):
    """The second press waits for the first one's transaction and then finds the member already present."""
    import threading

    from storage.db import transaction

    with transaction(session_factory) as session:
        world = build_world(session)
    activity_id, user = world.activities["party_day"], world.telegram["alice"]
    first_inserted, results = threading.Event(), {}

    def first() -> None:
        with transaction(session_factory) as session:
            results["first"] = svc.check_in(session, actor_for_telegram(session, user), activity_id, T).already
            first_inserted.set()
            second_started.wait(timeout=10)

    def second() -> None:
        first_inserted.wait(timeout=10)
        with transaction(session_factory) as session:
            member = actor_for_telegram(session, user)
            second_started.set()
            results["second"] = svc.check_in(session, member, activity_id, T + timedelta(seconds=1)).already

    second_started = threading.Event()
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == {"first": False, "second": True}
    with transaction(session_factory) as session:
        assert len(session.scalars(select(models.Attendance)).all()) == 1


# --- whether a ✅ 签到 / 📝 请假 button made for an older revision may act (attendance.answer_button) -------

async def _answer(session_factory, world, answer, who, now):
    """Presses `answer`'s button as `who` (a Telegram user, perhaps unbound), resolving the member as the chat's
    handlers do: lazily, through ChatContext.for_sender, once the button's revision was checked."""
    activity_id = world.activities["party_day"]
    chat = ChatContext(session_factory=session_factory, clock=ManualClock(now), zone=SHANGHAI,
                       signer=CallbackSigner.from_token("1:TEST"))
    press = Update(1, callback_query=CallbackQuery("1", User(who, "按键人", is_bot=False), "chat"))

    act = svc.check_in if answer is svc.ButtonAnswer.CHECK_IN else svc.begin_leave

    def work(session, member, now):  # noqa: ANN001, ANN202
        return svc.answer_button(session, activity_id, 0, answer, lambda: act(session, member(), activity_id, now))

    try:
        return await chat.for_sender(press, work)
    finally:
        chat.close()


def _moved_on(session, world, change):
    """The activity changes after its buttons were made (revision 0): moved an hour later, or cancelled."""
    activity = session.get(models.Activity, world.activities["party_day"])
    if change == "moved":
        activity.starts_at += timedelta(hours=1)
    elif change == "cancelled":
        activity.status = models.ActivityStatus.CANCELLED.value
    if change != "current":
        activity.revision = (activity.revision or 0) + 1
    session.flush()


CHECK_IN, LEAVE = svc.ButtonAnswer.CHECK_IN, svc.ButtonAnswer.LEAVE


@pytest.mark.parametrize(("answer", "change", "who", "now", "expected"), [
    pytest.param(CHECK_IN, "current", "alice", T, "acts", id="checkin-current-button-checks-in"),
    pytest.param(CHECK_IN, "moved", "alice", T + timedelta(hours=1), "acts",
                 id="checkin-old-button-inside-the-new-window-checks-in"),
    pytest.param(CHECK_IN, "moved", "alice", T - timedelta(minutes=10), "stale",
                 id="checkin-old-button-at-the-old-time-says-what-changed"),
    pytest.param(CHECK_IN, "cancelled", "alice", T, "stale", id="checkin-old-button-of-a-cancelled-meeting"),
    pytest.param(CHECK_IN, "current", "alice", T - timedelta(minutes=35), OutsideWindow,
                 id="checkin-current-button-outside-the-window-is-refused"),
    pytest.param(CHECK_IN, "cancelled", "stranger", T, "stale", id="checkin-old-button-tells-a-stranger-too"),
    pytest.param(CHECK_IN, "current", "stranger", T, NotBound, id="checkin-current-button-needs-a-bound-member"),
    pytest.param(CHECK_IN, "moved", "other_member", T - timedelta(minutes=10), PermissionDenied,
                 id="checkin-old-button-of-someone-elses-meeting-is-refused"),
    pytest.param(LEAVE, "current", "alice", T - timedelta(days=1), "acts", id="leave-current-button-asks-the-reason"),
    pytest.param(LEAVE, "moved", "alice", T - timedelta(days=1), "stale",
                 id="leave-old-button-says-what-changed-before-asking"),
    pytest.param(LEAVE, "moved", "stranger", T - timedelta(days=1), "stale", id="leave-old-button-tells-a-stranger-too"),
    pytest.param(LEAVE, "current", "stranger", T - timedelta(days=1), NotBound, id="leave-current-button-needs-a-bound-member"),
])
async def test_a_button_of_an_older_revision_acts_only_where_its_answer_still_means_it(
        session_factory, world, answer, change, who, now, expected):
    with transaction(session_factory) as session:
        _moved_on(session, world, change)
    telegram_id = 999 if who == "stranger" else world.telegram[who]
    if isinstance(expected, type):
        with pytest.raises(expected):
            await _answer(session_factory, world, answer, telegram_id, now)
        return
    if expected == "stale":
        with pytest.raises(StaleButton) as refused:
            await _answer(session_factory, world, answer, telegram_id, now)
        view = refused.value.activity
    else:
        result = await _answer(session_factory, world, answer, telegram_id, now)
        view = result.activity if answer is CHECK_IN else result
    assert (view.id, view.revision) == (world.activities["party_day"], 0 if change == "current" else 1)
    with transaction(session_factory) as session:
        recorded = session.scalars(select(models.Attendance.status)).all()
    assert recorded == (["present"] if expected == "acts" and answer is CHECK_IN else [])


@pytest.mark.parametrize("together", [
    pytest.param(False, id="alone"),
    pytest.param(True, id="in-a-group-with-a-press-that-counts"),
])
def test_a_stale_press_keeps_nothing_it_wrote_before_it_was_refused(session_factory, world, together):
    """An older revision's ✅ 签到 is refused with what changed (StaleButton), like any refusal: had the check-in
    written before refusing, that is rolled back and only its refusal records stay; another press of the same
    group still counts."""
    activity_id = world.activities["party_day"]
    with transaction(session_factory) as session:
        _moved_on(session, world, "moved")

    def stale_press(session):
        def refused_after_writing():
            session.add(models.Attendance(activity_id=activity_id, member_id=world.members["deputy"],
                                          status="present", recorded_at=T))
            session.flush()
            raise OutsideWindow("签到还没开始。").keep(lambda s: attendance_repo.add_audit(
                s, now=T, action="refused", entity="callback", entity_id=None))
        return svc.answer_button(session, activity_id, 0, CHECK_IN, refused_after_writing)

    def alice_press(session):
        member = actor(session, world, "alice")
        return svc.check_in(session, member, activity_id, T + timedelta(hours=1))

    outcomes = run_together(session_factory, [stale_press, alice_press] if together else [stale_press])
    assert [type(o.error).__name__ if o.error else o.value.member_name for o in outcomes] == (
        ["StaleButton", "张三"] if together else ["StaleButton"])
    with transaction(session_factory) as session:
        assert (session.scalars(select(models.Attendance.member_id)).all(),
                session.scalars(select(models.AuditEntry.action)).all()) == (
            [world.members["alice"]] if together else [], ["refused"])


# --- which delivered reminders show the answer (CheckInResult.reminders, LeaveRequest.reminders) -------------

def _reminder(session, world, who, lead, *, activity="party_day", state="sent", chat=None):
    """alice's (or another's) reminder row as the dispatcher leaves it: sent with Telegram's message id, or not."""
    add_reminder(session, world.activities[activity], world.members[who], lead, T,
                 chat_id=world.telegram[who] if chat is None else chat, state=state,
                 claimed_at=T - timedelta(minutes=lead), telegram_message_id=100 + lead if state == "sent" else None)


def test_a_check_in_names_the_members_delivered_reminders_of_it_once(session):
    world = build_world(session)
    _reminder(session, world, "alice", 1440)
    _reminder(session, world, "alice", 60)
    _reminder(session, world, "alice", 30, state="pending")  # not delivered: nothing to edit
    _reminder(session, world, "alice", 15, chat=4242)  # delivered to another chat (an earlier binding)
    _reminder(session, world, "alice", 10, activity="assembly")  # another activity's
    _reminder(session, world, "bob", 5)  # another member's
    alice = actor(session, world, "alice")
    first = svc.check_in(session, alice, world.activities["party_day"], T)
    assert [(r.chat_id, r.message_id, r.row.lead_minutes, r.rendered_at) for r in first.reminders] == [
        (world.telegram["alice"], 1540, 1440, T - timedelta(days=1)),
        (world.telegram["alice"], 160, 60, T - timedelta(hours=1))]
    # Pressed again: the reminders show it already.
    assert svc.check_in(session, alice, world.activities["party_day"], T).reminders == ()


def test_a_leave_request_names_the_members_delivered_reminders_of_it(session):
    world = build_world(session)
    _reminder(session, world, "alice", 1440)
    _reminder(session, world, "bob", 1440)
    alice = actor(session, world, "alice")
    svc.begin_leave(session, alice, world.activities["party_day"], T - timedelta(hours=20))
    request = svc.submit_pending_text(session, alice, "出差", T - timedelta(hours=20))
    assert [(r.chat_id, r.message_id) for r in request.reminders] == [(world.telegram["alice"], 1540)]
