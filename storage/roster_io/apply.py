"""Compares a parsed roster with the database and applies the difference in bulk, in the caller's session.

Members are matched by member number. Members missing from the new roster are marked transferred out
(never deleted: their attendance history stays); one who comes back is re-activated. Organisations are
upserted by code; one missing from the new roster is deleted when nothing refers to it, and kept (and
reported) when members who left, activities or other records still point at it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete, insert, update
from sqlalchemy.orm import Session

from schedules.roles import seats_of_member
from schedules.roster import Member, MemberStatus, Organization, Roster
from storage import changes, models
from storage.repositories import audit
from storage.repositories.members import ids_by_member_no
from storage.repositories.organizations import ids_by_code, referenced_org_ids
from storage.repositories.roster import load_roster
from storage.roster_io.parse import ProgressCallback
from storage.roster_io.problems import RosterError, RosterProblem

MEMBER_FIELDS = tuple(f.name for f in fields(Member) if f.name != "member_no")
# The roster fields the audience rule reads: those a stored member's audience columns come from
# (`models.MEMBER_AUDIENCE_COLUMNS`; an organisation and a group are stored by id, named by code), and the seats
# (`member_roles` rows). A change of one may change who a card counts.
_FIELD_OF_COLUMN = {"org_id": "org_code", "group_id": "group_code"}
SEAT_FIELDS = ("roles", "upper_roles")
AUDIENCE_FIELDS = frozenset({_FIELD_OF_COLUMN.get(column, column) for column in models.MEMBER_AUDIENCE_COLUMNS}
                            | set(SEAT_FIELDS))
ORG_FIELDS = tuple(f.name for f in fields(Organization) if f.name != "code")
_CHUNK = 2000  # rows per progress step and per IN (...) list
T = TypeVar("T")


@dataclass(frozen=True)
class MemberChange:
    member_no: str
    name: str
    fields: tuple[str, ...]  # MEMBER_FIELDS that differ; "status" means the member came back

    @property
    def reactivated(self) -> bool:
        return "status" in self.fields


@dataclass(frozen=True)
class OrgChange:
    code: str
    name: str
    fields: tuple[str, ...]


@dataclass
class ImportSummary:
    """What an import did (or, for a dry run, would do)."""

    dry_run: bool = False
    members_added: list[str] = field(default_factory=list)
    members_changed: list[MemberChange] = field(default_factory=list)
    members_transferred_out: list[str] = field(default_factory=list)
    members_unchanged: int = 0
    orgs_added: list[str] = field(default_factory=list)
    orgs_changed: list[OrgChange] = field(default_factory=list)
    orgs_removed: list[str] = field(default_factory=list)
    orgs_kept: list[str] = field(default_factory=list)  # missing from the file but still referenced
    orgs_unchanged: int = 0

    @property
    def members_reactivated(self) -> list[str]:
        return [change.member_no for change in self.members_changed if change.reactivated]

    @property
    def changes_anything(self) -> bool:
        return bool(
            self.members_added or self.members_changed or self.members_transferred_out
            or self.orgs_added or self.orgs_changed or self.orgs_removed
        )

    def counts(self) -> dict[str, int]:
        return {
            "members_added": len(self.members_added),
            "members_changed": len(self.members_changed),
            "members_reactivated": len(self.members_reactivated),
            "members_transferred_out": len(self.members_transferred_out),
            "members_unchanged": self.members_unchanged,
            "orgs_added": len(self.orgs_added),
            "orgs_changed": len(self.orgs_changed),
            "orgs_removed": len(self.orgs_removed),
            "orgs_kept": len(self.orgs_kept),
            "orgs_unchanged": self.orgs_unchanged,
        }


@dataclass
class ImportPlan:
    """The difference between the database and a roster, computed without writing anything."""

    roster: Roster
    org_ids: dict[str, int]
    orgs_added: list[Organization] = field(default_factory=list)
    orgs_changed: list[tuple[int, Organization, tuple[str, ...]]] = field(default_factory=list)
    orgs_removed: list[tuple[int, str]] = field(default_factory=list)
    orgs_kept: list[str] = field(default_factory=list)
    orgs_unchanged: int = 0
    members_added: list[Member] = field(default_factory=list)
    members_changed: list[tuple[int, Member, tuple[str, ...]]] = field(default_factory=list)
    members_transferred: list[tuple[int, Member]] = field(default_factory=list)
    members_unchanged: int = 0
    # Organisations (stored ones: a new one has no activity yet) whose members change as the audience rule sees
    # them: each such member's organisation, group and seats, before and after (storage.changes.roster_orgs).
    roster_orgs: set[int] = field(default_factory=set)

    def summary(self, *, dry_run: bool) -> ImportSummary:
        return ImportSummary(
            dry_run=dry_run,
            members_added=[m.member_no for m in self.members_added],
            members_changed=[MemberChange(m.member_no, m.name, f) for _, m, f in self.members_changed],
            members_transferred_out=[m.member_no for _, m in self.members_transferred],
            members_unchanged=self.members_unchanged,
            orgs_added=[o.code for o in self.orgs_added],
            orgs_changed=[OrgChange(o.code, o.name, f) for _, o, f in self.orgs_changed],
            orgs_removed=[code for _, code in self.orgs_removed],
            orgs_kept=self.orgs_kept,
            orgs_unchanged=self.orgs_unchanged,
        )


def plan_import(session: Session, roster: Roster) -> ImportPlan:
    """Reads the database and works out what importing `roster` changes; writes nothing."""
    stored = load_roster(session, include_transferred=True)
    org_ids = ids_by_code(session)
    member_ids = ids_by_member_no(session)
    stored_members = {m.member_no: m for m in stored.members}
    plan = ImportPlan(roster, org_ids)
    plan.orgs_added, plan.orgs_changed, plan.orgs_unchanged = _compare(
        roster.organizations, stored.by_code, org_ids, key=lambda org: org.code, names=ORG_FIELDS
    )
    plan.members_added, plan.members_changed, plan.members_unchanged = _compare(
        roster.members, stored_members, member_ids, key=lambda member: member.member_no, names=MEMBER_FIELDS
    )

    in_file = {m.member_no for m in roster.members}
    staying_refs: set[int] = set()
    for member in stored.members:
        if member.member_no in in_file:
            continue
        staying_refs.update(org_ids[code] for code in (member.org_code, member.group_code) if code)
        if member.is_active:
            plan.members_transferred.append((member_ids[member.member_no], member))
    counted = [*plan.members_added, *(m for _, m in plan.members_transferred)]
    for _, member, differing in plan.members_changed:
        if AUDIENCE_FIELDS & set(differing):
            counted += [member, stored_members[member.member_no]]
    plan.roster_orgs = {org_ids[code] for member in counted for code in _codes_counting(member) if code in org_ids}

    if not roster.members and plan.members_transferred:
        # An empty members sheet is far likelier a wrong file than a whole organisation leaving at once.
        raise RosterError([RosterProblem(
            "members", 0, "",
            f"新名册中没有任何党员，导入会把现有的 {len(plan.members_transferred)} 名党员全部标为转出。"
            "请检查是否选错了文件；如确需全部转出，请逐个在名册中删除后分批导入。",
        )])

    missing = {code: org for code, org in stored.by_code.items() if code not in roster.by_code}
    if missing:
        referenced = staying_refs | referenced_org_ids(
            session, ignore_tables=frozenset({"organizations", "members", "member_roles"})
        )
        kept = {code for code in missing if org_ids[code] in referenced}
        # An organisation that stays keeps its ancestors: the tree must not dangle.
        for code in list(kept):
            parent = missing[code].parent_code
            while parent in missing and parent not in kept:
                kept.add(parent)
                parent = missing[parent].parent_code
        plan.orgs_kept = sorted(kept)
        plan.orgs_removed = sorted((org_ids[code], code) for code in missing if code not in kept)
    return plan


def apply_import(
    session: Session,
    plan: ImportPlan,
    *,
    now: datetime,
    actor_label: str = "cli",
    source: str | None = None,
    progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Writes the plan with bulk statements in the caller's transaction (no commit) and audits it."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    report = progress or (lambda *_: None)
    org_ids = _write_organizations(session, plan, now)
    report("写入组织", 1, 1)
    member_ids = _write_members(session, plan, org_ids, now, report)
    _write_roles(session, plan, org_ids, member_ids, report)
    if plan.orgs_removed:
        removed_ids = [org_id for org_id, _ in plan.orgs_removed]
        for chunk in _chunks(removed_ids):
            session.execute(update(models.Organization).where(models.Organization.id.in_(chunk)).values(parent_id=None))
        for chunk in _chunks(removed_ids):
            session.execute(delete(models.Organization).where(models.Organization.id.in_(chunk)))
    changes.roster_changed(session, plan.roster_orgs)  # bulk statements: the session's flush does not see them
    summary = plan.summary(dry_run=False)
    audit.record(
        session, action="roster.import", entity="roster", at=now, actor_label=actor_label,
        details={**summary.counts(), **({"source": source} if source else {})},
    )
    return summary


def import_roster(
    session: Session,
    roster: Roster,
    *,
    now: datetime,
    dry_run: bool = False,
    actor_label: str = "cli",
    source: str | None = None,
    progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Plan and (unless `dry_run`) apply: the one call the CLI and the sandbox make."""
    plan = plan_import(session, roster)
    if dry_run:
        return plan.summary(dry_run=True)
    return apply_import(session, plan, now=now, actor_label=actor_label, source=source, progress=progress)


