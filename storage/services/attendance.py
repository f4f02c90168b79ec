"""Check-in, leave, 代签, the secretary's confirmation and roll: the rules of who may record what, and when."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime, timedelta
from enum import Enum
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from schedules.roster import OrgType
from storage.errors import (
    AlreadyHandled,
    InvalidInput,
    NotBound,
    NotFound,
    OutsideWindow,
    PermissionDenied,
    ServiceError,
)
from storage.outbox_kinds import OutboxKind
from storage import models
from storage.models import SIGNED_IN, ActivityKind, ActivityStatus, AttendanceStatus, LeaveDecision
from storage.repositories import attendance as attendance_repo
from storage.repositories import bindings as binding_repo
from storage.repositories import outbox
from storage.services import activity_changes, reports
from storage.services.queries import listed_since
from storage.services.actors import Actor, OrgTree
from schedules.audience import Audience
from storage.services.audience import in_audience
from storage.services.permissions import (
    Operator,
    audit_fields,
    leave_deciders,
    require_leave_decider,
    require_may_see_roll,
    require_runs_activity,
)
from storage.text import typed_text
from storage.services.views import (
    ActivityView,
    CheckInResult,
    ConfirmResult,
    LeaveDecisionResult,
    LeaveRequest,
    LiveTally,
    MarkedLeave,
    Recipient,
    Roll,
    RollEntry,
    StaleButton,
    checkin_open,
    checkin_window,
    still_answerable,
)

T = TypeVar("T")
_UTC = ZoneInfo("UTC")  # a one-activity ledger's window is never read: any zone will do
PENDING_TTL = timedelta(hours=24)
ROLL_LOOKAHEAD = timedelta(days=60)  # /absent: the next meeting to answer when none is open, this far ahead
PENDING_LEAVE_REASON = "leave_reason"
PENDING_ACTIVITY_FIELD = "activity_field"  # topic, lecturer or minutes of a held activity
PENDING_MARKED_LEAVE = "marked_leave"  # the secretary types the reason of a leave they record for a member
# field -> (its column: the one source of its limit, what it is called in a refusal)
ACTIVITY_FIELDS = {"topic": (models.Activity.topic, "议题"), "lecturer": (models.Activity.lecturer, "主讲人"),
                   "minutes": (models.Activity.minutes, "会议记录")}


def leave_reason(text: str | None) -> str:
    """A leave reason as stored (typed text of its one-line column), or a request to write one."""
    reason = typed_text(text, models.Attendance.leave_reason, "请假原因")
    if not reason:
        raise InvalidInput("请用一句话说明请假原因。")
    return reason


def _load_activity(session: Session, activity_id: int, *, for_update: bool = False) -> models.Activity:
    activity = attendance_repo.activity(session, activity_id, for_update=for_update)
    if activity is None:
        raise NotFound("找不到这个活动，可能已被删除。", activity_id=activity_id)
    return activity


def _tree_for(session: Session, activity: models.Activity) -> OrgTree:
    """Enough of the tree to judge this activity's audience.

    A branch's or 党小组's own meeting needs only its organisation (already loaded with the activity);
    the hot path of 300 presses a second then skips reading the tree. Upper organisations' meetings and
    audiences that span the tree get the whole tree.
    """
    org = activity.org
    if org.type in (OrgType.BRANCH.value, OrgType.GROUP.value) and not Audience.of(activity.audience).spans_subtree:
        return OrgTree([(org.id, org.parent_id, org.type, org.code, org.name)])
    return OrgTree.load(session)


def _view(activity: models.Activity, tree: OrgTree) -> ActivityView:
    return ActivityView.of(activity, tree.name.get(activity.org_id, ""))


def _require_meeting_for(session: Session, actor: Actor, activity: models.Activity, tree: OrgTree) -> None:
    if activity.kind != ActivityKind.MEETING:
        raise InvalidInput("这项工作不需要签到。", activity_id=activity.id)
    if activity.status == ActivityStatus.CANCELLED:
        raise InvalidInput(f"「{activity.title}」已取消。", activity_id=activity.id)
    if not in_audience(session, actor, activity, tree):
        raise PermissionDenied(
            f"「{activity.title}」不是您需要参加的活动，无法为它签到或请假。",
            actor=actor.member_no, activity_id=activity.id,
        )


def _runs_for(actor: Actor, activity: models.Activity, tree: OrgTree) -> bool:
    """Whether the actor runs the activity's organisation (for a 党小组: it or its branch)."""
    parent = tree.parent.get(activity.org_id) if tree.is_group(activity.org_id) else None
    return actor.manages(activity.org_id) or (parent is not None and actor.runs(parent))


def expected_ids(session: Session, activity: models.Activity) -> list[int]:
    """应到 of one activity: the ledger's answer (`AttendanceLedger.expected_ids`), the one every report,
    the roll, the confirmation and 代签 use."""
    ledger, record = reports.load_activity_ledger(session, activity.id, _UTC)
    return ledger.expected_ids(record)


