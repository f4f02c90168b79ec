"""Who may do what to an activity and its record, the one home: the checks chat and the command line share.

The roles themselves are `schedules.roles`'; this module applies them to the use cases (confirm held or not
held, record topic/lecturer/minutes, 代签 and marks on the roll, deciding leave; adding, moving and cancelling
activities; /report and /calendar; turning a plan into the catalog) and names who acted in the audit log. A
person acts as an `Actor` (chat: their Telegram account; CLI: `--as MEMBER_NO`, checked the same way); the
command line without `--as` acts as `system_operator()`, a `SystemOperator`, which passes every check and is
named in the audit log.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from typing import Any, Union

from sqlalchemy.orm import Session

from schedules import roles
from storage.errors import InvalidInput, NotFound, PermissionDenied
from storage.repositories import members as member_repo
from storage.services.actors import Actor, OrgTree, require_manager, require_visible, visible_org_ids


@dataclass(frozen=True, slots=True)
class SystemOperator:
    """Someone at the command line acting without a member's seat (no `--as`): allowed everything the command
    offers, and named in the audit log by `label` ("cli:<os user>"); `name` is how notices name them."""

    label: str
    name: str = "系统操作员"
    member_id: None = None
    telegram_user_id: None = None


def system_operator() -> SystemOperator:
    """The command line acting without a member's seat (activity commands without --as, invite, roster import):
    named in the audit log after the OS account, "cli:<user>"."""
    return SystemOperator(f"cli:{getpass.getuser()}")


# Who a use case acts for: a roster member (checked against their seats) or a recorded system operator.
Operator = Union[Actor, SystemOperator]


def audit_fields(who: Operator) -> dict[str, Any]:
    """The audit row's actor columns for `who`."""
    if isinstance(who, SystemOperator):
        return {"actor_label": who.label}
    return {"actor_member_id": who.member_id, "actor_telegram_id": who.telegram_user_id}


def require_runs_activity(who: Operator, tree: OrgTree, org_id: int, *, refusal: str | None = None) -> None:
    """Acting on an organisation's activities (add, move, cancel; confirm, record, 代签 and marks): whoever
    manages it (书记, 副书记, 组织委员; for a 党小组 its leader or its branch's), or a system operator; refused
    with PermissionDenied (worded `refusal` when given) otherwise."""
    if isinstance(who, SystemOperator):
        return
    try:
        require_manager(who, tree, org_id)
    except PermissionDenied as refused:
        if refusal is None:
            raise
        raise PermissionDenied(refusal, **refused.details) from None


def leave_deciders(session: Session, org_id: int, tree: OrgTree, *, requester: int | None = None) -> list[int]:
    """Member ids who decide leave for `org_id` (schedules.roles.deciders over the seats held around it)."""
    branch = tree.parent.get(org_id) if tree.is_group(org_id) else None
    home = branch if branch is not None else org_id
    upper = tree.parent.get(home)
    holders = member_repo.seat_holders(session, [o for o in (org_id, branch, upper) if o is not None])
    return roles.deciders(holders, org_id, branch=branch, upper=upper, excluding=requester)


def require_leave_decider(session: Session, who: Operator, tree: OrgTree, org_id: int, member_id: int) -> None:
    """Who may approve or refuse a member's leave: one of its deciders (never the member), or whoever runs
    the organisation; a system operator always."""
    if isinstance(who, SystemOperator):
        return
    if member_id == who.member_id:
        raise PermissionDenied("不能审批自己的请假，已转给副书记或上级党组织。", member_id=member_id)
    if who.member_id not in leave_deciders(session, org_id, tree, requester=member_id):
        require_manager(who, tree, org_id)


def require_may_see_roll(who: Operator, tree: OrgTree, org_id: int) -> None:
    """An activity's roll: whoever may see the organisation (visible_org_ids), or whoever manages it (a
    党小组's is also its branch's managers' to see); a system operator always."""
    if isinstance(who, SystemOperator) or org_id in visible_org_ids(who, tree):
        return
    require_manager(who, tree, org_id)


SCHEDULE_REFUSED = "只有支部书记、副书记或组织委员可以安排活动。"
REPORT_REFUSED = "报表只向支部委员和上级党组织委员提供。"
CALENDAR_REFUSED = "只能获取本人所在组织或所管理组织的日历。"


PROPOSAL_REFUSED = "只有支部书记、副书记、组织委员或党委（党总支）委员可以按年度计划调整工作事项。"


def _managed_branches_first(who: Actor, tree: OrgTree) -> list[int]:
    return sorted(who.managed_org_ids, key=lambda org: (not tree.is_branch(org), org))


def schedulable_org(who: Actor, tree: OrgTree) -> int:
    """The organisation a secretary's /schedule is for: the branch they run, else the first they manage."""
    orgs = _managed_branches_first(who, tree)
    if not orgs:
        raise PermissionDenied(SCHEDULE_REFUSED, actor=who.member_no)
    return orgs[0]


def proposal_org(who: Actor, tree: OrgTree) -> int:
    """The organisation a plan sent by `who` is for: the branch their /schedule is for (`schedulable_org`), else
    the 党委/党总支 whose committee they sit on. Nobody else (a 党小组长 alone included) may turn a plan into
    the catalog."""
    managed = _managed_branches_first(who, tree)
    if managed and tree.is_branch(managed[0]):
        return managed[0]
    committees = sorted(org for org in {seat.org for seat in who.seats} if roles.on_upper_committee(who.seats, org))
    if committees:
        return committees[0]
    raise PermissionDenied(PROPOSAL_REFUSED, actor=who.member_no)


def require_may_change_activities(who: Operator, tree: OrgTree, org_id: int) -> None:
    """Adding, moving and cancelling: the rule of `require_runs_activity`, refused with /schedule's sentence
    whichever edge asked."""
    require_runs_activity(who, tree, org_id, refusal=SCHEDULE_REFUSED)


def report_scope(who: Actor, tree: OrgTree, code: str | None, usage: str) -> str:
    """The organisation /report covers: the one asked for (if `who` may see it) or their top visible one."""
    visible = visible_org_ids(who, tree)
    if not visible:
        raise PermissionDenied(REPORT_REFUSED, actor=who.member_no)
    if code is None:
        roots = sorted(tree.code[o] for o in visible if tree.parent.get(o) not in visible)
        if len(roots) != 1:
            raise InvalidInput("请指明组织编码：" + "、".join(roots) + "\n" + usage)
        return roots[0]
    org_id = tree.id_by_code.get(code)
    if org_id is None:
        raise NotFound(f"没有组织编码 {code}。")
    require_visible(who, tree, org_id)
    return code


def require_calendar_access(who: Actor, tree: OrgTree, code: str) -> int:
    """An organisation's .ics feed: the member's own organisation or group, or one they oversee."""
    org_id = tree.id_by_code.get(code)
    if org_id is None:
        raise NotFound(f"没有组织编码 {code}。")
    if org_id not in {who.org_id, who.group_id} and org_id not in visible_org_ids(who, tree):
        raise PermissionDenied(CALENDAR_REFUSED, actor=who.member_no, org=code)
    return org_id


__all__ = [
    "Operator", "SystemOperator", "system_operator", "audit_fields", "leave_deciders", "require_leave_decider", "require_runs_activity",
    "require_may_change_activities", "require_may_see_roll", "schedulable_org", "proposal_org", "report_scope",
    "require_calendar_access",
]
