"""SQLAlchemy 2 typed models: the organisation tree, members, activities, attendance and the outbox."""

from __future__ import annotations

from datetime import date, datetime, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy import text as sql_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from storage.outbox_kinds import OutboxKind, outbox_kind
from storage.text import MAX_LENGTH, ONE_LINE  # a Text column's limit and shape for what people type (no DDL)
from storage.types import UTCDateTime

# Explicit constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class ActivityStatus(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    NOT_HELD = "not_held"
    CANCELLED = "cancelled"


class ActivityKind(StrEnum):
    MEETING = "meeting"  # members attend and check in
    TASK = "task"  # something the secretary or committee must do (转正, 换届, 五个一 …)
    NOTICE = "notice"  # a message only (greetings, 廉政提醒, 每月一提醒 …)


class AttendanceStatus(StrEnum):
    PRESENT = "present"
    LEAVE = "leave"
    ABSENT = "absent"
    PROXY = "proxy"  # 代签: signed by the secretary for a member without Telegram


# Who counts as present (the roll's 已签到, the ledger's 出席): signed in themself, or 代签 by the secretary.
SIGNED_IN = frozenset({AttendanceStatus.PRESENT, AttendanceStatus.PROXY})


class LeaveDecision(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class OutboxState(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    MISSED = "missed"  # its moment passed during downtime; reported, never sent
    SKIPPED = "skipped"  # no longer needed (member answered, activity cancelled)
    FAILED = "failed"  # gave up: unreachable member, permanent error


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    elected_on: Mapped[date | None] = mapped_column(Date)
    term_years: Mapped[int | None] = mapped_column(Integer)
    group_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    timezone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    parent: Mapped[Organization | None] = relationship(remote_side=[id])


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_no: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    category: Mapped[str] = mapped_column(String(16))
    joined_on: Mapped[date | None] = mapped_column(Date)
    full_member_on: Mapped[date | None] = mapped_column(Date)
    activist_on: Mapped[date | None] = mapped_column(Date)
    leading_cadre: Mapped[bool] = mapped_column(Boolean, default=False)
    telegram_username: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    transferred_out_at: Mapped[datetime | None]
    # Set when Telegram answered 403 / chat not found; cleared when the member talks to the bot again.
    unreachable_since: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    org: Mapped[Organization] = relationship(foreign_keys=[org_id])
    group: Mapped[Organization | None] = relationship(foreign_keys=[group_id])
    roles: Mapped[list[MemberRole]] = relationship(
        back_populates="member", cascade="all, delete-orphan", lazy="selectin"
    )


# What of a member the audience rule reads, its one declaration: the columns `storage.services.actors.person_of`
# makes a `Person` of, and the status (only active members are counted); their seats are `MemberRole` rows. A write
# of one may change who an activity counts (its 应到): storage.changes notices exactly these, storage.roster_io.apply
# the roster fields they come from. tests/seams/test_audience_columns_seam.py checks it against the ledger.
MEMBER_AUDIENCE_COLUMNS = ("org_id", "group_id", "category", "leading_cadre", "status")


class MemberRole(Base):
    """A seat: 书记 of the member's own branch, 党小组长 of a group, or 委员 of an upper committee."""

    __tablename__ = "member_roles"
    __table_args__ = (UniqueConstraint("member_id", "org_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    upper: Mapped[bool] = mapped_column(Boolean, default=False)

    member: Mapped[Member] = relationship(back_populates="roles")
    org: Mapped[Organization] = relationship()


class TelegramBinding(Base):
    __tablename__ = "telegram_bindings"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    # Private chats with a user have the user's id; kept separately because Telegram may change it.
    private_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    username: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="zh")
    bound_at: Mapped[datetime] = mapped_column(default=utcnow)

    member: Mapped[Member] = relationship()


class InviteCode(Base):
    __tablename__ = "invite_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))


class BindingAttempt(Base):
    """Failed invite-code attempts, to throttle guessing per Telegram account."""

    __tablename__ = "binding_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Activity(Base):
    """One occurrence of an obligation (or an ad-hoc activity) for one organisation."""

    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_org_starts", "org_id", "starts_at"),
        Index("ix_activities_starts", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stable identity of a planned occurrence, e.g. "theme_party_day:B01:2025-03"; ad-hoc ones get a uuid.
    occurrence_key: Mapped[str] = mapped_column(String(200), unique=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    obligation: Mapped[str | None] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=ActivityKind.MEETING)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    moved_from: Mapped[date | None] = mapped_column(Date)
    place: Mapped[str | None] = mapped_column(String(200))
    agenda: Mapped[str | None] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(String(32), default="all_members")
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    source: Mapped[str] = mapped_column(String(16), default="plan")  # plan | adhoc
    status: Mapped[str] = mapped_column(String(16), default=ActivityStatus.SCHEDULED)
    requires_confirmation: Mapped[bool] = mapped_column(Boolean, default=True)
    # The check-in window in minutes from the start (opens -30, closes +120), never as instants: whatever
    # hangs on the activity's time moves with it when it is moved (None: the default window).
    checkin_opens_minutes: Mapped[int | None] = mapped_column(Integer)
    checkin_closes_minutes: Mapped[int | None] = mapped_column(Integer)
    # Grows at every move or cancellation: buttons and group posts made for an older revision say what changed.
    revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reminder_leads: Mapped[str] = mapped_column(String(64), default="")  # minutes, comma separated
    # Which holiday calendar placed it: official, or provisional (its year's notice not in yet); tentative:
    # provisional and close to a holiday, so the notice may still move it (shown "（暂定）").
    calendar: Mapped[str] = mapped_column(String(16), default="official", server_default="official")
    tentative: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    confirmed_at: Mapped[datetime | None]
    confirmed_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    topic: Mapped[str | None] = mapped_column(String(200))
    lecturer: Mapped[str | None] = mapped_column(String(100))
    recorder: Mapped[str | None] = mapped_column(String(100))
    minutes: Mapped[str | None] = mapped_column(Text, info={MAX_LENGTH: 10000})
    summary_sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    org: Mapped[Organization] = relationship()
    member: Mapped[Member | None] = relationship(foreign_keys=[member_id])


class ActivityAttachment(Base):
    """Minutes photos and documents, kept as Telegram file ids."""

    __tablename__ = "activity_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # photo | document
    telegram_file_id: Mapped[str] = mapped_column(String(256))
    caption: Mapped[str | None] = mapped_column(Text, info={MAX_LENGTH: 1024})  # Telegram's caption limit
    added_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attendance(Base):
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("activity_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    leave_reason: Mapped[str | None] = mapped_column(Text, info={MAX_LENGTH: 300, ONE_LINE: True})
    leave_decision: Mapped[str | None] = mapped_column(String(16))
    decided_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    # How the answer arrived: private chat, group announcement, 代签 or the secretary's summary.
    via: Mapped[str] = mapped_column(String(16), default="private")


class OutboxMessage(Base):
    """A message that must reach someone exactly once: reminders, summaries, notices."""

    __tablename__ = "outbox"
    __table_args__ = (
        # A reminder is one per (activity, recipient, lead time): the contract's key. Other kinds are told apart
        # by their dedup key alone (a change notice per change, a nudge per press), never by `lead_minutes`.
        Index("uq_outbox_reminder", "activity_id", "recipient", "lead_minutes", unique=True,
              sqlite_where=sql_text("kind = 'reminder'"), postgresql_where=sql_text("kind = 'reminder'")),
        # The look-ups by activity of the other kinds (change notices to the reminded, follow-ups, the cascade).
        Index("ix_outbox_activity_kind", "activity_id", "kind"),
        Index("ix_outbox_state_due", "state", "due_at"),
        CheckConstraint("lead_minutes >= 0", name="lead_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The idempotency key: each kind says what makes one of its messages (a reminder: activity, recipient,
    # lead; a change notice: the change).
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32), default=OutboxKind.REMINDER.value)  # an OutboxKind
    recipient: Mapped[str] = mapped_column(String(64))  # "member:<id>" or "chat:<chat id>"
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    lead_minutes: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime]
    priority: Mapped[int] = mapped_column(Integer, default=100)  # lower goes first
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default=OutboxState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None]
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    # When the delivered message was last edited (a group card following its tally): the edit rate's one
    # record across processes (repositories.outbox.claim_edits).
    edited_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @validates("kind")
    def _known_kind(self, _key: str, value: str) -> str:
        return outbox_kind(value).value


class Leadership(Base):
    """Who runs the scheduler and the dispatcher: one row per role, leased; the term grows at each new holder.

    The term fences the outbox: a row is claimed only by the holder of the current, unexpired term, and
    `claimed_by` carries the term, so what an old holder marks later cannot touch a newer holder's rows.
    """

    __tablename__ = "leadership"

    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    term: Mapped[int] = mapped_column(Integer, default=0)
    holder: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    acquired_at: Mapped[datetime | None]
    renewed_at: Mapped[datetime | None]


class ChecklistItem(Base):
    """A tick-box task hanging off an activity: the "五个一" of a political birthday, 转正 steps, …"""

    __tablename__ = "checklist_items"
    __table_args__ = (UniqueConstraint("activity_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None]
    done_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))


class RectificationSource(StrEnum):
    """Where a 整改 item was raised (the five sources the plans name)."""

    ORGANIZATIONAL_LIFE = "组织生活会"
    DEMOCRATIC_LIFE = "民主生活会"
    INSPECTION = "巡察"
    SUPERVISION = "党建督查"
    APPRAISAL = "述职评议"


class RectificationNoteKind(StrEnum):
    PROGRESS = "progress"  # an owner's (or the secretary's) note of progress
    PHOTO = "photo"
    DOCUMENT = "document"
    CLOSED = "closed"  # 销号, with the evidence as text
    REOPENED = "reopened"  # the upper committee's reason


class Rectification(Base):
    """问题整改: a problem, its measures, owners and deadline; closed (销号) only by the branch's secretary."""

    __tablename__ = "rectifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)  # the branch that rectifies
    # The organisation that raised it: the branch itself, or an upper committee (which alone may reopen it).
    raised_by_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    problem: Mapped[str] = mapped_column(Text, info={MAX_LENGTH: 1000})
    source: Mapped[str] = mapped_column(String(16))
    measures: Mapped[str] = mapped_column(Text, info={MAX_LENGTH: 1000})
    due_on: Mapped[date] = mapped_column(Date)  # the last day, in the organisation's zone
    deadline_text: Mapped[str] = mapped_column(String(64))  # as the secretary wrote it: 本月底前
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)  # a new round of reminders after each reopening
    closed_at: Mapped[datetime | None]
    closed_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    evidence: Mapped[str | None] = mapped_column(Text, info={MAX_LENGTH: 1000})
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))

    owners: Mapped[list[RectificationOwner]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="RectificationOwner.id"
    )