def tally(session: Session, activity: models.Activity, tree: OrgTree) -> LiveTally:
    counts = attendance_repo.status_counts(session, activity.id)
    return LiveTally(
        expected=len(expected_ids(session, activity)),
        present=sum(counts.get(status, 0) for status in SIGNED_IN),
        leave=counts.get(AttendanceStatus.LEAVE, 0),
    )


# Whether the members of an organisation (by id) check themselves in: configuration
# (`organization.self_checkin` in config/overrides, see schedules.catalog.OrgSettings), read at the edge.
SelfCheckinPolicy = Callable[[Session, int], bool]
SELF_CHECKIN_OFF = "本支部不使用党员自助签到：出席情况由书记点名登记（含代签）。如不能参加，请点“📝 请假”。"


def check_in(
    session: Session, actor: Actor, activity_id: int, now: datetime, *, via: str = "private",
    with_tally: bool = False, self_checkin: SelfCheckinPolicy | None = None,
) -> CheckInResult:
    """Records the actor as present: only for themself, only their own audience, only inside the window,
    and only where the organisation lets members check themselves in (`self_checkin`; None: everywhere)."""
    activity = attendance_repo.activity_for_checkin(session, activity_id)
    if activity is None:
        raise NotFound("找不到这个活动，可能已被删除。", activity_id=activity_id)
    tree = _tree_for(session, activity)
    _require_meeting_for(session, actor, activity, tree)
    if self_checkin is not None and not self_checkin(session, activity.org_id):
        raise PermissionDenied(SELF_CHECKIN_OFF, activity_id=activity.id, actor=actor.member_no)
    if not checkin_open(activity, now):
        raise _checkin_refusal(actor, activity, tree, now)
    already = False
    inserted = attendance_repo.insert_attendance_if_absent(
        session, activity_id=activity.id, member_id=actor.member_id, status=AttendanceStatus.PRESENT.value,
        recorded_at=now, recorded_by_member_id=actor.member_id, via=via,
    )
    if not inserted:
        row = attendance_repo.attendance_row(session, activity.id, actor.member_id)
        if row is None or row.status in SIGNED_IN:
            already = True
        else:
            # Came after all: a leave or an absence turns into presence; the leave reason stays on record.
            row.status = AttendanceStatus.PRESENT.value
            row.recorded_at = now
            row.recorded_by_member_id = actor.member_id
            row.via = via
    return CheckInResult(
        activity=_view(activity, tree), member_name=actor.name, status=AttendanceStatus.PRESENT.value,
        already=already, tally=tally(session, activity, tree) if with_tally else None,
        reminders=() if already else private_reminders(session, actor, activity.id),
    )


def _checkin_refusal(actor: Actor, activity: attendance_repo.CheckinActivity, tree: OrgTree,
                     now: datetime) -> OutsideWindow:
    """Why `views.checkin_open` refused a check-in, in the words the member reads: not yet (with when it opens), or
    over (closed, held or not held; a cancelled one `_require_meeting_for` refused already)."""
    opens, closes = checkin_window(activity)
    if still_answerable(activity, now):  # answerable, not open: the window opens later
        return OutsideWindow(f"「{activity.title}」的签到还没开始，开放时间为{_opening(activity.starts_at, opens)}。",
                             activity_id=activity.id, opens=opens.isoformat())
    # Whoever runs the branch records late arrivals themself (代签 on the roll); others ask them.
    late = "如需补签，可在 /absent 名单中代签。" if _runs_for(actor, activity, tree) else "如需补签，请联系支部书记。"
    return OutsideWindow(f"「{activity.title}」的签到已经结束。{late}", activity_id=activity.id,
                         closes=closes.isoformat())


def _opening(starts_at: datetime, opens: datetime) -> str:
    """When a window opens, said from the start: before it (the default), as it starts, or after it (a window a
    deployment opens late, `checkin_opens_minutes` > 0)."""
    minutes = round((starts_at - opens).total_seconds() / 60)
    if minutes > 0:
        return f"活动开始前 {minutes} 分钟"
    return "活动开始时" if minutes == 0 else f"活动开始后 {-minutes} 分钟"


class ButtonAnswer(Enum):
    """What a reminder's (or a group card's) button answers, which decides whether a press of a button made
    for an older revision of the activity still acts (`answer_button`)."""

    CHECK_IN = "check_in"  # acts when the activity as it stands accepts it: inside the new window is what was meant
    LEAVE = "leave"  # asked for the old time: the member hears what changed before giving a reason


# The refusals of a check-in that an older button's press turns into what changed: outside the window,
# cancelled, or a presser who is not bound (a stale button tells anyone what changed, as a leave's does).
_STALE_REFUSALS = (OutsideWindow, InvalidInput, NotBound)


