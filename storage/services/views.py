"""Typed, read-only results the services hand to the chat layer (no ORM objects leak out), and the pure rules
they answer by (still answerable, the check-in window, how long one may stay open); no query: a look-up, such as
the lower bound of the lists (`listed_since`), is `storage.services.queries`'."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from schedules.roster import OrgType
from storage import models
from storage.errors import ServiceError
from storage.repositories.outbox import DeliveredMessage

DEFAULT_OPENS_BEFORE = timedelta(minutes=30)
DEFAULT_CLOSES_AFTER = timedelta(hours=2)


def opens_offset(opens_minutes: int | None) -> timedelta:
    """When a check-in window opens, from the activity's start: its stored minutes, or 30 minutes before."""
    return -DEFAULT_OPENS_BEFORE if opens_minutes is None else timedelta(minutes=opens_minutes)


def closes_offset(closes_minutes: int | None) -> timedelta:
    """When a check-in window closes, from the activity's start: its stored minutes, or 2 hours after."""
    return DEFAULT_CLOSES_AFTER if closes_minutes is None else timedelta(minutes=closes_minutes)


def checkin_window(activity: models.Activity) -> tuple[datetime, datetime]:
    """The activity's own window, or the default from 30 minutes before to 2 hours after the start."""
    opens = activity.starts_at + opens_offset(activity.checkin_opens_minutes)
    closes = activity.starts_at + closes_offset(activity.checkin_closes_minutes)
    return opens, closes


def _answerable(status: str, closes: datetime, now: datetime) -> bool:
    # The one rule, over the values both a stored activity and its view carry.
    return status == models.ActivityStatus.SCHEDULED and now < closes


def still_answerable(activity: models.Activity, now: datetime) -> bool:
    """Whether members may still answer the activity (check in, ask leave, be reminded to): while it is scheduled
    and its check-in window has not closed, whether or not the meeting is over by then (`ActivityView.answerable`
    is the same rule on a view)."""
    return _answerable(activity.status, checkin_window(activity)[1], now)


def checkin_open(activity: models.Activity, now: datetime) -> bool:
    """Whether a member may check in to the activity now: still answerable (`still_answerable`) and its window
    open (`ActivityView.checkin_open` is the same rule on a view). Not yet open: `now` is before the window's
    opening (`checkin_window`); else it is closed, held, not held or cancelled."""
    return still_answerable(activity, now) and checkin_window(activity)[0] <= now


def longest_opening_lead(earliest_opens_minutes: int | None) -> timedelta:
    """How long before its start a window opens at most, among windows whose smallest stored opening is
    `earliest_opens_minutes` (None: none has its own); those without their own open by the default."""
    return max(-opens_offset(None), -opens_offset(earliest_opens_minutes))


def latest_opening_delay(latest_opens_minutes: int | None) -> timedelta:
    """How long after its start a window opens at most (negative: every one opens before the start), among
    windows whose largest stored opening is `latest_opens_minutes` (None: none has its own)."""
    return max(opens_offset(None), opens_offset(latest_opens_minutes))


def latest_closing_delay(latest_closes_minutes: int | None) -> timedelta:
    """How long after its start a window closes at most, among windows whose largest stored closing is
    `latest_closes_minutes` (None: none has its own)."""
    return max(closes_offset(None), closes_offset(latest_closes_minutes))


def display_title(activity: models.Activity) -> str:
    """How an activity is named to people: a 党小组's activity carries its group ("党小组会（第一党小组）"), so the
    rolls, reminders and nags of two groups' meetings never read alike."""
    org = activity.org
    if org is not None and org.type == OrgType.GROUP.value and org.name not in activity.title:
        return f"{activity.title}（{org.name}）"
    return activity.title


@dataclass(frozen=True, slots=True)
class ActivityView:
    id: int
    title: str
    org_id: int
    org_name: str
    starts_at: datetime
    ends_at: datetime | None
    place: str | None
    agenda: str | None
    obligation: str | None
    kind: str
    status: str
    checkin_opens_at: datetime
    checkin_closes_at: datetime
    requires_confirmation: bool
    label: str = ""  # display_title: what messages call it (the title when not given)
    tentative: bool = False  # placed on the provisional calendar close to a holiday: the notice may move it
    revision: int = 0  # grows at each move or cancellation; buttons carry it (activity_changes.stale_button)

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.title)

    @classmethod
    def of(cls, activity: models.Activity, org_name: str) -> "ActivityView":
        opens, closes = checkin_window(activity)
        return cls(
            id=activity.id, title=activity.title, org_id=activity.org_id, org_name=org_name,
            starts_at=activity.starts_at, ends_at=activity.ends_at, place=activity.place,
            agenda=activity.agenda, obligation=activity.obligation, kind=activity.kind,
            status=activity.status, checkin_opens_at=opens, checkin_closes_at=closes,
            requires_confirmation=bool(activity.requires_confirmation), label=display_title(activity),
            tentative=bool(activity.tentative), revision=activity.revision or 0,
        )

    def checkin_open(self, now: datetime) -> bool:
        """A member may check in now (`checkin_open`): still answerable and its window open."""
        return self.answerable(now) and self.checkin_opens_at <= now

    def answerable(self, now: datetime) -> bool:
        """A member may still answer it (`still_answerable`): scheduled, its check-in window not closed, whether or
        not the meeting is over by then."""
        return _answerable(self.status, self.checkin_closes_at, now)

    @property
    def over_at(self) -> datetime:
        """When a meeting is over: at its end, or, without one, when its check-in window closes (the only length
        such a meeting has; members may still arrive and check in until then)."""
        return self.ends_at if self.ends_at is not None else self.checkin_closes_at

    def in_progress(self, now: datetime) -> bool:
        """A meeting begun and not over yet (`over_at`). A task or a notice is due at its moment; it does not
        take place."""
        if self.kind != models.ActivityKind.MEETING.value:
            return False
        return self.starts_at <= now < self.over_at


