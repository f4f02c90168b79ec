"""Reads the organisation tree and members from the database as pure `schedules.roster` values."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from schedules.roster import Category, Member, MemberStatus, Organization, OrgType, Role, Roster, UpperRole
from storage import models


def organization_codes(session: Session) -> set[str]:
    """The codes of the roster's organisations (what configuration may name), without reading the roster."""
    return set(session.scalars(select(models.Organization.code)))


def load_roster(session: Session, *, include_transferred: bool = False) -> Roster:
    """The whole roster as typed values; transferred-out members only when asked for."""
    # Plain column rows, not ORM objects: a roster of 30,000 members is read on every import and reload.
    o = models.Organization
    org_rows = session.execute(select(
        o.id, o.code, o.name, o.type, o.parent_id, o.elected_on, o.term_years, o.group_chat_id, o.timezone
    )).all()
    code_by_id = {row.id: row.code for row in org_rows}
    organizations = [
        Organization(
            code=row.code,
            name=row.name,
            type=OrgType(row.type),
            parent_code=code_by_id.get(row.parent_id),
            elected_on=row.elected_on,
            term_years=row.term_years,
            group_chat_id=row.group_chat_id,
            timezone=row.timezone,
        )
        for row in org_rows
    ]

    r = models.MemberRole
    roles_by_member: dict[int, list[tuple[int, str, bool]]] = defaultdict(list)
    for member_id, org_id, role, upper in session.execute(select(r.member_id, r.org_id, r.role, r.upper)):
        roles_by_member[member_id].append((org_id, role, upper))

    m = models.Member
    query = select(
        m.id, m.member_no, m.name, m.org_id, m.group_id, m.category, m.joined_on, m.full_member_on,
        m.activist_on, m.leading_cadre, m.telegram_username, m.status,
    )
    if not include_transferred:
        query = query.where(m.status == MemberStatus.ACTIVE.value)
    members = []
    for row in session.execute(query.order_by(m.member_no)):
        seats = roles_by_member.get(row.id, [])
        members.append(
            Member(
                member_no=row.member_no,
                name=row.name,
                org_code=code_by_id[row.org_id],
                group_code=code_by_id.get(row.group_id),
                category=Category(row.category),
                joined_on=row.joined_on,
                full_member_on=row.full_member_on,
                activist_on=row.activist_on,
                roles=frozenset(Role(role) for _, role, upper in seats if not upper),
                upper_roles=frozenset(UpperRole(code_by_id[org_id], Role(role)) for org_id, role, upper in seats if upper),
                leading_cadre=row.leading_cadre,
                telegram_username=row.telegram_username,
                status=MemberStatus(row.status),
            )
        )
    return Roster.of(organizations, members)