def answer_button(session: Session, activity_id: int, revision: int, answer: ButtonAnswer,
                  act: Callable[[], T]) -> T:
    """May a ✅ 签到 / 📝 请假 button made for `revision` of the activity act: `act()`'s result when it may, else
    refused with the activity as it stands (`StaleButton`, moved or cancelled since:
    `activity_changes.stale_button`).

    A check-in asks the revision only when `act` is refused, so a current button costs no extra read; a leave
    asks first. Other refusals are raised as they are. A stale check-in is raised as a refusal, never returned,
    so the transaction it ran in is rolled back like any refusal's (whatever `act` wrote before it was refused
    is undone, its refusal records kept): it does not matter whether `check_in` refuses before writing."""
    if answer is ButtonAnswer.LEAVE:
        stale = activity_changes.stale_button(session, activity_id, revision)
        if stale is not None:
            raise StaleButton(stale)
        return act()
    try:
        return act()
    except _STALE_REFUSALS as refused:
        stale = activity_changes.stale_button(session, activity_id, revision)
        if stale is None:
            raise
        outdated = StaleButton(stale)
        outdated.on_refusal.extend(refused.on_refusal)
        raise outdated from refused


def private_reminders(session: Session, actor: Actor, activity_id: int) -> tuple[outbox.DeliveredMessage, ...]:
    """The actor's reminders of the activity delivered in their private chat (a user's id doubles as it), each of
    which shows their answer once it is given, whichever message (or group card, or command) gave it."""
    if actor.telegram_user_id is None:
        return ()
    return tuple(outbox.delivered_in_chat(session, activity_id, OutboxKind.REMINDER,
                                          outbox.member_recipient(actor.member_id), actor.telegram_user_id))


def cards_counting(session: Session, org_ids: Collection[int] | None, now: datetime) -> set[int]:
    """The activities whose groups' cards count members of these organisations (None: of any), found after a roster
    change (`storage.changes.Changes.roster_orgs`) so their 应到 follows it: meetings of the organisations whose
    meetings may count their members (`reports.meeting_orgs_counting`, the ledger's candidates reversed: their own,
    those above them, those right under them), still answerable (`still_answerable`: a closed card's figures are
    history), with a delivered group announcement."""
    tree = OrgTree.load(session)
    if org_ids is None:
        related = set(tree.code)
    else:
        related = {near for org_id in org_ids for near in reports.meeting_orgs_counting(tree, org_id)}
    if not related:
        return set()
    announced = outbox.delivered_about(session, OutboxKind.GROUP_ANNOUNCEMENT, related,
                                       listed_since(session, now, related))
    return {activity.id for activity in announced if still_answerable(activity, now)}


def read_check_ins_ahead(session: Session, presses: Sequence[tuple[int, int]]) -> None:
    """What a group of ✅ 签到 presses (Telegram user id, activity id) will read, in one statement each for the
    lot: the pressers' seats (`actor_for_telegram`), the activities (`check_in`) and each presser's reminders
    of theirs (`private_reminders`). Each press then reads its own from the session instead of the database
    (storage.direct.KeyedRead); a check-in writes none of these."""
    seats = binding_repo.read_member_seats_ahead(session, [user for user, _ in presses])
    attendance_repo.read_activities_ahead(session, [activity_id for _, activity_id in presses])
    outbox.read_delivered_ahead(session, OutboxKind.REMINDER, [
        (activity_id, outbox.member_recipient(rows[0][0]), user)
        for user, activity_id in presses if (rows := seats[user])])


def claim_group_cards(session: Session, activity_id: int, now: datetime, every: timedelta) -> outbox.EditClaim:
    """The groups' announcements of an activity (chat id, message id), whose tallies follow every answer: those
    this refresh may edit now, at most once per `every` across processes (Telegram: 20 messages a minute per
    group), and those edited too recently."""
    return outbox.claim_edits(session, activity_id, OutboxKind.GROUP_ANNOUNCEMENT, now, every)


def begin_leave(
    session: Session, actor: Actor, activity_id: int, now: datetime, *, origin: tuple[int, int] | None = None,
    origin_text: str | None = None,
) -> ActivityView:
    """Opens a leave request: the reason comes in the member's next message (kept in pending_inputs).

    `origin` is the private message whose button was pressed, so it can show the outcome later.
    """
    if actor.telegram_user_id is None:
        raise InvalidInput("请在私聊中请假。")
    tree = OrgTree.load(session)
    activity = _load_activity(session, activity_id)
    _require_meeting_for(session, actor, activity, tree)
    if not still_answerable(activity, now):
        raise OutsideWindow(f"「{activity.title}」已经结束，不能再请假。", activity_id=activity.id)
    row = attendance_repo.attendance_row(session, activity.id, actor.member_id)
    if row is not None and row.status in SIGNED_IN:
        raise AlreadyHandled(f"您已在「{activity.title}」签到，无需请假。")
    if row is not None and row.status == AttendanceStatus.LEAVE and row.leave_decision != LeaveDecision.REJECTED:
        raise AlreadyHandled(f"您已为「{activity.title}」请过假，原因：{row.leave_reason}。")
    payload: dict = {"activity_id": activity.id}
    if origin is not None:
        payload["origin"] = list(origin)
        payload["origin_text"] = (origin_text or "")[:4000]
    binding_repo.set_pending_input(session, actor.telegram_user_id, PENDING_LEAVE_REASON, payload, now + PENDING_TTL)
    return _view(activity, tree)


