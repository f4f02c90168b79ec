"""谈心谈话: each year every branch committee member talks with every party member of the branch, and the
committee members with each other, at least once. Records the date, the two people and at most a line of
topic (never what was said), keeps the coverage, and queues one gentle fourth-quarter reminder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from schedules.roster import Category, MemberStatus
from schedules.timeparse import ParsedDay, TimeParseError, parse_past_day
from storage.errors import AlreadyHandled, InvalidInput, NotFound, PermissionDenied
from storage.outbox_kinds import OutboxKind
from storage import models
from storage.repositories import activities as activity_repo
from storage.repositories import attendance as attendance_repo
from storage.repositories import members as member_repo
from storage.repositories import outbox
from storage.services.actors import Actor, OrgTree, actor_from_member, require_visible
from storage.services.permissions import audit_fields
from storage.text import could_be_stored, escaped, typed_text

# The one reminder goes out on this day of the fourth quarter (after the National Day holiday), at 09:00.
REMINDER_MONTH, REMINDER_DAY, REMINDER_TIME = 10, 15, time(9, 0)
REMINDER_WINDOW = timedelta(days=7)  # still sent this long after its moment (downtime), never later


@dataclass(frozen=True)
class Person:
    member_id: int
    name: str
    member_no: str


@dataclass(frozen=True)
class CommitteeProgress:
    """One committee member's year: with whom they have talked and with whom they still should."""

    person: Person
    done: tuple[Person, ...]
    owed: tuple[Person, ...]


@dataclass(frozen=True)
class Coverage:
    org_id: int
    org_name: str
    year: int
    committee: tuple[CommitteeProgress, ...]

    @property
    def done_pairs(self) -> int:
        return len(self._pairs(done=True))

    @property
    def owed_pairs(self) -> int:
        return len(self._pairs(done=False))

    def _pairs(self, *, done: bool) -> set[frozenset[int]]:
        return {frozenset((c.person.member_id, p.member_id)) for c in self.committee
                for p in (c.done if done else c.owed)}

    def owed_by(self, member_id: int) -> CommitteeProgress | None:
        return next((c for c in self.committee if c.person.member_id == member_id), None)


@dataclass(frozen=True)
class TalkRecord:
    held_on: date
    org_name: str
    committee_name: str
    member_name: str
    topic: str | None
    recorded_by: str


@dataclass(frozen=True)
class Recorded:
    other: Person
    held_on: date
    coverage: Coverage


def _person(member: models.Member) -> Person:
    return Person(member.id, member.name, member.member_no)


def _people_by_branch(session: Session, branch_ids: Sequence[int]) -> dict[int, tuple[list, list]]:
    """(committee members, party members) of each branch, active, in roster order: one query for all."""
    tree = OrgTree.load(session)
    branch_of = {org: branch for branch in branch_ids for org in tree.with_groups([branch])}
    members = session.scalars(select(models.Member).where(
        models.Member.status == MemberStatus.ACTIVE.value, models.Member.org_id.in_(branch_of),
    ).order_by(models.Member.member_no)).all()
    people: dict[int, tuple[list, list]] = {branch: ([], []) for branch in branch_ids}
    for member in members:
        branch = branch_of[member.org_id]
        committee, party = people[branch]
        on_committee = actor_from_member(member).sits_on_committee_of(branch)
        if on_committee:
            committee.append(member)
        if on_committee or Category(member.category).is_party_member:
            party.append(member)
    return people


def _branch_people(session: Session, org_id: int) -> tuple[list[models.Member], list[models.Member]]:
    return _people_by_branch(session, [org_id])[org_id]


def _talked_pairs(session: Session, org_ids: Sequence[int], year: int) -> dict[int, set[frozenset[int]]]:
    rows = session.execute(select(models.HeartToHeartTalk.org_id, models.HeartToHeartTalk.committee_member_id,
                                  models.HeartToHeartTalk.member_id)
                           .where(models.HeartToHeartTalk.org_id.in_(org_ids), models.HeartToHeartTalk.year == year))
    pairs: dict[int, set[frozenset[int]]] = {org_id: set() for org_id in org_ids}
    for org_id, committee_id, member_id in rows:
        pairs[org_id].add(frozenset((committee_id, member_id)))
    return pairs


def coverage(session: Session, org_id: int, year: int) -> Coverage:
    """Who still owes a talk with whom this year in the branch."""
    return coverages(session, [org_id], year)[0]


def coverages(session: Session, org_ids: Sequence[int], year: int) -> list[Coverage]:
    """`coverage` of several branches with a fixed number of queries (the sweep and the 台账 ask for all)."""
    people = _people_by_branch(session, org_ids)
    talked = _talked_pairs(session, org_ids, year)
    return [_coverage(session, org_id, year, *people[org_id], talked[org_id]) for org_id in org_ids]


