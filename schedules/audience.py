"""Who an item is for, the one rule: the catalog's audience keys, what each person's part is, and when they hear.

A per-member item (政治生日, 预备党员转正, 积极分子考察 …) names its *subject*, the member it is about, apart
from its *audience*, the people who are told: a probation conversion is about the probationary member and
is for the branch committee; a political birthday is about the member and is for the member (a greeting on
the day) and the secretary (the "五个一" checklist at the start of the month).

The plan (roster codes), the reminders, the ledger's 应到 and chat (database ids) all call `part_of`, with a
directory of organisations and a way to learn an organisation's secretaries (`schedules.roles.secretaries`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Hashable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from schedules.roles import Seat, seats_of_member, secretaries, sits_on_committee
from schedules.roster import OrgType

if TYPE_CHECKING:
    from schedules.roster import Member, Roster

O = TypeVar("O", bound=Hashable)
K = TypeVar("K", bound=Hashable)


class UnknownAudience(ValueError):
    """An audience key that the catalog does not define: refused, never read as "all party members"."""


class Audience(StrEnum):
    """The catalog's audience keys (config/catalog.yaml, shared/reference/obligations.md)."""

    ALL_MEMBERS = "all_members"
    PARTY_MEMBERS = "party_members"
    BRANCH_COMMITTEE = "branch_committee"
    GROUP_MEMBERS = "group_members"
    SECRETARY = "secretary"
    MEMBER = "member"
    MEMBER_AND_SECRETARY = "member_and_secretary"
    SECRETARY_AND_CONTACTS = "secretary_and_contacts"
    SECRETARY_AND_UPPER_COMMITTEE = "secretary_and_upper_committee"
    COMMITTEE_AND_MEMBERS = "committee_and_members"
    UPPER_COMMITTEE = "upper_committee"
    BRANCH_SECRETARIES = "branch_secretaries"
    BRANCHES = "branches"

    @classmethod
    def of(cls, key: str | None) -> "Audience":
        """The audience a stored or typed key names; no key means the organisation's party members."""
        if key is None or not key.strip():
            return cls.ALL_MEMBERS
        try:
            return cls(key.strip())
        except ValueError:
            raise UnknownAudience(f"未知的参加对象 {key!r}（可用：{'、'.join(a.value for a in cls)}）") from None

    @property
    def label(self) -> str:
        """How the plan and chat name it, in Chinese."""
        return _LABELS[self]

    @property
    def spans_subtree(self) -> bool:
        """Reaches people in every branch below the organisation (not only its own members)."""
        return self in (Audience.BRANCH_SECRETARIES, Audience.BRANCHES)

    @property
    def needs_secretaries(self) -> bool:
        return self in _SECRETARY_AUDIENCES


_LABELS = {
    Audience.ALL_MEMBERS: "全体党员",
    Audience.PARTY_MEMBERS: "正式和预备党员",
    Audience.BRANCH_COMMITTEE: "支委会",
    Audience.GROUP_MEMBERS: "党小组成员",
    Audience.SECRETARY: "书记",
    Audience.MEMBER: "本人",
    Audience.MEMBER_AND_SECRETARY: "本人、书记",
    Audience.SECRETARY_AND_CONTACTS: "书记、培养联系人",
    Audience.SECRETARY_AND_UPPER_COMMITTEE: "书记、上级党组织",
    Audience.COMMITTEE_AND_MEMBERS: "支委与党员",
    Audience.UPPER_COMMITTEE: "党委/党总支委员",
    Audience.BRANCH_SECRETARIES: "所属支部书记",
    Audience.BRANCHES: "所属各支部",
}
_ATTENDANCE_AUDIENCES = frozenset({
    Audience.ALL_MEMBERS, Audience.PARTY_MEMBERS, Audience.GROUP_MEMBERS, Audience.COMMITTEE_AND_MEMBERS,
})
_SECRETARY_AUDIENCES = frozenset({
    Audience.SECRETARY, Audience.MEMBER_AND_SECRETARY, Audience.SECRETARY_AND_CONTACTS,
    Audience.SECRETARY_AND_UPPER_COMMITTEE, Audience.BRANCH_SECRETARIES, Audience.BRANCHES,
})


class Part(StrEnum):
    """Why a person is in an item's audience; it decides what they are sent and when."""

    SUBJECT = "subject"  # the member the item is about (e.g. greeted on their political birthday)
    ATTENDEE = "attendee"  # expected to take part (应到)
    COMMITTEE = "committee"  # on the committee the item is for
    SECRETARY = "secretary"  # the secretary, who must act on it


@dataclass(frozen=True, slots=True)
class Person(Generic[K, O]):
    """What the audience rule knows of a member: where they belong and the seats they hold."""

    key: K
    org: O  # their branch
    group: O | None
    party_member: bool  # full or probationary (activists and candidates are not expected at party meetings)
    leading_cadre: bool  # 双重组织生活: also expected at the committee above
    seats: frozenset[Seat[O]]


@dataclass(frozen=True, slots=True)
class Target(Generic[K, O]):
    """An item as the audience rule sees it: whose it is, for whom, and about whom."""

    audience: Audience
    org: O
    subject: K | None = None