def _private_chat(binding: models.TelegramBinding | None) -> int | None:
    """Where the bot writes to a bound member: their private chat (a user's id doubles as it); None if unbound."""
    if binding is None:
        return None
    return binding.private_chat_id or binding.telegram_user_id


def approvers_of(session: Session, org_id: int, tree: OrgTree, *, requester: int | None = None) -> tuple[Recipient, ...]:
    """Who decides for `org_id` (storage.services.permissions.leave_deciders, by schedules.roles.deciders):
    whoever runs it (for a 党小组: its leader and its branch's runners), never the member asking; a
    secretary's own request without a deputy goes up."""
    member_ids = leave_deciders(session, org_id, tree, requester=requester)
    members = {m.id: m for m in session.scalars(select(models.Member).where(models.Member.id.in_(member_ids)))}
    ordered = sorted(member_ids, key=lambda m: members[m].member_no)
    bindings = binding_repo.bindings_for_members(session, ordered)
    return tuple(Recipient(member_id=m, name=members[m].name, chat_id=_private_chat(bindings.get(m))) for m in ordered)


def submit_pending_text(
    session: Session, actor: Actor, text: str, now: datetime
) -> LeaveRequest | ActivityView | MarkedLeave | None:
    """Feeds a free-text message to whatever the bot waits for; None when it waits for nothing."""
    if actor.telegram_user_id is None:
        return None
    pending = binding_repo.pending_input(session, actor.telegram_user_id, now)
    if pending is None:
        return None
    if pending.kind == PENDING_LEAVE_REASON:
        origin = pending.payload.get("origin")
        return submit_leave_reason(session, actor, text, now, int(pending.payload["activity_id"]),
                                   origin=(int(origin[0]), int(origin[1])) if origin else None,
                                   origin_text=pending.payload.get("origin_text"))
    if pending.kind == PENDING_ACTIVITY_FIELD:
        return set_activity_field(
            session, actor, int(pending.payload["activity_id"]), str(pending.payload["field"]), text, now
        )
    if pending.kind == PENDING_MARKED_LEAVE:
        origin = pending.payload.get("origin")
        try:
            entry = mark_attendance(session, actor, int(pending.payload["activity_id"]),
                                    int(pending.payload["member_id"]), AttendanceStatus.LEAVE, now, reason=text)
        except (AlreadyHandled, PermissionDenied, OutsideWindow, NotFound) as refused:
            raise _ending_the_wait(refused, actor) from None
        binding_repo.clear_pending_input(session, actor.telegram_user_id)
        return MarkedLeave(int(pending.payload["activity_id"]), entry, origin=(int(origin[0]), int(origin[1])) if origin else None)
    binding_repo.clear_pending_input(session, actor.telegram_user_id)
    return None


def _ending_the_wait(refusal: ServiceError, actor: Actor) -> ServiceError:
    """A refusal no second answer can mend: the pending leave reason is cleared even though the request
    rolls back, so the member's next message is an ordinary one again."""
    telegram_user_id = actor.telegram_user_id
    if telegram_user_id is None:
        return refusal
    return refusal.keep(lambda session: binding_repo.clear_pending_input(session, telegram_user_id))


