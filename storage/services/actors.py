"""Who is acting: a roster member resolved from a Telegram account, with the seats that grant permissions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from schedules import roles
from schedules.audience import Person
from schedules.roles import Role, Seat
from schedules.roster import Category, MemberStatus, OrgType
from storage import models
from storage.db import memo_of
from storage.errors import NotBound, NotFound, PermissionDenied
from storage.repositories import bindings as binding_repo


def is_party_category(category: str) -> bool:
    """Full or probationary party member (an unknown category counts as neither)."""
    try:
        return Category(category).is_party_member
    except ValueError:
        return False


def person_of(member_id: int, org_id: int, group_id: int | None, category: str, leading_cadre: bool,
              seats: frozenset[Seat[int]]) -> Person[int, int]:
    """A stored member as the audience rule (schedules.audience) sees them: chat's `Actor.person` and the
    ledger's 应到 (`storage.services.reports`) both build it here. The member columns it reads (and the status)
    are declared once, `models.MEMBER_AUDIENCE_COLUMNS`: a new one goes there too."""
    return Person(member_id, org_id, group_id, is_party_category(category), bool(leading_cadre), seats)


@dataclass(frozen=True, slots=True)
class Actor:
    """A bound, active member as the services see them; what their seats allow is schedules.roles'."""

    member_id: int
    member_no: str
    name: str
    org_id: int
    group_id: int | None
    category: str
    leading_cadre: bool
    seats: frozenset[Seat[int]]
    telegram_user_id: int | None = None

    @property
    def is_party_member(self) -> bool:
        return is_party_category(self.category)

    @property
    def person(self) -> Person[int, int]:
        """The actor as the audience rule (schedules.audience) sees them."""
        return person_of(self.member_id, self.org_id, self.group_id, self.category, self.leading_cadre, self.seats)

    def manages(self, org_id: int) -> bool:
        """Runs `org_id` directly: 书记/副书记/组织委员 of the branch, or 党小组长 of the group."""
        return roles.manages(self.seats, org_id)

    def runs(self, org_id: int) -> bool:
        """书记/副书记/组织委员 of `org_id` (a 党小组长 leads a group but does not run the branch)."""
        return roles.runs(self.seats, org_id)

    def sits_on_committee_of(self, org_id: int) -> bool:
        return roles.sits_on_committee(self.seats, org_id)

    @property
    def is_secretary_anywhere(self) -> bool:
        return any(not seat.upper and roles.runs(self.seats, seat.org) for seat in self.seats)

    @property
    def is_upper_committee_member(self) -> bool:
        return any(seat.upper for seat in self.seats)

    @property
    def managed_org_ids(self) -> frozenset[int]:
        return roles.managed_orgs(self.seats)


def actor_from_member(member: models.Member, telegram_user_id: int | None = None) -> Actor:
    return Actor(
        member_id=member.id,
        member_no=member.member_no,
        name=member.name,
        org_id=member.org_id,
        group_id=member.group_id,
        category=member.category,
        leading_cadre=bool(member.leading_cadre),
        seats=roles.parse_seats((row.org_id, row.role, row.upper) for row in member.roles),
        telegram_user_id=telegram_user_id,
    )


def actor_for_telegram(session: Session, telegram_user_id: int) -> Actor:
    """The member bound to this Telegram account; refused for strangers and transferred-out members."""
    rows = binding_repo.member_seats_for_telegram(session, telegram_user_id)
    if not rows:
        raise NotBound(
            "您还没有绑定党员身份。请向支部书记索取绑定码，然后发送 /start 绑定码。",
            telegram_user_id=telegram_user_id,
        )
    member_id, member_no, name, org_id, group_id, category, leading_cadre, status = rows[0][:8]
    require_may_act(member_id, member_no, name, status, in_person=True)
    return Actor(
        member_id=member_id, member_no=member_no, name=name, org_id=org_id, group_id=group_id, category=category,
        leading_cadre=bool(leading_cadre), seats=roles.parse_seats(row[8:] for row in rows), telegram_user_id=telegram_user_id,
    )


def transferred_out_refusal(name: str, member_no: str, *, in_person: bool = False) -> str:
    """The refusal of a transferred-out member: told to them in chat (`in_person`), or to whoever names them with
    `--as/--by` on the command line. One rule, worded for who reads it."""
    if in_person:
        return "您的组织关系已转出，无法继续使用本机器人。"
    return f"{name}（{member_no}）的组织关系已转出，不能再以党员身份操作。"


def require_may_act(member_id: int, member_no: str, name: str, status: str, *, in_person: bool = False) -> None:
    """Who may act as a member at all (chat or `--as/--by`): only a member still on the roll (status active)."""
    if status != MemberStatus.ACTIVE.value:
        raise PermissionDenied(transferred_out_refusal(name, member_no, in_person=in_person), member_id=member_id,
                               member_no=member_no)


def _member_by_no(session: Session, member_no: str) -> models.Member:
    member = session.scalars(select(models.Member).where(models.Member.member_no == member_no)).one_or_none()
    if member is None:
        raise NotFound(f"名册中没有党员编号 {member_no}。", member_no=member_no)
    return member


def actor_for_member_no(session: Session, member_no: str) -> Actor:
    """The member with this number, whatever their status: whom a command names (an owner, a member to 代签),
    never who acts (that is `operator_for_member_no`)."""
    return actor_from_member(_member_by_no(session, member_no))


def operator_for_member_no(session: Session, member_no: str) -> Actor:
    """The member a command acts as (`--as`, `--by`), refused as chat refuses them (`actor_for_telegram`)."""
    member = _member_by_no(session, member_no)
    require_may_act(member.id, member.member_no, member.name, member.status)
    return actor_from_member(member)