class Orgs(Protocol[O]):
    """The organisation tree, named by codes or ids."""

    def type_of(self, org: O) -> OrgType | None: ...

    def parent_of(self, org: O) -> O | None: ...

    def ancestors_of(self, org: O) -> Iterable[O]: ...

    def in_subtree(self, org: O, root: O) -> bool: ...


Secretaries = Callable[[O], Collection[K]]


def part_of(target: Target[K, O], person: Person[K, O], orgs: Orgs[O], secretaries_of: Secretaries) -> Part | None:
    """The person's part in the item, or None when it is not for them."""
    audience, org = target.audience, target.org
    if target.subject is not None and person.key == target.subject and audience in (
            Audience.MEMBER, Audience.MEMBER_AND_SECRETARY):
        return Part.SUBJECT
    if audience is Audience.MEMBER:
        return None
    if audience in _ATTENDANCE_AUDIENCES:
        if orgs.type_of(org) in (OrgType.BRANCH, OrgType.GROUP):
            belongs = person.org == org or person.group == org
            return Part.ATTENDEE if belongs and person.party_member else None
        # An upper organisation's meeting: its committee, and the leading cadres below it (双重组织生活).
        if sits_on_committee(person.seats, org):
            return Part.ATTENDEE
        if person.leading_cadre and person.party_member and org in orgs.ancestors_of(person.org):
            return Part.ATTENDEE
        return None
    if audience in (Audience.BRANCH_COMMITTEE, Audience.UPPER_COMMITTEE):
        return Part.COMMITTEE if sits_on_committee(person.seats, org) else None
    if audience.spans_subtree:
        if sits_on_committee(person.seats, org) and orgs.type_of(org) in (OrgType.COMMITTEE, OrgType.GENERAL_BRANCH):
            return Part.COMMITTEE
        home = person.org
        if orgs.type_of(home) is OrgType.BRANCH and orgs.in_subtree(home, org) and person.key in secretaries_of(home):
            return Part.SECRETARY
        return None
    # secretary, member_and_secretary, secretary_and_contacts, secretary_and_upper_committee
    if person.key in secretaries_of(org):
        return Part.SECRETARY
    if audience is Audience.SECRETARY_AND_UPPER_COMMITTEE:
        parent = orgs.parent_of(org)
        if parent is not None and sits_on_committee(person.seats, parent):
            return Part.COMMITTEE
    return None


def is_for(target: Target[K, O], person: Person[K, O], orgs: Orgs[O], secretaries_of: Secretaries) -> bool:
    return part_of(target, person, orgs, secretaries_of) is not None


# A political birthday greets its member on the day; everyone else hears at the item's own lead times.
ON_THE_DAY: tuple[int, ...] = (0,)


def reminder_leads(target: Target, part: Part, leads: tuple[int, ...]) -> tuple[int, ...]:
    """Lead times (minutes before the start) at which a person with `part` is reminded of the item."""
    if part is Part.SUBJECT and target.audience is Audience.MEMBER_AND_SECRETARY:
        return ON_THE_DAY
    return leads


# --- the roster (codes), for the pure plan ----------------------------------------------------------------


class RosterAudience:
    """The audience rule over a `Roster`: organisations by code, people by member number (memoised)."""

    def __init__(self, roster: "Roster") -> None:
        self.roster = roster
        self._people: dict[str, Person[str, str]] = {}
        self._secretaries: dict[str, list[str]] = {}

    # Orgs
    def type_of(self, org: str) -> OrgType | None:
        found = self.roster.by_code.get(org)
        return found.type if found else None

    def parent_of(self, org: str) -> str | None:
        found = self.roster.by_code.get(org)
        return found.parent_code if found else None

    def ancestors_of(self, org: str) -> list[str]:
        return [o.code for o in self.roster.ancestors(org)] if org in self.roster.by_code else []

    def in_subtree(self, org: str, root: str) -> bool:
        return org == root or root in self.ancestors_of(org)

    def person(self, member: "Member") -> Person[str, str]:
        found = self._people.get(member.member_no)
        if found is None:
            found = self._people[member.member_no] = Person(
                member.member_no, member.org_code, member.group_code, member.category.is_party_member,
                member.leading_cadre, seats_of_member(member),
            )
        return found

    def secretaries_of(self, org: str) -> list[str]:
        found = self._secretaries.get(org)
        if found is None:
            kind = self.type_of(org)
            pool = self.roster.members if kind is None or kind.is_upper else self.roster.members_of(org)
            found = self._secretaries[org] = secretaries(
                ((m.member_no, self.person(m).seats) for m in pool if m.is_active), org)
        return found

    def part(self, target: Target[str, str], member: "Member") -> Part | None:
        return part_of(target, self.person(member), self, self.secretaries_of)

    def recipients(self, target: Target[str, str]) -> list[tuple["Member", Part]]:
        """Every active member of the roster the item is for, with their part, in member-number order."""
        found = []
        for member in sorted(self.roster.members, key=lambda m: m.member_no):
            if member.is_active and (part := self.part(target, member)) is not None:
                found.append((member, part))
        return found


__all__ = [
    "Audience", "ON_THE_DAY", "Orgs", "Part", "Person", "RosterAudience", "Target", "UnknownAudience", "is_for",
    "part_of", "reminder_leads",
]