@dataclass(frozen=True, slots=True)
class Recipient:
    """Where to reach a member privately; chat_id is None when they never started the bot."""

    member_id: int
    name: str
    chat_id: int | None


@dataclass(frozen=True, slots=True)
class RollEntry:
    member_id: int
    member_no: str
    name: str
    status: str | None  # present | leave | absent | proxy | None (no answer yet)
    leave_reason: str | None = None
    leave_decision: str | None = None
    reachable: bool = True  # bound to Telegram and not blocked


@dataclass(frozen=True)
class Roll:
    """Everyone an activity expects, sorted into the secretary's four lists."""

    activity: ActivityView
    entries: tuple[RollEntry, ...]
    confirmable: bool = False  # the secretary may confirm it now (storage.services.attendance.confirmation_refusal)

    @property
    def present(self) -> list[RollEntry]:
        return [e for e in self.entries if e.status in models.SIGNED_IN]

    @property
    def on_leave(self) -> list[RollEntry]:
        return [e for e in self.entries if e.status == "leave"]

    @property
    def absent(self) -> list[RollEntry]:
        """未签到: no answer (or recorded absent), whether or not Telegram reaches them; the same people the
        confirmation records absent and the ledger counts absent once the meeting is held."""
        return [e for e in self.entries if e.status in (None, "absent")]

    @property
    def unreachable(self) -> list[RollEntry]:
        """Those of `absent` that no reminder reaches (no Telegram binding, or the bot is blocked)."""
        return [e for e in self.absent if not e.reachable]

    @property
    def unanswered(self) -> list[RollEntry]:
        return [e for e in self.entries if e.status is None]

    @property
    def not_present(self) -> list[RollEntry]:
        """Everyone 代签 could still record: on leave, absent or silent."""
        return [e for e in self.entries if e.status not in models.SIGNED_IN]


@dataclass(frozen=True, slots=True)
class LiveTally:
    """Answers so far to a meeting still open (the group announcement's counts); a held meeting's final
    counts are the ledger's (storage.services.reports.AttendanceLedger.tally)."""

    expected: int
    present: int
    leave: int

    @property
    def unanswered(self) -> int:
        return max(self.expected - self.present - self.leave, 0)


@dataclass(frozen=True, slots=True)
class CheckInResult:
    activity: ActivityView
    member_name: str
    status: str
    already: bool
    tally: LiveTally | None = None
    # The member's delivered private reminders of the activity, which show the check-in too (none when it was
    # recorded before: they show it already).
    reminders: tuple[DeliveredMessage, ...] = ()


class StaleButton(ServiceError):
    """A ✅ 签到 / 📝 请假 button made for an older revision of its activity that may not act, refused with the
    activity as it stands now to say what changed (storage.services.attendance.answer_button). A refusal, so
    whatever the press wrote before it is rolled back; the chat answers it with `bot.texts.stale_button`."""

    code = "stale_button"

    def __init__(self, activity: ActivityView) -> None:
        super().__init__(f"此通知已过时：「{activity.label}」已有变动。", activity_id=activity.id,
                         revision=activity.revision)
        self.activity = activity


@dataclass(frozen=True, slots=True)
class LeaveRequest:
    activity: ActivityView
    member_id: int
    member_name: str
    reason: str
    approvers: tuple[Recipient, ...]
    origin: tuple[int, int] | None = None  # (chat id, message id) of the reminder where 📝 请假 was pressed
    origin_text: str | None = None  # that reminder's text, to show the request under it
    reminders: tuple[DeliveredMessage, ...] = ()  # the member's delivered private reminders, which show it too


@dataclass(frozen=True, slots=True)
class LeaveDecisionResult:
    activity: ActivityView
    member: Recipient
    approved: bool
    decided_by: str


@dataclass(frozen=True, slots=True)
class BindingResult:
    member_id: int
    member_name: str
    org_name: str
    next_activity: ActivityView | None
    is_secretary: bool
    is_committee: bool


@dataclass(frozen=True, slots=True)
class Invite:
    code: str
    member_no: str
    member_name: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ConfirmResult:
    activity: ActivityView
    held: bool
    marked_absent: int
    absent_names: tuple[str, ...] = ()  # who was recorded absent for not answering, in member-number order
    waiting: Roll | None = None  # not confirmed yet: these members have not answered (see confirm_activity)


@dataclass(frozen=True)
class MarkedLeave:
    """A leave the secretary recorded for a member (their reason typed in the next message)."""

    activity_id: int
    entry: RollEntry
    origin: tuple[int, int] | None = None  # the roll card whose 请假 was pressed


@dataclass(frozen=True)
class MemberYear:
    """/me: a member's year at a glance."""

    name: str
    org_name: str
    year: int
    expected: int
    present: int
    leave: int
    absent: int
    political_birthday: str | None  # "3月5日" style is the texts' job; this is MM-DD
    party_age_years: int | None
    owed: tuple[str, ...] = field(default=())  # titles of missed meetings that call for a make-up study
    awaiting_confirmation: int = 0  # past meetings the secretary has not confirmed: not counted either way