def submit_leave_reason(
    session: Session, actor: Actor, reason: str, now: datetime, activity_id: int, *,
    origin: tuple[int, int] | None = None, origin_text: str | None = None,
) -> LeaveRequest:
    reason = leave_reason(reason)
    tree = OrgTree.load(session)
    activity = _load_activity(session, activity_id)
    _require_meeting_for(session, actor, activity, tree)
    if not still_answerable(activity, now):
        raise _ending_the_wait(OutsideWindow(f"「{activity.title}」已经结束，不能再请假。", activity_id=activity.id), actor)
    row = attendance_repo.attendance_row(session, activity.id, actor.member_id)
    if row is None:
        row = models.Attendance(activity_id=activity.id, member_id=actor.member_id, via="private")
        session.add(row)
    elif row.status in SIGNED_IN:
        raise _ending_the_wait(AlreadyHandled(f"您已在「{activity.title}」签到，无需请假。"), actor)
    row.status = AttendanceStatus.LEAVE.value
    row.leave_reason = reason
    row.leave_decision = LeaveDecision.PENDING.value
    row.decided_by_member_id = None
    row.recorded_at = now
    row.recorded_by_member_id = actor.member_id
    binding_repo.clear_pending_input(session, actor.telegram_user_id)  # type: ignore[arg-type]
    attendance_repo.add_audit(
        session, now=now, action="leave.request", entity="activity", entity_id=activity.id,
        details={"reason": reason}, **audit_fields(actor),
    )
    approvers = approvers_of(session, activity.org_id, tree, requester=actor.member_id)
    _notify(session, now, OutboxKind.LEAVE_REQUEST, [a.member_id for a in approvers],
            {"activity_id": activity.id, "member_id": actor.member_id}, f"{activity.id}:{actor.member_id}")
    return LeaveRequest(
        activity=_view(activity, tree), member_id=actor.member_id, member_name=actor.name, reason=reason,
        approvers=approvers, origin=origin, origin_text=origin_text,
        reminders=private_reminders(session, actor, activity.id),
    )


def _notify(session: Session, now: datetime, kind: str, member_ids: list[int], payload: dict, key: str) -> None:
    """Queues a notice per member in the outbox: sent within Telegram's limits and outside quiet hours.

    The dedup key decides what is one message: two members' requests to the same approver are two.
    """
    stamp = int(now.timestamp())
    outbox.enqueue(session, [
        outbox.NewMessage(
            dedup_key=f"{kind}:{key}:{member_id}:{stamp}", recipient=outbox.member_recipient(member_id),
            due_at=now, kind=kind, member_id=member_id, priority=10, payload=payload,
        )
        for member_id in member_ids
    ])


def decide_leave(
    session: Session, by: Operator, activity_id: int, member_id: int, approve: bool, now: datetime
) -> LeaveDecisionResult:
    """Approve or refuse a member's leave (chat's 同意/不同意, `branchbot leave approve|refuse`); the member is
    told; a second decision (a replayed button) is refused."""
    tree = OrgTree.load(session)
    activity = _load_activity(session, activity_id)
    require_leave_decider(session, by, tree, activity.org_id, member_id)
    row = attendance_repo.attendance_row(session, activity.id, member_id)
    if row is None or row.status != AttendanceStatus.LEAVE:
        raise AlreadyHandled("这条请假已不存在（可能对方已签到）。", activity_id=activity_id, member_id=member_id)
    if row.leave_decision != LeaveDecision.PENDING:
        raise AlreadyHandled("这条请假已经处理过了。", activity_id=activity_id, member_id=member_id)
    row.leave_decision = (LeaveDecision.APPROVED if approve else LeaveDecision.REJECTED).value
    row.decided_by_member_id = by.member_id
    attendance_repo.add_audit(
        session, now=now, action="leave.approve" if approve else "leave.reject", entity="attendance",
        entity_id=row.id, details={"activity_id": activity.id, "member_id": member_id}, **audit_fields(by),
    )
    member = session.get(models.Member, member_id)
    binding = binding_repo.binding_for_member(session, member_id)
    _notify(session, now, OutboxKind.LEAVE_DECISION, [member_id],
            {"activity_id": activity.id, "approved": approve, "decided_by": by.name}, f"{activity.id}")
    return LeaveDecisionResult(
        activity=_view(activity, tree),
        member=Recipient(member_id, member.name if member else "",
                         _private_chat(binding)),
        approved=approve, decided_by=by.name,
    )


# What the secretary may record for a member on the roll, and how the audit log names it.
MARKS = {
    AttendanceStatus.PROXY: "attendance.proxy",
    AttendanceStatus.LEAVE: "attendance.leave",
    AttendanceStatus.ABSENT: "attendance.absent",
}