_ORG_TYPES = {kind.value for kind in OrgType}
_TREE_MEMO = "org_tree"


class OrgTree:
    """The organisation tree by id, for "this organisation and everything below it" checks."""

    def __init__(self, rows: Iterable[tuple[int, int | None, str, str, str]]) -> None:
        self.parent: dict[int, int | None] = {}
        self.type: dict[int, str] = {}
        self.code: dict[int, str] = {}
        self.name: dict[int, str] = {}
        for org_id, parent_id, org_type, code, name in rows:
            self.parent[org_id] = parent_id
            self.type[org_id] = org_type
            self.code[org_id] = code
            self.name[org_id] = name
        self.id_by_code = {code: org_id for org_id, code in self.code.items()}
        self.children: dict[int, list[int]] = {}
        for child, parent in self.parent.items():
            if parent is not None:
                self.children.setdefault(parent, []).append(child)

    @classmethod
    def load(cls, session: Session) -> "OrgTree":
        """The tree as the database has it now; reused while the organisations table is unchanged.

        Many updates and every rendered reminder read the tree, and a big organisation has thousands of
        rows (3,001 organisations on SQLite: 3.8 ms to read, 0.6 ms to check): one aggregate query (count,
        latest change, sum of parent ids and of name lengths) tells whether the tree kept in the session
        factory's memo (`storage.db.FactoryMemo`) is still the same, so the rows are read again only after
        a roster change. A session without a memo reads the rows.
        """
        memo = memo_of(session)
        if memo is None:
            return cls._read(session)
        fingerprint = tuple(session.execute(select(
            func.count(), func.max(models.Organization.updated_at),
            func.coalesce(func.sum(func.coalesce(models.Organization.parent_id, 0)), 0),
            func.coalesce(func.sum(func.length(models.Organization.name)), 0),
        )).one())
        cached = memo.get(_TREE_MEMO, fingerprint)
        if isinstance(cached, OrgTree):
            return cached
        tree = cls._read(session)
        memo.put(_TREE_MEMO, fingerprint, tree)
        return tree

    @classmethod
    def _read(cls, session: Session) -> "OrgTree":
        return cls(session.execute(select(
            models.Organization.id, models.Organization.parent_id, models.Organization.type,
            models.Organization.code, models.Organization.name,
        )).all())

    def type_of(self, org_id: int) -> OrgType | None:
        kind = self.type.get(org_id)
        return OrgType(kind) if kind in _ORG_TYPES else None

    def parent_of(self, org_id: int) -> int | None:
        return self.parent.get(org_id)

    def ancestors_of(self, org_id: int) -> list[int]:
        return self.ancestors(org_id)

    def in_subtree(self, org_id: int, root: int) -> bool:
        return org_id == root or root in self.ancestors(org_id)

    def ancestors(self, org_id: int) -> list[int]:
        chain: list[int] = []
        parent = self.parent.get(org_id)
        while parent is not None and parent not in chain:
            chain.append(parent)
            parent = self.parent.get(parent)
        return chain

    def lineage_codes(self, org_id: int) -> tuple[str, ...]:
        """Codes from the top of the tree down to `org_id` (how configuration overrides are inherited)."""
        return tuple(self.code[o] for o in [*reversed(self.ancestors(org_id)), org_id] if o in self.code)

    def subtree(self, org_id: int) -> set[int]:
        children = self.children
        result, stack = set(), [org_id]
        while stack:
            current = stack.pop()
            if current in result:
                continue
            result.add(current)
            stack.extend(children.get(current, ()))
        return result

    def with_groups(self, org_ids: Iterable[int]) -> set[int]:
        """These organisations and the 党小组 directly under them: a branch's business includes its groups'."""
        result = set(org_ids)
        groups = {child for org_id in result for child in self.children.get(org_id, ()) if self.is_group(child)}
        return result | groups

    def is_branch(self, org_id: int) -> bool:
        return self.type.get(org_id) == OrgType.BRANCH.value

    def is_group(self, org_id: int) -> bool:
        return self.type.get(org_id) == OrgType.GROUP.value

    def branches(self) -> list[int]:
        return sorted(org_id for org_id, kind in self.type.items() if kind == OrgType.BRANCH.value)


def visible_org_ids(actor: Actor, tree: OrgTree) -> set[int]:
    """Organisations whose members and figures the actor may see.

    Upper committee seats see their organisation and everything below; a branch committee member sees
    their own branch (and its 党小组); a 党小组长 sees their group. Plain members see no organisation.
    """
    visible: set[int] = set()
    for seat in actor.seats:
        if seat.upper or seat.role.sits_on_committee:
            visible |= tree.subtree(seat.org)
        elif seat.role is Role.GROUP_LEADER:
            visible.add(seat.org)
    return visible


def require_visible(actor: Actor, tree: OrgTree, org_id: int) -> None:
    if org_id not in visible_org_ids(actor, tree):
        raise PermissionDenied(
            "您只能查看本组织及下级组织的情况。", actor=actor.member_no, org=tree.code.get(org_id)
        )


def require_manager(actor: Actor, tree: OrgTree, org_id: int) -> None:
    """Only the branch's secretary, deputy or 组织委员 (or, for a 党小组, its leader or its branch's) act."""
    if actor.manages(org_id):
        return
    if tree.is_group(org_id):
        parent = tree.parent.get(org_id)
        if parent is not None and actor.manages(parent):
            return
    raise PermissionDenied("只有本支部书记或副书记可以进行此操作。", actor=actor.member_no, org=tree.code.get(org_id))
