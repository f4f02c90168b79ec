"""Typed, validated roster values (organisations and members) that the pure layers work on."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import cached_property
from typing import Iterable, Iterator

from schedules.roles import Role, runners, seats_of_member, sits_on_committee


class OrgType(StrEnum):
    COMMITTEE = "党委"
    GENERAL_BRANCH = "党总支"
    BRANCH = "党支部"
    GROUP = "党小组"

    @property
    def is_upper(self) -> bool:
        """Organisations that supervise branches rather than hold 三会一课 themselves."""
        return self in (OrgType.COMMITTEE, OrgType.GENERAL_BRANCH)


class Category(StrEnum):
    FULL = "正式党员"
    PROBATIONARY = "预备党员"
    CANDIDATE = "发展对象"
    ACTIVIST = "入党积极分子"

    @property
    def is_party_member(self) -> bool:
        return self in (Category.FULL, Category.PROBATIONARY)


class MemberStatus(StrEnum):
    ACTIVE = "active"
    TRANSFERRED_OUT = "transferred_out"


@dataclass(frozen=True, slots=True)
class UpperRole:
    """A seat on the committee of an organisation above the member's own branch, e.g. D01:委员."""

    org_code: str
    role: Role

    def __str__(self) -> str:
        return f"{self.org_code}:{self.role}"


@dataclass(frozen=True, slots=True)
class Organization:
    code: str
    name: str
    type: OrgType
    parent_code: str | None = None
    elected_on: date | None = None
    term_years: int | None = None
    group_chat_id: int | None = None
    timezone: str | None = None  # IANA zone; None means the deployment's zone


@dataclass(frozen=True, slots=True)
class Member:
    member_no: str
    name: str
    org_code: str
    category: Category
    group_code: str | None = None
    joined_on: date | None = None
    full_member_on: date | None = None
    activist_on: date | None = None
    roles: frozenset[Role] = frozenset()
    upper_roles: frozenset[UpperRole] = frozenset()
    leading_cadre: bool = False
    telegram_username: str | None = None
    status: MemberStatus = MemberStatus.ACTIVE

    @property
    def is_active(self) -> bool:
        return self.status is MemberStatus.ACTIVE

    @property
    def sits_on_branch_committee(self) -> bool:
        return any(role.sits_on_committee for role in self.roles)


@dataclass(frozen=True)
class Roster:
    """The organisation tree and its members, indexed for the look-ups the plan needs."""

    organizations: tuple[Organization, ...]
    members: tuple[Member, ...] = field(default=())

    @classmethod
    def of(cls, organizations: Iterable[Organization], members: Iterable[Member] = ()) -> "Roster":
        return cls(tuple(organizations), tuple(members))

    @cached_property
    def by_code(self) -> dict[str, Organization]:
        return {org.code: org for org in self.organizations}

    @cached_property
    def _children(self) -> dict[str | None, list[Organization]]:
        children: dict[str | None, list[Organization]] = defaultdict(list)
        for org in self.organizations:
            children[org.parent_code].append(org)
        return children

    @cached_property
    def _members_by_org(self) -> dict[str, list[Member]]:
        grouped: dict[str, list[Member]] = defaultdict(list)
        for member in self.members:
            if member.is_active:
                grouped[member.org_code].append(member)
                if member.group_code:
                    grouped[member.group_code].append(member)
        return grouped

    def org(self, code: str) -> Organization:
        return self.by_code[code]

    def children(self, code: str | None) -> list[Organization]:
        return list(self._children.get(code, ()))

    def descendants(self, code: str) -> Iterator[Organization]:
        """Every organisation below `code`, depth first (not including `code` itself)."""
        stack = list(reversed(self.children(code)))
        while stack:
            org = stack.pop()
            yield org
            stack.extend(reversed(self.children(org.code)))

    def ancestors(self, code: str) -> Iterator[Organization]:
        """The organisations above `code`, nearest first."""
        seen: set[str] = {code}
        parent = self.by_code[code].parent_code if code in self.by_code else None
        while parent and parent in self.by_code and parent not in seen:
            seen.add(parent)
            org = self.by_code[parent]
            yield org
            parent = org.parent_code

    def subtree_codes(self, code: str) -> set[str]:
        return {code, *(org.code for org in self.descendants(code))}

    def members_of(self, code: str) -> list[Member]:
        """Active members whose branch or 党小组 is `code`."""
        return list(self._members_by_org.get(code, ()))

    def branches(self) -> list[Organization]:
        return [org for org in self.organizations if org.type is OrgType.BRANCH]

    def committee_of(self, code: str) -> list[Member]:
        """Members who sit on the committee of organisation `code` (own roles or upper seats)."""
        pool = self.members if self.by_code[code].type.is_upper else self.members_of(code)
        return [m for m in pool if m.is_active and sits_on_committee(seats_of_member(m), code)]

    def secretaries_of(self, code: str) -> list[Member]:
        """Whoever runs organisation `code` (schedules.roles.runners): its 书记 first, then 副书记 and 组织委员."""
        pool = self.members if self.by_code[code].type.is_upper else self.members_of(code)
        by_no = {m.member_no: m for m in pool if m.is_active}
        return [by_no[no] for no in runners(((m.member_no, seats_of_member(m)) for m in by_no.values()), code)]
