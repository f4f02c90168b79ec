"""Who an activity is for: one rule, used both to check one member and to list everyone expected."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from schedules.roster import Category, MemberStatus
from storage import models
from storage.services.actors import Actor, OrgTree, actor_from_member

# Audience keys of the catalog (schedules.catalog.Audience) that narrow "the organisation's party members".
COMMITTEE_AUDIENCES = {"committee", "branch_committee", "upper_committee"}
SECRETARY_AUDIENCES = {"secretary", "secretaries"}
BRANCH_SECRETARY_AUDIENCES = {"branch_secretaries", "branches"}
# Activists and candidates are on the roster but are not expected at party meetings.
PARTY_CATEGORIES = {c.value for c in Category if c.is_party_member}


def in_audience(actor: Actor, activity: models.Activity, tree: OrgTree) -> bool:
    """Whether the activity expects this member (per-member items expect only their member)."""
    if activity.member_id is not None:
        return activity.member_id == actor.member_id
    audience = (activity.audience or "all_members").strip()
    org_id = activity.org_id
    if audience in BRANCH_SECRETARY_AUDIENCES:
        return any(actor.manages(o) for o in tree.subtree(org_id) if tree.is_branch(o))
    if tree.is_branch(org_id) or tree.is_group(org_id):
        if not (actor.org_id == org_id or actor.group_id == org_id):
            return False
        if audience in COMMITTEE_AUDIENCES:
            return actor.sits_on_committee_of(org_id)
        if audience in SECRETARY_AUDIENCES:
            return actor.manages(org_id)
        return actor.category in PARTY_CATEGORIES
    # Upper organisations' meetings are for their committee, plus their leading cadres (双重组织生活).
    on_committee = any(seat.org_id == org_id and seat.upper for seat in actor.seats)
    if audience in COMMITTEE_AUDIENCES or audience in SECRETARY_AUDIENCES:
        return on_committee
    return on_committee or (actor.leading_cadre and org_id in tree.ancestors(actor.org_id))


def audience_members(session: Session, activity: models.Activity, tree: OrgTree) -> list[models.Member]:
    """Every active member the activity expects, in roster order."""
    org_id = activity.org_id
    query = select(models.Member).where(models.Member.status == MemberStatus.ACTIVE.value)
    if activity.member_id is not None:
        query = query.where(models.Member.id == activity.member_id)
    elif tree.is_branch(org_id) or tree.is_group(org_id):
        query = query.where((models.Member.org_id == org_id) | (models.Member.group_id == org_id))
    else:
        seat_holders = select(models.MemberRole.member_id).where(models.MemberRole.org_id == org_id)
        query = query.where(models.Member.id.in_(seat_holders) | models.Member.org_id.in_(tree.subtree(org_id)))
    members = session.scalars(query.order_by(models.Member.member_no)).all()
    return [m for m in members if in_audience(actor_from_member(m), activity, tree)]