def mark_attendance(
    session: Session, by: Operator, activity_id: int, member_id: int, status: AttendanceStatus,
    now: datetime, *, reason: str | None = None,
) -> RollEntry:
    """The secretary records a member who did not answer themself: 代签 (present, signed by the secretary),
    leave (with its reason, approved by whoever records it) or absent. Only members the activity expects
    (the ledger's 应到), never over a member's own check-in; the member is told; audited."""
    try:
        status = AttendanceStatus(status)
    except ValueError:
        raise InvalidInput("无法识别要登记的出勤情况。", status=str(status)) from None
    if status not in MARKS:
        raise InvalidInput("无法识别要登记的出勤情况。", status=str(status))
    tree = OrgTree.load(session)
    activity = _load_activity(session, activity_id)
    require_runs_activity(by, tree, activity.org_id)
    what = {AttendanceStatus.PROXY: "代签", AttendanceStatus.LEAVE: "登记请假", AttendanceStatus.ABSENT: "记为缺席"}[status]
    if activity.kind != ActivityKind.MEETING:
        raise InvalidInput("这项工作不需要签到。", activity_id=activity.id)
    if activity.status in (ActivityStatus.CANCELLED, ActivityStatus.NOT_HELD):
        raise InvalidInput(f"「{activity.title}」未召开，不能{what}。")
    if status is AttendanceStatus.PROXY and now < checkin_window(activity)[0]:
        raise OutsideWindow(f"「{activity.title}」还没开始，不能代签。")
    if status is AttendanceStatus.ABSENT and now < activity.starts_at:
        raise OutsideWindow(f"「{activity.title}」还没开始，不能记为缺席。")
    if status is AttendanceStatus.LEAVE:
        reason = leave_reason(reason)
    member = session.get(models.Member, member_id)
    if member is None or member_id not in expected_ids(session, activity):
        raise PermissionDenied(f"此人不是该活动的参加对象，不能{what}。", activity_id=activity_id, member_id=member_id)
    row = attendance_repo.attendance_row(session, activity.id, member_id)
    if row is not None and row.status in SIGNED_IN:
        raise AlreadyHandled(f"{member.name} 已经签到了。")
    if row is None:
        row = models.Attendance(activity_id=activity.id, member_id=member_id)
        session.add(row)
    row.status = status.value
    row.via = "proxy" if status is AttendanceStatus.PROXY else "secretary"
    row.recorded_at = now
    row.recorded_by_member_id = by.member_id
    if status is AttendanceStatus.LEAVE:
        row.leave_reason = reason
        row.leave_decision = LeaveDecision.APPROVED.value
        row.decided_by_member_id = by.member_id
    session.flush()
    details: dict = {"activity_id": activity.id, "member_id": member_id}
    if reason and status is AttendanceStatus.LEAVE:
        details["reason"] = reason
    attendance_repo.add_audit(session, now=now, action=MARKS[status], entity="attendance", entity_id=row.id,
                              details=details, **audit_fields(by))
    _tell_recorded(session, now, activity, [member_id], status.value, by)
    return RollEntry(member_id=member.id, member_no=member.member_no, name=member.name, status=row.status,
                     leave_reason=row.leave_reason, leave_decision=row.leave_decision)


def proxy_sign(session: Session, by: Operator, activity_id: int, member_id: int, now: datetime) -> RollEntry:
    """代签: the secretary records a member without Telegram as present; audited as signed by the secretary."""
    return mark_attendance(session, by, activity_id, member_id, AttendanceStatus.PROXY, now)


def begin_marked_leave(session: Session, actor: Actor, activity_id: int, member_id: int, now: datetime, *,
                       origin: tuple[int, int] | None = None) -> tuple[RollEntry, ActivityView]:
    """请假 beside a member on the roll: the secretary's next message is that member's reason."""
    if actor.telegram_user_id is None:
        raise InvalidInput("请在私聊中登记。")
    tree = OrgTree.load(session)
    activity = _load_activity(session, activity_id)
    require_runs_activity(actor, tree, activity.org_id)
    entry = next((e for e in _roll(session, activity, tree).entries if e.member_id == member_id), None)
    if entry is None:
        raise PermissionDenied("此人不是该活动的参加对象，不能登记请假。", activity_id=activity_id, member_id=member_id)
    if entry.status in SIGNED_IN:
        raise AlreadyHandled(f"{entry.name} 已经签到了。")
    payload: dict = {"activity_id": activity.id, "member_id": member_id}
    if origin is not None:
        payload["origin"] = list(origin)
    binding_repo.set_pending_input(session, actor.telegram_user_id, PENDING_MARKED_LEAVE, payload, now + PENDING_TTL)
    return entry, _view(activity, tree)


def _tell_recorded(session: Session, now: datetime, activity: models.Activity, member_ids: list[int], status: str,
                   by: Operator) -> None:
    """Tells each member what someone else recorded for them (a fact: rendered when sent, in bot/); whoever
    recorded it knows already."""
    told = [member_id for member_id in member_ids if member_id != by.member_id]
    if told:
        _notify(session, now, OutboxKind.ATTENDANCE_RECORDED, told,
                {"activity_id": activity.id, "status": status, "by": by.name}, f"{activity.id}:{status}")


def roll_for(session: Session, by: Operator, activity_id: int, now: datetime) -> Roll:
    """The secretary's list: present, on leave (with reasons), not answered (reachable or not)."""
    tree = OrgTree.load(session)
    activity = _load_activity(session, activity_id)
    require_may_see_roll(by, tree, activity.org_id)
    return _roll(session, activity, tree, now)


def confirmation_refusal(activity: models.Activity, now: datetime) -> ServiceError | None:
    """Why the activity cannot be confirmed held or not held now; None when it can."""
    if activity.status != ActivityStatus.SCHEDULED:
        return AlreadyHandled(f"「{activity.title}」已经确认过了。", activity_id=activity.id, status=activity.status)
    if now < activity.starts_at:
        return OutsideWindow(f"「{activity.title}」还没开始，开始后才能确认。")
    return None


