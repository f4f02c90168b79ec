"""Who may do what to an activity and its record, the one home: the checks chat and the command line share.

The roles themselves are `schedules.roles`'; this module applies them to the use cases (confirm held or not
held, record topic/lecturer/minutes, 代签 and marks on the roll, deciding leave) and names who acted in the
audit log. A person acts as an `Actor` (chat: their Telegram account; CLI: `--as MEMBER_NO`); the command
line without `--as` acts as a `SystemOperator`, which passes every check and is named in the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Union

from sqlalchemy.orm import Session

from schedules import roles
from storage.repositories import members as member_repo
from storage.services.actors import Actor, OrgTree, require_manager
from storage.services.errors import PermissionDenied


@dataclass(frozen=True, slots=True)
class SystemOperator:
    """The deployment's operator at the command line (no roster member): trusted like `roster import`,
    and named in the audit log by `label` (e.g. "cli:root")."""

    label: str
    name: str = "系统操作员"
    member_id: None = None
    member_no: None = None
    telegram_user_id: None = None


Operator = Union[Actor, SystemOperator]


@dataclass(frozen=True, slots=True)
class Acting:
    """An operator plus the edge they act through (None: chat, "cli": the command line), for the audit log."""

    operator: Operator
    edge: str | None = None

    @property
    def label(self) -> str | None:
        if isinstance(self.operator, SystemOperator):
            return self.operator.label
        return self.edge


def as_acting(by: "Operator | Acting") -> Acting:
    return by if isinstance(by, Acting) else Acting(by)


def audit_fields(by: "Operator | Acting") -> dict[str, Any]:
    """The audit row's actor columns: the member and Telegram account, or the system operator's label."""
    acting = as_acting(by)
    return {"actor_member_id": acting.operator.member_id, "actor_telegram_id": acting.operator.telegram_user_id,
            "actor_label": acting.label}


def require_runs_activity(by: "Operator | Acting", tree: OrgTree, org_id: int) -> None:
    """Confirm, record, 代签 and mark: whoever runs the organisation (for a 党小组: its leader or its branch's
    secretary, deputy or 组织委员); refused with PermissionDenied otherwise."""
    operator = as_acting(by).operator
    if isinstance(operator, SystemOperator):
        return
    require_manager(operator, tree, org_id)


def leave_deciders(session: Session, org_id: int, tree: OrgTree, *, requester: int | None = None) -> list[int]:
    """Member ids who decide leave for `org_id` (schedules.roles.deciders over the seats held around it)."""
    branch = tree.parent.get(org_id) if tree.is_group(org_id) else None
    home = branch if branch is not None else org_id
    upper = tree.parent.get(home)
    holders = member_repo.seat_holders(session, [o for o in (org_id, branch, upper) if o is not None])
    return roles.deciders(holders, org_id, branch=branch, upper=upper, excluding=requester)


def require_leave_decider(session: Session, by: "Operator | Acting", tree: OrgTree, org_id: int,
                          member_id: int, deciders: Sequence[int] | None = None) -> None:
    """Who may approve or refuse a member's leave: one of its deciders (never the member), or whoever runs
    the organisation; the system operator always."""
    operator = as_acting(by).operator
    if isinstance(operator, SystemOperator):
        return
    if member_id == operator.member_id:
        raise PermissionDenied("不能审批自己的请假，已转给副书记或上级党组织。", member_id=member_id)
    found = leave_deciders(session, org_id, tree, requester=member_id) if deciders is None else deciders
    if operator.member_id not in found:
        require_manager(operator, tree, org_id)


__all__ = [
    "Acting", "Operator", "SystemOperator", "as_acting", "audit_fields", "leave_deciders", "require_leave_decider",
    "require_runs_activity",
]
