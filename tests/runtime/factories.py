"""Small builders for runtime tests: an organisation with bound members and activities."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import models
from storage.repositories import outbox

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """A Shanghai wall-clock time as an aware UTC datetime: at('2025-03-14 09:00')."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(timezone.utc)


def make_branch(session: Session, code: str = "B01", *, members: int = 3, secretary: bool = True,
                bound: bool = True, group_chat_id: int | None = None, first_chat_id: int = 1000) -> models.Organization:
    """A 党支部 with `members` bound members M<code>-1…; the first one is its 书记 when `secretary`."""
    org = models.Organization(code=code, name=f"第{code}党支部", type="党支部", group_chat_id=group_chat_id)
    session.add(org)
    session.flush()
    for index in range(1, members + 1):
        member = models.Member(member_no=f"{code}-{index}", name=f"党员{code}{index}", org_id=org.id, category="正式党员")
        session.add(member)
        session.flush()
        if index == 1 and secretary:
            session.add(models.MemberRole(member_id=member.id, org_id=org.id, role="书记"))
        if bound:
            chat = first_chat_id + index
            session.add(models.TelegramBinding(member_id=member.id, telegram_user_id=chat, private_chat_id=chat))
    session.flush()
    return org


def make_activity(session: Session, org: models.Organization, starts_at: datetime, *, key: str | None = None,
                  leads: str = "4320,1440,60", title: str = "主题党日", status: str = "scheduled") -> models.Activity:
    activity = models.Activity(
        occurrence_key=key or f"theme_party_day:{org.code}:{starts_at:%Y-%m-%dT%H%M}", org_id=org.id,
        obligation="theme_party_day", title=title, starts_at=starts_at, reminder_leads=leads, status=status,
    )
    session.add(activity)
    session.flush()
    return activity


def add_reminder(session: Session, activity_id: int, member_id: int, lead_minutes: int, due_at: datetime, *,
                 chat_id: int | None = None, dedup_key: str | None = None, **as_left: object) -> models.OutboxMessage:
    """The one way tests make a member's reminder row: queued as the materialiser queues it
    (`outbox.NewMessage.reminder`, `outbox.enqueue`), then as the dispatcher left it, `as_left` setting its state
    and what came with it (state="sent", telegram_message_id=…, claimed_at=…). `dedup_key` replaces the
    materialiser's key, for a row a later queueing must not take for its own. Flushed; returned."""
    message = outbox.NewMessage.reminder(activity_id, member_id, lead_minutes, due_at, chat_id=chat_id)
    if dedup_key is not None:
        message = dataclasses.replace(message, dedup_key=dedup_key)
    assert outbox.enqueue(session, [message]) == 1, f"a reminder {message.dedup_key} is queued already"
    row = session.scalars(select(models.OutboxMessage).where(models.OutboxMessage.dedup_key == message.dedup_key)).one()
    for name, value in as_left.items():
        setattr(row, name, value)
    session.flush()
    return row


def members_of(session: Session, org: models.Organization) -> list[models.Member]:
    return list(session.scalars(select(models.Member).where(models.Member.org_id == org.id).order_by(models.Member.member_no)))


def renderers():  # noqa: ANN201
    """Every outbox kind's renderer as the bot wires them (test signer and bot name)."""
    from bot.callbacks import CallbackSigner
    from bot.handlers.outbox_views import build_outbox_renderers

    return build_outbox_renderers(CallbackSigner.from_token("1:TEST"), lambda: "branchbot_test_bot")


def as_claimed(row: models.OutboxMessage) -> outbox.ClaimedMessage:
    """A stored outbox row as the dispatcher's claim hands it on (`outbox.claim`), to render it as sent."""
    return outbox.ClaimedMessage(
        id=row.id, kind=row.kind, activity_id=row.activity_id, member_id=row.member_id, chat_id=row.chat_id,
        recipient=row.recipient, lead_minutes=row.lead_minutes, due_at=row.due_at, priority=row.priority,
        attempts=row.attempts, payload=row.payload, last_error=row.last_error)


def rendered(session: Session, row: models.OutboxMessage, now: datetime | None = None) -> str:
    """The text a stored outbox row reads as when the dispatcher sends it (at `now`, default when due)."""
    return renderers().render(session, as_claimed(row), SHANGHAI, now)[0]