# --- comparing -----------------------------------------------------------------------------------


def _compare(
    new: Iterable[T], stored: dict[str, T], ids: dict[str, int], *, key: Callable[[T], str], names: tuple[str, ...]
) -> tuple[list[T], list[tuple[int, T, tuple[str, ...]]], int]:
    """Rows of the new roster split into (added, changed with their stored id and fields, unchanged count)."""
    added: list[T] = []
    changed: list[tuple[int, T, tuple[str, ...]]] = []
    unchanged = 0
    for item in new:
        old = stored.get(key(item))
        if old is None:
            added.append(item)
        elif differing := _changed_fields(old, item, names):
            changed.append((ids[key(item)], item, differing))
        else:
            unchanged += 1
    return added, changed, unchanged


def _codes_counting(member: Member) -> set[str]:
    """Where a roster member is counted: their organisation, group and seats."""
    return {code for code in (member.org_code, member.group_code) if code} | {seat.org for seat in seats_of_member(member)}


def _changed_fields(old: Any, new: Any, names: Iterable[str]) -> tuple[str, ...]:
    return tuple(name for name in names if getattr(old, name) != getattr(new, name))


# --- writing --------------------------------------------------------------------------------------


def _write_organizations(session: Session, plan: ImportPlan, now: datetime) -> dict[str, int]:
    if plan.orgs_added:
        session.execute(insert(models.Organization), [
            {**_org_values(org), "parent_id": None, "created_at": now, "updated_at": now} for org in plan.orgs_added
        ])
    org_ids = ids_by_code(session)
    # Parents are linked after every new row has an id, so the file's order does not matter.
    updates = [
        {"id": org_ids[org.code], "parent_id": org_ids[org.parent_code]}
        for org in plan.orgs_added if org.parent_code
    ]
    updates += [
        {"id": org_id, **_org_values(org), "updated_at": now,
         "parent_id": org_ids[org.parent_code] if org.parent_code else None}
        for org_id, org, _ in plan.orgs_changed
    ]
    for same_keys in _group_by_keys(updates):
        session.execute(update(models.Organization), same_keys)
    return org_ids


