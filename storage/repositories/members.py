"""Member look-ups by member number, the identity that roster files and the CLI use."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from schedules.roster import MemberStatus
from storage import models


def get_by_member_no(session: Session, member_no: str) -> models.Member | None:
    return session.scalars(select(models.Member).where(models.Member.member_no == member_no)).one_or_none()


def ids_by_member_no(session: Session) -> dict[str, int]:
    return dict(session.execute(select(models.Member.member_no, models.Member.id)).all())


def active_members_of(session: Session, org_id: int) -> list[models.Member]:
    """Active members whose branch or 党小组 is `org_id`, by member number."""
    query = (
        select(models.Member)
        .where((models.Member.org_id == org_id) | (models.Member.group_id == org_id))
        .where(models.Member.status == MemberStatus.ACTIVE.value)
        .order_by(models.Member.member_no)
    )
    return list(session.scalars(query))
