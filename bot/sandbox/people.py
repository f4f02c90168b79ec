"""Who can be played in the sandbox page: roster members as sandbox Telegram users, and the branch groups."""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import texts
from schedules.roster import OrgType, Role
from storage import models
from storage.services.actors import actor_from_member

# Sandbox user ids live in their own range so they are easy to recognise in the database and logs.
SANDBOX_USER_ID_BASE = 7_000_000_000
SANDBOX_USER_ID_SPAN = 1_000_000_000
# Group chats Telegram would number -100…; the sandbox gives a branch without one a stable id here.
SANDBOX_GROUP_ID_BASE = -1_009_000_000_000

# Titles shown next to a name, most senior seat first.
_ROLE_ORDER = [
    Role.SECRETARY, Role.DEPUTY_SECRETARY, Role.ORGANIZATION_MEMBER, Role.PROPAGANDA_MEMBER,
    Role.DISCIPLINE_MEMBER, Role.COMMITTEE_MEMBER, Role.GROUP_LEADER,
]


def sandbox_user_id(member_no: str, salt: int = 0) -> int:
    """A stable Telegram user id for a roster member: the same member number always plays the same user."""
    digest = zlib.crc32(f"{member_no}#{salt}".encode() if salt else member_no.encode())
    return SANDBOX_USER_ID_BASE + digest % SANDBOX_USER_ID_SPAN


def sandbox_group_chat_id(org_code: str) -> int:
    """A stable (negative, supergroup-like) chat id for a branch whose roster row names no group chat."""
    return SANDBOX_GROUP_ID_BASE - zlib.crc32(org_code.encode()) % 1_000_000


@dataclass(frozen=True, slots=True)
class Person:
    """One playable person: a roster member and the sandbox Telegram account that stands for them."""

    user_id: int
    member_id: int
    member_no: str
    name: str
    org_code: str
    org_name: str
    title: str  # e.g. the secretary or a committee member seat; empty for a plain member
    is_secretary: bool
    is_committee: bool
    bound: bool
    group_chat_ids: tuple[int, ...]  # the branch, party group and upper committee groups this person sits in

    @property
    def username(self) -> str:
        return f"m{self.member_no}".replace("-", "_")[:32]

    def as_json(self) -> dict:
        return {
            "user_id": self.user_id,
            "member_no": self.member_no,
            "name": self.name,
            "org_code": self.org_code,
            "org_name": self.org_name,
            "title": self.title,
            "is_secretary": self.is_secretary,
            "is_committee": self.is_committee,
            "bound": self.bound,
        }


@dataclass(frozen=True, slots=True)
class GroupChat:
    chat_id: int
    org_code: str
    title: str
    member_user_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Directory:
    """Everyone playable and every group chat, as read from the sandbox database at one moment."""

    people: tuple[Person, ...]
    groups: tuple[GroupChat, ...]

    def person(self, user_id: int) -> Person | None:
        return next((p for p in self.people if p.user_id == user_id), None)

    def group(self, chat_id: int) -> GroupChat | None:
        return next((g for g in self.groups if g.chat_id == chat_id), None)


def assign_missing_group_chats(session: Session) -> int:
    """Gives every branch and party group without a group chat a stable sandbox one; returns how many changed.

    Only ever called on the sandbox database, so the bot has a group to announce in.
    """
    changed = 0
    for org in session.scalars(select(models.Organization)):
        if org.group_chat_id is None and org.type in (OrgType.BRANCH.value, OrgType.GROUP.value):
            org.group_chat_id = sandbox_group_chat_id(org.code)
            changed += 1
    session.flush()
    return changed


def _title(member: models.Member, org_by_id: dict[int, models.Organization]) -> tuple[str, bool, bool]:
    """The seats shown next to the name (two at most), and whether the person is a secretary / committee member."""
    actor = actor_from_member(member)  # the services' reading of the seats: unknown roles grant nothing
    own = {seat.role for seat in actor.seats if not seat.upper}
    upper = sorted((seat for seat in actor.seats if seat.upper),
                   key=lambda seat: (org_by_id[seat.org].code, _ROLE_ORDER.index(seat.role)))
    parts = [role.value for role in _ROLE_ORDER if role in own]
    parts += [f"{org_by_id[seat.org].type}{seat.role.value}" for seat in upper]
    return texts.sandbox_seats(parts[:2]), actor.is_secretary_anywhere, actor.is_upper_committee_member


def load_directory(session: Session) -> Directory:
    """Reads active members, their bindings and the group chats; user ids follow the binding when there is one."""
    org_by_id = {org.id: org for org in session.scalars(select(models.Organization))}
    members = session.scalars(
        select(models.Member).where(models.Member.status == "active").order_by(models.Member.org_id, models.Member.member_no)
    ).all()
    bound_ids = {
        row.member_id: row.telegram_user_id for row in session.scalars(select(models.TelegramBinding))
    }
    taken: set[int] = set(bound_ids.values())
    people: list[Person] = []
    for member in members:
        user_id = bound_ids.get(member.id)
        if user_id is None:
            salt = 0
            user_id = sandbox_user_id(member.member_no)
            while user_id in taken:  # a crc collision: probe deterministically
                salt += 1
                user_id = sandbox_user_id(member.member_no, salt)
        taken.add(user_id)
        title, is_secretary, is_committee = _title(member, org_by_id)
        org = org_by_id[member.org_id]
        # Their branch and party group, then the group of every upper committee they sit on.
        seat_orgs = [r.org_id for r in member.roles if r.upper]
        groups = tuple(dict.fromkeys(
            org_by_id[org_id].group_chat_id
            for org_id in (member.org_id, member.group_id, *seat_orgs)
            if org_id is not None and org_by_id[org_id].group_chat_id is not None
        ))
        people.append(Person(
            user_id=user_id, member_id=member.id, member_no=member.member_no, name=member.name,
            org_code=org.code, org_name=org.name, title=title, is_secretary=is_secretary,
            is_committee=is_committee, bound=member.id in bound_ids, group_chat_ids=groups,
        ))
    # Secretaries and committee members first within each organisation, so the demo's key roles are easy to find.
    people.sort(key=lambda p: (p.org_code, not (p.is_secretary or p.is_committee), p.member_no))
    groups_out = []
    for org in sorted(org_by_id.values(), key=lambda o: o.code):
        if org.group_chat_id is None:
            continue
        members_in = tuple(p.user_id for p in people if org.group_chat_id in p.group_chat_ids)
        groups_out.append(GroupChat(chat_id=org.group_chat_id, org_code=org.code, title=texts.sandbox_group_title(org.name), member_user_ids=members_in))
    return Directory(people=tuple(people), groups=tuple(groups_out))