def _coverage(session: Session, org_id: int, year: int, committee: list, party: list,
              talked: set[frozenset[int]]) -> Coverage:
    tree = OrgTree.load(session)
    progress = []
    for seat in committee:
        others = [m for m in party if m.id != seat.id]
        done = [_person(m) for m in others if frozenset((seat.id, m.id)) in talked]
        owed = [_person(m) for m in others if frozenset((seat.id, m.id)) not in talked]
        progress.append(CommitteeProgress(_person(seat), tuple(done), tuple(owed)))
    return Coverage(org_id, tree.name.get(org_id, ""), year, tuple(progress))


def coverage_for(session: Session, actor: Actor, year: int, org_code: str | None = None) -> Coverage:
    """The branch's coverage for one who may see it: its committee, or an upper committee above it."""
    tree = OrgTree.load(session)
    if org_code is not None:
        org_id = tree.id_by_code.get(org_code)
        if org_id is None:
            raise NotFound(f"没有组织编码 {org_code}。")
    else:
        org_id = actor.org_id
    require_visible(actor, tree, org_id)
    if not tree.is_branch(org_id):
        raise InvalidInput("谈心谈话按党支部统计，请写支部编码。")
    return coverage(session, org_id, year)


def records(session: Session, org_ids: Sequence[int], year: int) -> list[TalkRecord]:
    """The year's talks of these branches, by date (the 谈心谈话记录 sheet)."""
    rows = session.scalars(select(models.HeartToHeartTalk).where(
        models.HeartToHeartTalk.org_id.in_(set(org_ids)), models.HeartToHeartTalk.year == year,
    ).order_by(models.HeartToHeartTalk.held_on, models.HeartToHeartTalk.id)).all()
    ids = {r.committee_member_id for r in rows} | {r.member_id for r in rows} | {
        r.recorded_by_member_id for r in rows if r.recorded_by_member_id}
    names = member_repo.names_by_id(session, ids)
    tree = OrgTree.load(session)
    return [TalkRecord(r.held_on, tree.name.get(r.org_id, ""), names.get(r.committee_member_id, ""), names.get(r.member_id, ""), r.topic,
                       names.get(r.recorded_by_member_id, "") if r.recorded_by_member_id else "") for r in rows]


def find_colleague(session: Session, actor: Actor, who: str) -> models.Member:
    """A member of the actor's branch by name or 党员编号; an ambiguous name asks for the number."""
    who = who.strip()
    tree = OrgTree.load(session)
    possible = could_be_stored(who, models.Member.name) or could_be_stored(who, models.Member.member_no)
    matches = list(session.scalars(select(models.Member).where(
        models.Member.status == MemberStatus.ACTIVE.value, models.Member.org_id.in_(tree.with_groups([actor.org_id])),
        (models.Member.name == who) | (models.Member.member_no == who),
    ).order_by(models.Member.member_no))) if possible else []
    if not matches:
        raise NotFound(f"本支部没有名叫“{escaped(who)}”的党员。", who=who)
    if len(matches) > 1:
        numbers = "、".join(f"{m.name}（{m.member_no}）" for m in matches)
        raise InvalidInput(f"本支部有 {len(matches)} 位“{who}”：{numbers}，请改写党员编号。")
    return matches[0]


def read_day(text: str, today: date) -> ParsedDay:
    try:
        return parse_past_day(text, today)
    except TimeParseError as error:
        raise InvalidInput(str(error)) from None


def record_talk(session: Session, actor: Actor, other_id: int, held_on: date, now: datetime, *,
                topic: str | None = None) -> Recorded:
    """Either side records that a talk took place; one of the two sits on the branch committee."""
    other = session.get(models.Member, other_id)
    if other is None or other.status != MemberStatus.ACTIVE.value:
        raise NotFound("找不到这位党员。", member_id=other_id)
    if other.id == actor.member_id:
        raise InvalidInput("谈心谈话需要两个人：请写对方的姓名。")
    org_id = actor.org_id
    committee, party = _branch_people(session, org_id)
    committee_ids, party_ids = {m.id for m in committee}, {m.id for m in party}
    if other.id not in party_ids or actor.member_id not in party_ids:
        raise PermissionDenied("谈心谈话在本支部党员之间记录，对方不在本支部。", actor=actor.member_no, other=other_id)
    if actor.member_id not in committee_ids and other.id not in committee_ids:
        raise PermissionDenied("谈心谈话由支委与党员进行：双方至少有一位是本支部支委。", actor=actor.member_no)
    if held_on > (now + timedelta(days=1)).date():  # a day's slack: `now` is UTC, the day is local
        raise InvalidInput("谈话日期还没到。")
    topic = typed_text(topic, models.HeartToHeartTalk.topic, "话题") or None
    pair = sorted((actor.member_id, other.id))
    committee_side, member_side = (
        (pair[0], pair[1]) if pair[0] in committee_ids and pair[1] in committee_ids
        else (actor.member_id, other.id) if actor.member_id in committee_ids else (other.id, actor.member_id)
    )
    exists = session.scalars(select(models.HeartToHeartTalk.id).where(
        models.HeartToHeartTalk.committee_member_id == committee_side,
        models.HeartToHeartTalk.member_id == member_side, models.HeartToHeartTalk.held_on == held_on)).first()
    if exists is not None:
        raise AlreadyHandled(f"{held_on.month}月{held_on.day}日与{other.name}的谈心谈话已经记录过了。")
    row = models.HeartToHeartTalk(org_id=org_id, year=held_on.year, committee_member_id=committee_side,
                                  member_id=member_side, held_on=held_on, topic=topic,
                                  recorded_by_member_id=actor.member_id, recorded_at=now)
    session.add(row)
    session.flush()
    attendance_repo.add_audit(
        session, now=now, action="talk.record", entity="heart_to_heart_talk", entity_id=row.id,
        details={"with": other.member_no, "held_on": held_on.isoformat(), "has_topic": topic is not None},
        **audit_fields(actor),
    )
    return Recorded(_person(other), held_on, coverage(session, org_id, held_on.year))


