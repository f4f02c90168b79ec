"""Telegram bindings, invite codes, failed binding attempts and pending chat inputs (no commits here)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from storage import models
from storage.direct import KeyedRead


def binding_for_telegram(session: Session, telegram_user_id: int) -> models.TelegramBinding | None:
    return session.scalars(
        select(models.TelegramBinding).where(models.TelegramBinding.telegram_user_id == telegram_user_id)
    ).one_or_none()


# Table columns, not mapped attributes: a plain Core statement skips the ORM's compile and result layers.
_members, _seats, _bindings = models.Member.__table__, models.MemberRole.__table__, models.TelegramBinding.__table__
_MEMBER_COLUMNS = (
    _members.c.id, _members.c.member_no, _members.c.name, _members.c.org_id, _members.c.group_id,
    _members.c.category, _members.c.leading_cadre, _members.c.status,
)
_SEAT_COLUMNS = (_seats.c.org_id, _seats.c.role, _seats.c.upper)


def member_seats_for_telegram(session: Session, telegram_user_id: int) -> list[tuple]:
    """The bound member's columns with one row per seat (seat columns None when they hold none).

    One plain, prebuilt query run on the driver's cursor instead of ORM objects: it runs on every update, and
    building entities (or even the statement, or SQLAlchemy's result) costs more than the query itself. Answered
    from what `read_member_seats_ahead` read, where it read this account's.
    """
    return _MEMBER_SEATS_FOR_TELEGRAM.rows(session, {"telegram_user_id": telegram_user_id})


def read_member_seats_ahead(session: Session, telegram_user_ids: Iterable[int]) -> dict[int, list[tuple]]:
    """`member_seats_for_telegram` of several accounts in one statement, each answered once later in this session;
    the rows by account are returned too."""
    found = _MEMBER_SEATS_FOR_TELEGRAM.read_ahead(session, [(user,) for user in telegram_user_ids])
    return {user: rows for (user,), rows in found.items()}


_MEMBER_SEATS_FOR_TELEGRAM = KeyedRead(
    select(*_MEMBER_COLUMNS, *_SEAT_COLUMNS)
    .join(_bindings, _bindings.c.member_id == _members.c.id)
    .outerjoin(_seats, _seats.c.member_id == _members.c.id),
    {"telegram_user_id": _bindings.c.telegram_user_id},
)


def binding_for_member(session: Session, member_id: int) -> models.TelegramBinding | None:
    return session.scalars(
        select(models.TelegramBinding).where(models.TelegramBinding.member_id == member_id)
    ).one_or_none()


def bindings_for_members(session: Session, member_ids: Iterable[int]) -> dict[int, models.TelegramBinding]:
    ids = list(set(member_ids))
    if not ids:
        return {}
    rows = session.scalars(select(models.TelegramBinding).where(models.TelegramBinding.member_id.in_(ids)))
    return {row.member_id: row for row in rows}


def bind(
    session: Session, *, member_id: int, telegram_user_id: int, private_chat_id: int | None,
    username: str | None, now: datetime,
) -> models.TelegramBinding:
    """Binds the account to the member, replacing any earlier binding of either side."""
    session.execute(delete(models.TelegramBinding).where(
        (models.TelegramBinding.member_id == member_id)
        | (models.TelegramBinding.telegram_user_id == telegram_user_id)
    ))
    session.flush()
    binding = models.TelegramBinding(
        member_id=member_id, telegram_user_id=telegram_user_id, private_chat_id=private_chat_id,
        username=username, bound_at=now,
    )
    session.add(binding)
    session.flush()
    return binding


def add_invite(
    session: Session, *, code: str, member_id: int, now: datetime, expires_at: datetime,
    created_by_member_id: int | None,
) -> models.InviteCode:
    invite = models.InviteCode(
        code=code, member_id=member_id, created_at=now, expires_at=expires_at,
        created_by_member_id=created_by_member_id,
    )
    session.add(invite)
    session.flush()
    return invite


def invite_by_code(session: Session, code: str, *, for_update: bool = False) -> models.InviteCode | None:
    query = select(models.InviteCode).where(models.InviteCode.code == code)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def failed_attempts_since(session: Session, telegram_user_id: int, since: datetime) -> int:
    return session.scalar(
        select(func.count()).select_from(models.BindingAttempt).where(
            models.BindingAttempt.telegram_user_id == telegram_user_id, models.BindingAttempt.at >= since
        )
    ) or 0


def add_failed_attempt(session: Session, telegram_user_id: int, now: datetime) -> None:
    session.add(models.BindingAttempt(telegram_user_id=telegram_user_id, at=now))
    session.flush()


def pending_input(session: Session, telegram_user_id: int, now: datetime) -> models.PendingInput | None:
    """The live pending input of this account; an expired one counts as none."""
    row = session.scalars(
        select(models.PendingInput).where(models.PendingInput.telegram_user_id == telegram_user_id)
    ).one_or_none()
    if row is None or row.expires_at <= now:
        return None
    return row


def set_pending_input(
    session: Session, telegram_user_id: int, kind: str, payload: dict[str, Any], expires_at: datetime
) -> models.PendingInput:
    """Stores what the bot waits for from this account, replacing whatever it waited for before."""
    clear_pending_input(session, telegram_user_id)
    row = models.PendingInput(telegram_user_id=telegram_user_id, kind=kind, payload=payload, expires_at=expires_at)
    session.add(row)
    session.flush()
    return row


def clear_pending_input(session: Session, telegram_user_id: int) -> None:
    session.execute(delete(models.PendingInput).where(models.PendingInput.telegram_user_id == telegram_user_id))
    session.flush()