def _roll(session: Session, activity: models.Activity, tree: OrgTree, now: datetime | None = None) -> Roll:
    """Everyone the ledger expects (`expected_ids`: the same 应到 as every report), with their answers."""
    ledger, record = reports.load_activity_ledger(session, activity.id, _UTC)
    expected = ledger.expected_ids(record)
    records = attendance_repo.attendance_by_member(session, activity.id)
    bindings = binding_repo.bindings_for_members(session, expected)
    unreachable = set(session.scalars(select(models.Member.id).where(
        models.Member.id.in_(expected), models.Member.unreachable_since.is_not(None)))) if expected else set()
    entries = []
    for member_id in expected:
        member = ledger.members[member_id]
        row = records.get(member_id)
        entries.append(RollEntry(
            member_id=member_id, member_no=member.member_no, name=member.name,
            status=row.status if row else None,
            leave_reason=row.leave_reason if row else None,
            leave_decision=row.leave_decision if row else None,
            reachable=member_id in bindings and member_id not in unreachable,
        ))
    return Roll(activity=_view(activity, tree), entries=tuple(entries),
                confirmable=now is not None and confirmation_refusal(activity, now) is None)


def roll_for_system(session: Session, activity_id: int) -> Roll:
    """The same list for the scheduler's summary job (no actor: it goes to the branch's approvers)."""
    tree = OrgTree.load(session)
    return _roll(session, _load_activity(session, activity_id), tree)


def current_roll(session: Session, actor: Actor, now: datetime) -> Roll:
    """/absent: the roll of the branch's meeting that is open now, or else the next one."""
    tree = OrgTree.load(session)
    managed = tree.with_groups(actor.managed_org_ids)
    if not managed:
        raise PermissionDenied("只有支部书记、副书记或组织委员可以查看未答复名单。", actor=actor.member_no)
    rows = attendance_repo.activities_between(
        session, managed, listed_since(session, now, managed), now + ROLL_LOOKAHEAD,
        kinds=[ActivityKind.MEETING.value], statuses=[ActivityStatus.SCHEDULED.value],
    )
    for row in rows:
        if still_answerable(row, now):
            return _roll(session, row, tree)
    raise NotFound("近期没有需要签到的活动。")