def _org_values(org: Organization) -> dict[str, Any]:
    return {
        "code": org.code, "name": org.name, "type": org.type.value, "elected_on": org.elected_on,
        "term_years": org.term_years, "group_chat_id": org.group_chat_id, "timezone": org.timezone,
    }


def _member_values(member: Member, org_ids: dict[str, int], now: datetime) -> dict[str, Any]:
    return {
        "member_no": member.member_no, "name": member.name, "org_id": org_ids[member.org_code],
        "group_id": org_ids[member.group_code] if member.group_code else None,
        "category": member.category.value, "joined_on": member.joined_on,
        "full_member_on": member.full_member_on, "activist_on": member.activist_on,
        "leading_cadre": member.leading_cadre, "telegram_username": member.telegram_username,
        "status": MemberStatus.ACTIVE.value, "transferred_out_at": None, "updated_at": now,
    }


def _write_members(
    session: Session, plan: ImportPlan, org_ids: dict[str, int], now: datetime, report: ProgressCallback
) -> dict[str, int]:
    total = len(plan.members_added) + len(plan.members_changed) + len(plan.members_transferred)
    done = 0
    for chunk in _chunks(plan.members_added):
        session.execute(insert(models.Member), [{**_member_values(m, org_ids, now), "created_at": now} for m in chunk])
        done += len(chunk)
        report("写入党员", done, total)
    for chunk in _chunks(plan.members_changed):
        session.execute(update(models.Member), [{"id": i, **_member_values(m, org_ids, now)} for i, m, _ in chunk])
        done += len(chunk)
        report("写入党员", done, total)
    for chunk in _chunks(plan.members_transferred):
        session.execute(update(models.Member), [
            {"id": i, "status": MemberStatus.TRANSFERRED_OUT.value, "transferred_out_at": now, "updated_at": now}
            for i, _ in chunk
        ])
        done += len(chunk)
        report("写入党员", done, total)
    if total == 0:
        report("写入党员", 1, 1)
    if not plan.members_added:
        return {}
    return ids_by_member_no(session)


def _write_roles(
    session: Session, plan: ImportPlan, org_ids: dict[str, int], new_ids: dict[str, int], report: ProgressCallback
) -> None:
    seat_fields = {"roles", "upper_roles", "org_code", "group_code"}
    reseated = [(i, m) for i, m, changed in plan.members_changed if seat_fields & set(changed)]
    cleared = [i for i, _ in reseated] + [i for i, _ in plan.members_transferred]  # who leaves gives up seats
    rewrite = [(new_ids[m.member_no], m) for m in plan.members_added] + reseated
    for chunk in _chunks(cleared):
        session.execute(delete(models.MemberRole).where(models.MemberRole.member_id.in_(chunk)))
    rows = [row for member_id, member in rewrite for row in _seat_rows(member_id, member, org_ids)]
    for index, chunk in enumerate(_chunks(rows), start=1):
        session.execute(insert(models.MemberRole), chunk)
        report("写入职务", min(index * _CHUNK, len(rows)), len(rows))


def _seat_rows(member_id: int, member: Member, org_ids: dict[str, int]) -> Iterator[dict[str, Any]]:
    """The member's seats (schedules.roles.seats_of_member) as member_roles rows, in a stable order."""
    for seat in sorted(seats_of_member(member), key=lambda s: (s.upper, s.role.value, s.org)):
        yield {"member_id": member_id, "org_id": org_ids[seat.org], "role": seat.role.value, "upper": seat.upper}


def _chunks(items: list[T], size: int = _CHUNK) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _group_by_keys(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return list(groups.values())