def reminder_moment(year: int, zone: ZoneInfo) -> datetime:
    return datetime(year, REMINDER_MONTH, REMINDER_DAY, REMINDER_TIME.hour, REMINDER_TIME.minute, tzinfo=zone)


YEAR_START, FOURTH_QUARTER = "year", "q4"  # the two moments a committee member hears whom they owe


def _due_branches(session: Session, tree: OrgTree, now: datetime, default_zone: ZoneInfo) -> dict[tuple[int, str], list[int]]:
    """(year, moment) → branches for which that reminder is due now.

    The year's reminder comes with the 谈心谈话 obligation's own yearly occurrence (catalog `heart_to_heart`), the
    fourth-quarter one on 15 October; each is looked for during a week from its moment, so downtime on the day
    does not lose it.
    """
    due: dict[tuple[int, str], list[int]] = {}
    zones = {org.id: activity_repo.org_zone(org, default_zone) for org in session.scalars(
        select(models.Organization).where(models.Organization.id.in_(tree.branches())))}
    for org_id, zone in zones.items():
        local = now.astimezone(zone)
        start = reminder_moment(local.year, zone)
        if start <= local < start + REMINDER_WINDOW:
            due.setdefault((local.year, FOURTH_QUARTER), []).append(org_id)
    yearly = session.execute(select(models.Activity.org_id, models.Activity.starts_at).where(
        models.Activity.obligation == "heart_to_heart", models.Activity.status == models.ActivityStatus.SCHEDULED.value,
        models.Activity.starts_at <= now, models.Activity.starts_at > now - REMINDER_WINDOW,
    )).all()
    for org_id, starts_at in yearly:
        if org_id in zones:
            due.setdefault((starts_at.astimezone(zones[org_id]).year, YEAR_START), []).append(org_id)
    return due


def enqueue_owed_reminders(session: Session, now: datetime, default_zone: ZoneInfo) -> int:
    """Tells each committee member whom they still owe a talk: at the year's 谈心谈话 and once in the fourth
    quarter (only those who still owe any). Idempotent; branches whose reminders all went out are skipped."""
    tree = OrgTree.load(session)
    messages: list[outbox.NewMessage] = []
    for (year, moment), org_ids in _due_branches(session, tree, now, default_zone).items():
        prefix = f"{OutboxKind.TALK_OWED}:{year}:{moment}:"
        sent = set(session.scalars(select(models.OutboxMessage.member_id).where(
            models.OutboxMessage.kind == OutboxKind.TALK_OWED.value, models.OutboxMessage.dedup_key.like(f"{prefix}%"))))
        people = _people_by_branch(session, org_ids)
        pending = [o for o in org_ids if any(m.id not in sent for m in people[o][0])]
        talked = _talked_pairs(session, pending, year) if pending else {}
        for org_id in pending:
            coverage = _coverage(session, org_id, year, *people[org_id], talked[org_id])
            messages += _owed_messages(coverage, moment, now)
    return outbox.enqueue(session, messages) if messages else 0


def _owed_messages(coverage: Coverage, moment: str, now: datetime) -> list[outbox.NewMessage]:
    """One reminder per committee member who still owes talks (dedup: year, moment, recipient)."""
    messages = []
    for progress in coverage.committee:
        if not progress.owed:
            continue
        recipient = outbox.member_recipient(progress.person.member_id)
        messages.append(outbox.NewMessage(
            dedup_key=f"{OutboxKind.TALK_OWED}:{coverage.year}:{moment}:{recipient}", recipient=recipient, due_at=now,
            kind=OutboxKind.TALK_OWED, member_id=progress.person.member_id, priority=60,
            payload={"year": coverage.year, "org_id": coverage.org_id, "moment": moment},
        ))
    return messages