class RectificationOwner(Base):
    __tablename__ = "rectification_owners"
    __table_args__ = (UniqueConstraint("rectification_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rectification_id: Mapped[int] = mapped_column(ForeignKey("rectifications.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)


class RectificationNote(Base):
    """The item's history as its people see it: progress notes, photos and files, 销号 and reopening."""

    __tablename__ = "rectification_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    rectification_id: Mapped[int] = mapped_column(ForeignKey("rectifications.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text, info={MAX_LENGTH: 1000})
    telegram_file_id: Mapped[str | None] = mapped_column(String(256))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class HeartToHeartTalk(Base):
    """One 谈心谈话 that took place: the date, the two people and at most a line of topic (never its content).

    `committee_member_id` is the committee side; when both sit on the committee it is the smaller id, so a
    pair has one spelling. Recording the same talk twice (both sides on the same day) is refused.
    """

    __tablename__ = "heart_to_heart_talks"
    __table_args__ = (UniqueConstraint("committee_member_id", "member_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    committee_member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    held_on: Mapped[date] = mapped_column(Date)
    topic: Mapped[str | None] = mapped_column(String(100))
    recorded_by_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)


class PendingInput(Base):
    """What the bot is waiting for from a user (a leave reason, minutes, a time), surviving restarts."""

    __tablename__ = "pending_inputs"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    expires_at: Mapped[datetime]


class ScheduleDraft(Base):
    """One /schedule, /reschedule or /cancel card's change, waiting for that card's ✅ (one row per card)."""

    __tablename__ = "schedule_drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    operation: Mapped[str] = mapped_column(String(16))  # new | move | cancel
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    # The activity's revision when the card was made: a card for an activity changed since is not applied.
    activity_revision: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    place: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | applied | discarded
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Who changed what: every write that a person caused, and every refused forged button."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    actor_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    actor_label: Mapped[str | None] = mapped_column(String(64))  # "cli", "scheduler", …
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