def remind_unanswered(session: Session, actor: Actor, activity_id: int, now: datetime) -> list[Recipient]:
    """Who the "remind them" button reaches: only members who have not answered and can be reached."""
    tree = OrgTree.load(session)
    activity = _load_activity(session, activity_id)
    require_runs_activity(actor, tree, activity.org_id)
    if not still_answerable(activity, now):
        raise OutsideWindow(f"「{activity.title}」的签到已经结束，无需再提醒。")
    # The one pressing the button is never nudged about their own meeting.
    waiting = [e for e in _roll(session, activity, tree).unanswered if e.reachable and e.member_id != actor.member_id]
    bindings = binding_repo.bindings_for_members(session, [e.member_id for e in waiting])
    recipients = [Recipient(e.member_id, e.name, _private_chat(bindings[e.member_id])) for e in waiting]
    minute = int(now.timestamp() // 60)
    # Through the outbox, so Telegram's limits hold however large the branch; a second press within the
    # same minute queues nothing new.
    outbox.enqueue(session, [
        outbox.NewMessage(
            dedup_key=f"{OutboxKind.NUDGE}:{activity.id}:{r.member_id}:{minute}", recipient=outbox.member_recipient(r.member_id),
            due_at=now, kind=OutboxKind.NUDGE, activity_id=activity.id, member_id=r.member_id, chat_id=r.chat_id,
            priority=15,
        )
        for r in recipients
    ])
    attendance_repo.add_audit(
        session, now=now, action="activity.remind_unanswered", entity="activity", entity_id=activity.id,
        details={"members": [r.member_id for r in recipients]}, **audit_fields(actor),
    )
    return recipients


def confirm_activity(
    session: Session, by: Operator, activity_id: int, held: bool, now: datetime, *,
    unanswered_absent: bool = True,
) -> ConfirmResult:
    """The secretary says the activity was held or not (chat's ✅/❌, `branchbot activity confirm`).

    Held: whoever the ledger expects and has not answered is recorded absent and told. With
    `unanswered_absent=False` nothing changes while anyone has not answered: the result carries the roll
    (`waiting`), so the secretary can 代签 or mark each of them first. Not held: members who had answered
    are told it does not count."""
    tree = OrgTree.load(session)
    activity = _load_activity(session, activity_id, for_update=True)
    require_runs_activity(by, tree, activity.org_id)
    refusal = confirmation_refusal(activity, now)
    if refusal is not None:
        raise refusal
    meeting = activity.kind == ActivityKind.MEETING
    roll = _roll(session, activity, tree, now) if meeting else None
    silent = roll.unanswered if roll is not None and held else []
    if silent and not unanswered_absent:
        return ConfirmResult(activity=_view(activity, tree), held=held, marked_absent=0, waiting=roll)
    activity.status = (ActivityStatus.HELD if held else ActivityStatus.NOT_HELD).value
    activity.confirmed_at = now
    activity.confirmed_by_member_id = by.member_id
    for entry in silent:
        session.add(models.Attendance(
            activity_id=activity.id, member_id=entry.member_id, status=AttendanceStatus.ABSENT.value,
            recorded_at=now, recorded_by_member_id=by.member_id, via="summary",
        ))
    session.flush()
    attendance_repo.add_audit(
        session, now=now, action="activity.held" if held else "activity.not_held", entity="activity",
        entity_id=activity.id, details={"marked_absent": len(silent), "members": [e.member_id for e in silent]},
        **audit_fields(by),
    )
    if held:
        _tell_recorded(session, now, activity, [e.member_id for e in silent], AttendanceStatus.ABSENT.value, by)
    elif roll is not None:
        answered = [e.member_id for e in roll.entries if e.status is not None]
        _tell_recorded(session, now, activity, answered, ActivityStatus.NOT_HELD.value, by)
    return ConfirmResult(activity=_view(activity, tree), held=held, marked_absent=len(silent),
                         absent_names=tuple(e.name for e in silent))


def begin_activity_field(session: Session, actor: Actor, activity_id: int, field: str, now: datetime) -> ActivityView:
    """The secretary will type the topic, lecturer or minutes (photos too, for minutes) next."""
    if field not in ACTIVITY_FIELDS:
        raise InvalidInput("无法识别要记录的内容。", field=field)
    if actor.telegram_user_id is None:
        raise InvalidInput("请在私聊中记录。")
    tree = OrgTree.load(session)
    activity = _load_activity(session, activity_id)
    require_runs_activity(actor, tree, activity.org_id)
    binding_repo.set_pending_input(
        session, actor.telegram_user_id, PENDING_ACTIVITY_FIELD, {"activity_id": activity.id, "field": field},
        now + PENDING_TTL,
    )
    return _view(activity, tree)


def set_activity_field(
    session: Session, by: Operator, activity_id: int, field: str, text: str, now: datetime
) -> ActivityView:
    """Records an activity's topic, lecturer or minutes (chat's 记录… buttons, `activity confirm --topic …`)."""
    if field not in ACTIVITY_FIELDS:
        raise InvalidInput("无法识别要记录的内容。", field=field)
    value = typed_text(text, *ACTIVITY_FIELDS[field])
    if not value:
        raise InvalidInput("内容不能为空，请重新发送。")
    tree = OrgTree.load(session)
    activity = _load_activity(session, activity_id)
    require_runs_activity(by, tree, activity.org_id)
    setattr(activity, field, value)
    telegram_user_id = by.telegram_user_id
    if telegram_user_id is not None:
        binding_repo.clear_pending_input(session, telegram_user_id)
    attendance_repo.add_audit(
        session, now=now, action=f"activity.{field}", entity="activity", entity_id=activity.id,
        details={"length": len(value)}, **audit_fields(by),
    )
    return _view(activity, tree)


def add_minutes_photo(
    session: Session, actor: Actor, telegram_file_id: str, caption: str | None, now: datetime
) -> ActivityView | None:
    """A photo sent while the bot waits for minutes is attached to the activity; None if it waits for none."""
    if actor.telegram_user_id is None:
        return None
    pending = binding_repo.pending_input(session, actor.telegram_user_id, now)
    if pending is None or pending.kind != PENDING_ACTIVITY_FIELD or pending.payload.get("field") != "minutes":
        return None
    caption = typed_text(caption, models.ActivityAttachment.caption, "照片说明") or None
    tree = OrgTree.load(session)
    activity = _load_activity(session, int(pending.payload["activity_id"]))
    require_runs_activity(actor, tree, activity.org_id)
    attendance_repo.add_attachment(
        session, activity_id=activity.id, kind="photo", telegram_file_id=telegram_file_id, caption=caption,
        member_id=actor.member_id, now=now,
    )
    attendance_repo.add_audit(
        session, now=now, action="activity.minutes_photo", entity="activity", entity_id=activity.id,
        **audit_fields(actor),
    )
    return _view(activity, tree)


def announcement_state(session: Session, activity_id: int) -> tuple[ActivityView, LiveTally]:
    """What the branch group's announcement shows: the activity and its live tally (no names)."""
    tree = OrgTree.load(session)
    activity = _load_activity(session, activity_id)
    return _view(activity, tree), tally(session, activity, tree)
