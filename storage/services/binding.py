"""Binding a Telegram account to a roster member with one-time, expiring invite codes."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from schedules.roster import MemberStatus
from storage import models
from storage.errors import InvalidInput, NotFound, PermissionDenied, ServiceError, Throttled
from storage.repositories import attendance as attendance_repo
from storage.repositories import bindings as binding_repo
from storage.services.actors import Actor, OrgTree, actor_for_telegram, actor_from_member, require_manager
from storage.services.permissions import Operator, SystemOperator, audit_fields
from storage.text import could_be_stored
from storage.services.queries import upcoming_for
from storage.services.views import ActivityView, BindingResult, Invite

DEFAULT_INVITE_DAYS = 7
THROTTLE_WINDOW = timedelta(minutes=15)
THROTTLE_MAX_FAILURES = 5
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O/1/I: codes get read aloud and typed
CODE_LENGTH = 10


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    return text.strip().upper().replace("-", "").replace(" ", "")


def create_invite(
    session: Session, member_no: str, now: datetime, *, days: int = DEFAULT_INVITE_DAYS,
    created_by: Operator,
) -> Invite:
    """A fresh code for the member; a member (chat) may ask only for their branch's, a system operator for any."""
    if days < 1 or days > 90:
        raise InvalidInput("有效天数应在 1 到 90 天之间。", days=days)
    member = session.scalars(select(models.Member).where(models.Member.member_no == member_no.strip())).one_or_none()
    if member is None:
        raise NotFound(f"名册中没有党员编号 {member_no}。", member_no=member_no)
    if member.status != MemberStatus.ACTIVE.value:
        raise InvalidInput(f"{member.name}（{member.member_no}）的组织关系已转出，不能绑定。", member_no=member_no)
    if not isinstance(created_by, SystemOperator):
        require_manager(created_by, OrgTree.load(session), member.org_id)
    code = new_code()
    expires_at = now + timedelta(days=days)
    binding_repo.add_invite(
        session, code=code, member_id=member.id, now=now, expires_at=expires_at,
        created_by_member_id=created_by.member_id,
    )
    attendance_repo.add_audit(
        session, now=now, action="invite.create", entity="member", entity_id=member.id,
        details={"expires_at": expires_at.isoformat()}, **audit_fields(created_by),
    )
    return Invite(code=code, member_no=member.member_no, member_name=member.name, expires_at=expires_at)


def redeem_invite(
    session: Session, code: str, *, telegram_user_id: int, private_chat_id: int | None,
    username: str | None, now: datetime,
) -> BindingResult:
    """Binds the account; wrong, used or expired codes are refused and counted against the account."""
    since = now - THROTTLE_WINDOW
    if binding_repo.failed_attempts_since(session, telegram_user_id, since) >= THROTTLE_MAX_FAILURES:
        raise Throttled("错误次数过多，请 15 分钟后再试。", telegram_user_id=telegram_user_id)

    def refuse(error: ServiceError) -> ServiceError:
        return error.keep(lambda s: binding_repo.add_failed_attempt(s, telegram_user_id, now))

    wanted = normalise_code(code)
    invite = (binding_repo.invite_by_code(session, wanted, for_update=True)
              if could_be_stored(wanted, models.InviteCode.code) else None)
    if invite is None:
        raise refuse(NotFound("绑定码不正确，请核对后重新发送，或向支部书记重新索取。", code=code))
    if invite.used_at is not None:
        if invite.used_by_telegram_id == telegram_user_id:
            raise InvalidInput("您已经用这个绑定码完成了绑定，无需重复操作。发送 /help 查看可用命令。")
        raise refuse(InvalidInput("这个绑定码已经被使用过了，请向支部书记重新索取。", code=code))
    if invite.expires_at <= now:
        raise refuse(InvalidInput("这个绑定码已过期，请向支部书记重新索取。", code=code))
    member = session.get(models.Member, invite.member_id)
    if member is None or member.status != MemberStatus.ACTIVE.value:
        raise PermissionDenied("该党员的组织关系已转出，无法绑定。", code=code)

    binding_repo.bind(
        session, member_id=member.id, telegram_user_id=telegram_user_id, private_chat_id=private_chat_id,
        username=username, now=now,
    )
    invite.used_at = now
    invite.used_by_telegram_id = telegram_user_id
    member.unreachable_since = None
    actor = actor_from_member(member, telegram_user_id)
    attendance_repo.add_audit(
        session, now=now, action="binding.create", entity="member", entity_id=member.id,
        details={"invite_id": invite.id}, **audit_fields(actor),
    )
    upcoming = upcoming_for(session, actor, now, limit=1)
    return BindingResult(
        member_id=member.id, member_name=member.name, org_name=member.org.name,
        next_activity=upcoming[0] if upcoming else None,
        is_secretary=actor.is_secretary_anywhere, is_committee=actor.is_upper_committee_member,
    )


def resume_binding(
    session: Session, telegram_user_id: int, private_chat_id: int, now: datetime
) -> tuple[Actor, list[ActivityView]] | None:
    """/start without a code: a bound member is reachable again at this chat and sees their next activity.

    None when the account is bound to nobody.
    """
    binding = binding_repo.binding_for_telegram(session, telegram_user_id)
    if binding is None:
        return None
    binding.member.unreachable_since = None
    binding.private_chat_id = private_chat_id
    actor = actor_for_telegram(session, telegram_user_id)
    return actor, upcoming_for(session, actor, now, limit=1)
