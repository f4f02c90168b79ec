"""Roles, the one definition: who runs an organisation (书记 → 副书记 → 组织委员), sits on its committee, leads a 党小组.

Every layer asks these questions through the functions below, whatever it uses to name an organisation
(a code in the roster, an id in the database): a `Seat` is a role held in one organisation.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from schedules.roster import Member



class Role(StrEnum):
    SECRETARY = "书记"
    DEPUTY_SECRETARY = "副书记"
    ORGANIZATION_MEMBER = "组织委员"
    PROPAGANDA_MEMBER = "宣传委员"
    DISCIPLINE_MEMBER = "纪检委员"
    COMMITTEE_MEMBER = "委员"
    GROUP_LEADER = "党小组长"

    @property
    def sits_on_committee(self) -> bool:
        return self is not Role.GROUP_LEADER

    @property
    def runs_branch(self) -> bool:
        """书记, 副书记 and 组织委员 may confirm activities and manage the roster of their branch."""
        return self in RUNNING_ORDER


O = TypeVar("O", bound=Hashable)  # how an organisation is named: a code (roster) or an id (database)
K = TypeVar("K", bound=Hashable)  # how a person is named: a member number or an id

# Who runs an organisation, in order: the 书记; without one the 副书记; without one the 组织委员.
RUNNING_ORDER: tuple[Role, ...] = (Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER)
_RANK = {role: rank for rank, role in enumerate(RUNNING_ORDER)}


@dataclass(frozen=True, slots=True)
class Seat(Generic[O]):
    """A role held in one organisation; `upper` for a seat on a 党委/党总支 committee above one's branch."""

    org: O
    role: Role
    upper: bool = False


def seats_of_member(member: "Member") -> frozenset[Seat[str]]:
    """A roster member's seats: branch roles sit in the branch (党小组长 in the member's group), upper roles above."""
    seats = {
        Seat(member.group_code if role is Role.GROUP_LEADER and member.group_code else member.org_code, role, False)
        for role in member.roles
    }
    seats.update(Seat(upper.org_code, upper.role, True) for upper in member.upper_roles)
    return frozenset(seats)


def parse_seats(rows: Iterable[tuple[O | None, str, bool]]) -> frozenset[Seat[O]]:
    """Seats from stored (organisation, role, upper) rows; an unknown role, or no organisation, grants nothing."""
    seats = []
    for org, role, upper in rows:
        if org is None:
            continue
        try:
            seats.append(Seat(org, Role(role), bool(upper)))
        except ValueError:
            continue
    return frozenset(seats)


def running_rank(seats: Iterable[Seat[O]], org: O) -> int | None:
    """0 for the 书记 of `org`, 1 for a 副书记, 2 for a 组织委员; None for anyone else."""
    ranks = [_RANK[seat.role] for seat in seats if seat.org == org and seat.role in _RANK]
    return min(ranks) if ranks else None


def runs(seats: Iterable[Seat[O]], org: O) -> bool:
    """May act for `org` (confirm, 代签, decide leave): its 书记, 副书记 or 组织委员."""
    return running_rank(seats, org) is not None


def leads_group(seats: Iterable[Seat[O]], group: O) -> bool:
    return any(seat.org == group and seat.role is Role.GROUP_LEADER for seat in seats)


def manages(seats: Iterable[Seat[O]], org: O) -> bool:
    """Runs `org` directly: its 书记/副书记/组织委员, or the 党小组长 when `org` is a 党小组."""
    seats = tuple(seats)
    return runs(seats, org) or leads_group(seats, org)


def sits_on_committee(seats: Iterable[Seat[O]], org: O) -> bool:
    """On the committee of `org`: a branch committee role there, or any seat on an upper committee there."""
    return any(seat.org == org and (seat.upper or seat.role.sits_on_committee) for seat in seats)


def has_upper_seat(seats: Iterable[Seat[O]], org: O) -> bool:
    return any(seat.org == org and seat.upper for seat in seats)


def on_upper_committee(seats: Iterable[Seat[O]], org: O) -> bool:
    """A committee seat on the upper organisation `org` (党委/党总支 above one's branch): who raises, reopens and
    hears about a 整改 item there, and who is told what the branches below it leave undone."""
    return any(seat.org == org and seat.upper and seat.role.sits_on_committee for seat in seats)


def managed_orgs(seats: Iterable[Seat[O]]) -> frozenset[O]:
    """The branches and 党小组 a person runs directly (upper seats supervise; they do not run)."""
    seats = tuple(seats)
    return frozenset(seat.org for seat in seats if not seat.upper and manages(seats, seat.org))


def runners(holders: Iterable[tuple[K, Collection[Seat[O]]]], org: O) -> list[K]:
    """Everyone who runs `org`, best rank first (书记, 副书记, 组织委员), ties in key order."""
    ranked = [(rank, str(key), key) for key, seats in holders if (rank := running_rank(seats, org)) is not None]
    return [key for _, _, key in sorted(ranked)]


def secretaries(holders: Iterable[tuple[K, Collection[Seat[O]]]], org: O) -> list[K]:
    """"The secretary" of `org` among (person, seats): everyone of the best rank present (书记, else 副书记,
    else 组织委员), in key order; empty when nobody runs it."""
    ranked = [(rank, key) for key, seats in holders if (rank := running_rank(seats, org)) is not None]
    if not ranked:
        return []
    best = min(rank for rank, _ in ranked)
    return sorted({key for rank, key in ranked if rank == best}, key=str)


def deciders(holders: Iterable[tuple[K, Collection[Seat[O]]]], org: O, *, branch: O | None = None,
             upper: O | None = None, excluding: K | None = None) -> list[K]:
    """Who decides for `org` (leave requests): whoever runs it, for a 党小组 also its leader and its branch's
    runners; never the person asking (`excluding`). A secretary's own request, with no deputy to take it,
    goes to whoever runs the organisation above (`upper`)."""
    holders = [(key, tuple(seats)) for key, seats in holders]
    own = [key for key, seats in holders if key != excluding and (
        manages(seats, org) or (branch is not None and runs(seats, branch)))]
    if own or upper is None:
        return sorted(set(own), key=str)
    return [key for key in secretaries(((k, s) for k, s in holders if k != excluding), upper)]


__all__ = [
    "RUNNING_ORDER", "Role", "Seat", "deciders", "has_upper_seat", "leads_group", "managed_orgs", "manages",
    "on_upper_committee", "parse_seats", "runners", "running_rank", "runs", "seats_of_member", "secretaries", "sits_on_committee",
]
