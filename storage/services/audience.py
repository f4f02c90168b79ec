"""The audience rule (schedules.audience) over the database: organisations and members by id."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from schedules.audience import Audience, Part, Target, part_of
from schedules.roster import MemberStatus
from storage import models
from storage.repositories import members as member_repo
from storage.services.actors import Actor, OrgTree, actor_from_member


class StoredItem(Protocol):
    """What the audience rule reads of a stored activity: an ORM row or a report's `ActivityRecord`."""

    audience: str
    org_id: int
    member_id: int | None


def target_of(activity: StoredItem) -> Target[int, int]:
    """The stored activity as the audience rule sees it; an audience key the catalog lacks is refused."""
    return Target(Audience.of(activity.audience), activity.org_id, activity.member_id)


class StoredAudience:
    """Answers "is this activity for them, and as what" for one update or job (secretaries memoised)."""

    def __init__(self, session: Session, tree: OrgTree) -> None:
        self.session = session
        self.tree = tree
        self._secretaries: dict[int, list[int]] = {}

    def secretaries_of(self, org_id: int) -> list[int]:
        found = self._secretaries.get(org_id)
        if found is None:
            found = self._secretaries[org_id] = member_repo.secretary_ids(self.session, [org_id]).get(org_id, [])
        return found

    def _secretaries_for(self, target: Target[int, int]) -> list[int]:
        """Every organisation whose secretary the target might reach, loaded in one query."""
        if target.audience.spans_subtree:
            return [o for o in self.tree.subtree(target.org) if self.tree.is_branch(o)]
        return [target.org] if target.audience.needs_secretaries else []

    def _preload(self, target: Target[int, int]) -> None:
        missing = [o for o in self._secretaries_for(target) if o not in self._secretaries]
        if missing:
            self._secretaries.update(member_repo.secretary_ids(self.session, missing))

    def part(self, actor: Actor, activity: models.Activity) -> Part | None:
        target = target_of(activity)
        return part_of(target, actor.person, self.tree, self.secretaries_of)

    def includes(self, actor: Actor, activity: models.Activity) -> bool:
        return self.part(actor, activity) is not None

    def members(self, activity: models.Activity) -> list[tuple[models.Member, Part]]:
        """Every active member the activity is for, with their part, in member-number order."""
        target = target_of(activity)
        self._preload(target)
        query = select(models.Member).where(models.Member.status == MemberStatus.ACTIVE.value)
        org_id = activity.org_id
        if target.audience is Audience.MEMBER:
            query = query.where(models.Member.id == activity.member_id)
        elif target.audience.spans_subtree or not (self.tree.is_branch(org_id) or self.tree.is_group(org_id)):
            seat_holders = select(models.MemberRole.member_id).where(models.MemberRole.org_id == org_id)
            query = query.where(models.Member.id.in_(seat_holders)
                                | models.Member.org_id.in_(self.tree.subtree(org_id))
                                | (models.Member.id == activity.member_id))
        else:
            # The branch's (or group's) own members; the subject of a per-member item is one of them. The
            # upper committee of secretary_and_upper_committee sits in the parent organisation.
            scope = (models.Member.org_id == org_id) | (models.Member.group_id == org_id)
            parent = self.tree.parent_of(org_id)
            if target.audience is Audience.SECRETARY_AND_UPPER_COMMITTEE and parent is not None:
                scope = scope | models.Member.id.in_(
                    select(models.MemberRole.member_id).where(models.MemberRole.org_id == parent))
            query = query.where(scope)
        found = []
        for member in self.session.scalars(query.order_by(models.Member.member_no)):
            part = part_of(target, actor_from_member(member).person, self.tree, self.secretaries_of)
            if part is not None:
                found.append((member, part))
        return found


def in_audience(session: Session, actor: Actor, activity: models.Activity, tree: OrgTree) -> bool:
    """Whether the activity is for this member (as attendee, subject, committee or secretary)."""
    return StoredAudience(session, tree).includes(actor, activity)
