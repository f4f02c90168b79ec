"""Member look-ups by member number, the identity that roster files and the CLI use."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from schedules import roles
from schedules.roles import Role, Seat
from schedules.roster import MemberStatus
from storage import models


def names_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """The members' names as they are now, by id (ids that are None are skipped)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(models.Member.id, models.Member.name).where(models.Member.id.in_(wanted))).all())


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


def seat_holders(session: Session, org_ids: Iterable[int], *, roles_in: Iterable[Role] | None = None,
                 upper: bool | None = None) -> list[tuple[int, frozenset[Seat[int]]]]:
    """Active members holding a seat in any of `org_ids` (optionally only these roles, or only upper or
    branch seats), each with those seats, by member id: what schedules.roles decides on."""
    wanted = sorted(set(org_ids))
    if not wanted:
        return []
    r = models.MemberRole
    query = (select(r.member_id, r.org_id, r.role, r.upper)
             .join(models.Member, models.Member.id == r.member_id)
             .where(r.org_id.in_(wanted), models.Member.status == MemberStatus.ACTIVE.value))
    if roles_in is not None:
        query = query.where(r.role.in_([role.value for role in roles_in]))
    if upper is not None:
        query = query.where(r.upper.is_(upper))
    rows: dict[int, list[tuple[int, str, bool]]] = {}
    for member_id, org_id, role, is_upper in session.execute(query):
        rows.setdefault(member_id, []).append((org_id, role, is_upper))
    return [(member_id, roles.parse_seats(seats)) for member_id, seats in sorted(rows.items())]


def upper_committee_ids(session: Session, org_ids: Iterable[int]) -> list[int]:
    """Active members with a committee seat on any of these upper organisations (党委、党总支委员), by id:
    schedules.roles.on_upper_committee over `seat_holders`."""
    wanted = set(org_ids)
    return [member_id for member_id, seats in seat_holders(session, wanted, upper=True)
            if any(roles.on_upper_committee(seats, org_id) for org_id in wanted)]


def secretary_ids(session: Session, org_ids: Iterable[int]) -> dict[int, list[int]]:
    """"The secretary" (schedules.roles.secretaries: 书记, else 副书记, else 组织委员) of each organisation."""
    wanted = sorted(set(org_ids))
    holders = seat_holders(session, wanted, roles_in=roles.RUNNING_ORDER)
    return {org_id: roles.secretaries(holders, org_id) for org_id in wanted}
