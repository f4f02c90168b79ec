"""问题整改: record items, owners' progress, 销号 by the branch's secretary, reopening by the upper committee,
the reminders the catalog asks for, and the lists the 台账 and the supervision cycle show.

Permissions come from the actor's seats (`storage.services.actors`): whoever runs the branch records and
closes its items; an upper committee seat over the branch raises items for it and reopens the ones it raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from schedules import roles
from schedules.roster import MemberStatus
from schedules.timeparse import ParsedDay, TimeParseError, parse_deadline
from storage.errors import AlreadyHandled, InvalidInput, NotFound, PermissionDenied
from storage.outbox_kinds import OutboxKind
from storage import models
from storage.models import OutboxState, RectificationNoteKind, RectificationSource
from storage.repositories import activities as activity_repo
from storage.repositories import attendance as attendance_repo
from storage.repositories import bindings as binding_repo
from storage.repositories import members as member_repo
from storage.repositories import outbox
from storage.services.actors import Actor, OrgTree, require_manager, visible_org_ids
from storage.services.attendance import approvers_of
from storage.services.followup import committee_above
from storage.services.permissions import audit_fields
from storage.text import typed_text

# Outbox kinds of this module (rendered by the chat layer's outbox views).
# Outbox kinds (storage.outbox_kinds): RECTIFICATION_DUE to each owner at each lead before the deadline;
# _OVERDUE to the branch's secretary, when overdue and again every `overdue_every`; _ESCALATION to the upper
# committee `escalate_after` past the deadline; _SUPERVISION (每季一督导) the overdue items of every branch below;
# _CHANGED: 销号 told to the upper committee that raised it, reopening told to the branch.

SOURCES: tuple[RectificationSource, ...] = tuple(RectificationSource)
NOTICE_TIME = time(9, 0)  # reminders about a day go out at 09:00 local
PENDING_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class DeadlineRules:
    """The catalog's `rectification` entry: leads before the deadline, repeat while overdue, escalation."""

    leads: tuple[timedelta, ...] = (timedelta(days=7), timedelta(days=1))
    overdue_every: timedelta | None = timedelta(days=7)
    escalate_after: timedelta | None = timedelta(days=7)

    @classmethod
    def of(cls, obligation: object) -> "DeadlineRules":
        """From a `schedules.catalog.Obligation` (reminders, overdue_every, escalate_after)."""
        return cls(tuple(getattr(obligation, "reminders")), getattr(obligation, "overdue_every"),
                   getattr(obligation, "escalate_after"))


@dataclass(frozen=True)
class Note:
    kind: str
    text: str | None
    member_name: str
    at: datetime
    has_file: bool


@dataclass(frozen=True)
class ItemView:
    """One item as every reader sees it (chat, command line, workbook)."""

    id: int
    org_id: int
    org_code: str
    org_name: str
    raised_by_code: str
    raised_by_upper: bool
    problem: str
    source: str
    measures: str
    owners: tuple[tuple[int, str], ...]  # (member id, name)
    due_on: date
    deadline_text: str
    closed_at: datetime | None
    closed_by: str | None
    evidence: str | None
    notes: tuple[Note, ...]
    created_at: datetime

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def overdue_days(self, today: date) -> int:
        """Days past the deadline (0 when not overdue or closed)."""
        return max(0, (today - self.due_on).days) if self.is_open else 0

    @property
    def owner_names(self) -> str:
        return "、".join(name for _, name in self.owners)

    @property
    def progress(self) -> tuple[Note, ...]:
        return tuple(n for n in self.notes if n.kind in (RectificationNoteKind.PROGRESS, RectificationNoteKind.PHOTO,
                                                         RectificationNoteKind.DOCUMENT))


# ---- reading ----------------------------------------------------------------------------------------------


def _views(session: Session, rows: Sequence[models.Rectification], tree: OrgTree) -> list[ItemView]:
    ids = [r.id for r in rows]
    notes: dict[int, list[models.RectificationNote]] = {}
    if ids:
        for note in session.scalars(select(models.RectificationNote).where(
                models.RectificationNote.rectification_id.in_(ids)).order_by(models.RectificationNote.id)):
            notes.setdefault(note.rectification_id, []).append(note)
    names = member_repo.names_by_id(session, [o.member_id for r in rows for o in r.owners]
                   + [r.closed_by_member_id for r in rows]
                   + [n.member_id for group in notes.values() for n in group])
    return [ItemView(
        id=r.id, org_id=r.org_id, org_code=tree.code.get(r.org_id, ""), org_name=tree.name.get(r.org_id, ""),
        raised_by_code=tree.code.get(r.raised_by_org_id, ""), raised_by_upper=r.raised_by_org_id != r.org_id,
        problem=r.problem, source=r.source, measures=r.measures,
        owners=tuple((o.member_id, names.get(o.member_id, "")) for o in r.owners),
        due_on=r.due_on, deadline_text=r.deadline_text, closed_at=r.closed_at,
        closed_by=names.get(r.closed_by_member_id) if r.closed_by_member_id else None, evidence=r.evidence,
        notes=tuple(Note(n.kind, n.text, names.get(n.member_id, "") if n.member_id else "", n.at,
                         n.telegram_file_id is not None) for n in notes.get(r.id, [])),
        created_at=r.created_at,
    ) for r in rows]


def items_for_orgs(session: Session, org_ids: Iterable[int], *, include_closed: bool = True) -> list[ItemView]:
    """Every item of these organisations, by deadline (what the 台账 and reports list)."""
    query = select(models.Rectification).where(models.Rectification.org_id.in_(set(org_ids)))
    if not include_closed:
        query = query.where(models.Rectification.closed_at.is_(None))
    rows = session.scalars(query.order_by(models.Rectification.due_on, models.Rectification.id)).all()
    return _views(session, rows, OrgTree.load(session))


def overdue_by_branch(session: Session, org_ids: Iterable[int], today: date) -> dict[int, list[ItemView]]:
    """Open items past their deadline, per branch (每季一督导, /report)."""
    found: dict[int, list[ItemView]] = {}
    for item in items_for_orgs(session, org_ids, include_closed=False):
        if item.overdue_days(today) > 0:
            found.setdefault(item.org_id, []).append(item)
    return found


def _upper_seat_over(actor: Actor, tree: OrgTree, org_id: int) -> int | None:
    """The upper organisation on whose committee the actor sits and which has `org_id` below it."""
    for org in sorted({seat.org for seat in actor.seats}):
        if org != org_id and roles.on_upper_committee(actor.seats, org) and org_id in tree.subtree(org):
            return org
    return None


def visible_items(session: Session, actor: Actor, *, include_closed: bool = False) -> list[ItemView]:
    """What the actor may see: the items of the organisations they may see (actors.visible_org_ids: a branch
    committee member their branch, an upper committee seat everything below it), and the items they own."""
    tree = OrgTree.load(session)
    org_ids = visible_org_ids(actor, tree)
    owned = set(session.scalars(select(models.RectificationOwner.rectification_id).where(
        models.RectificationOwner.member_id == actor.member_id)))
    query = select(models.Rectification).where(
        models.Rectification.org_id.in_(org_ids) | models.Rectification.id.in_(owned))
    if not include_closed:
        query = query.where(models.Rectification.closed_at.is_(None))
    rows = session.scalars(query.order_by(models.Rectification.due_on, models.Rectification.id)).all()
    return _views(session, rows, tree)


def item_view(session: Session, item_id: int) -> ItemView:
    row = session.get(models.Rectification, item_id)
    if row is None:
        raise NotFound("找不到这项整改。", item_id=item_id)
    return _views(session, [row], OrgTree.load(session))[0]


# ---- writing ----------------------------------------------------------------------------------------------


def _audit(session: Session, actor: Actor, now: datetime, action: str, item_id: int, details: dict) -> None:
    attendance_repo.add_audit(session, now=now, action=action, entity="rectification", entity_id=item_id,
                              details=details, **audit_fields(actor))


def raising_org(actor: Actor, tree: OrgTree, org_id: int) -> int:
    """The organisation in whose name the actor records an item for `org_id`: the branch, or an upper one."""
    if not tree.is_branch(org_id):
        raise InvalidInput(f"整改事项记在党支部上，{tree.name.get(org_id, '')}不是党支部。", org=tree.code.get(org_id))
    if actor.manages(org_id):
        return org_id
    upper = _upper_seat_over(actor, tree, org_id)
    if upper is None:
        raise PermissionDenied("只有本支部书记、副书记或上级党组织委员可以登记整改事项。",
                               actor=actor.member_no, org=tree.code.get(org_id))
    return upper


def source_of(text: str) -> RectificationSource:
    try:
        return RectificationSource(text.strip())
    except ValueError:
        raise InvalidInput(f"问题来源应为：{'、'.join(SOURCES)}，而不是“{text}”。") from None


def _clean(text: str, column: object, what: str) -> str:
    value = typed_text(text, column, what)
    if not value:
        raise InvalidInput(f"请写{what}。")
    return value


def branch_members(session: Session, org_id: int) -> list[models.Member]:
    """Active members of the branch (and its 党小组), in roster order: who may own an item."""
    tree = OrgTree.load(session)
    orgs = tree.with_groups([org_id])
    return list(session.scalars(select(models.Member).where(
        models.Member.status == MemberStatus.ACTIVE.value, models.Member.org_id.in_(orgs),
    ).order_by(models.Member.member_no)))


# A 整改 deadline is a day, whatever the zone: the one deadline parser reads it against the start of `today`
# in a fixed zone, and the due moment's date in that zone is the last day the item allows.
_DAY_ZONE = ZoneInfo("UTC")


def read_deadline(text: str, today: date) -> ParsedDay:
    start_of_today = datetime.combine(today, time(0), tzinfo=_DAY_ZONE)
    try:
        deadline = parse_deadline(text, start_of_today, _DAY_ZONE)
    except TimeParseError as error:
        raise InvalidInput(str(error)) from None
    return ParsedDay(day=deadline.due.astimezone(_DAY_ZONE).date(), reading=deadline.reading,
                     matched=deadline.matched)


def add_item(session: Session, actor: Actor, *, org_id: int, problem: str, source: RectificationSource,
             measures: str, owner_ids: Sequence[int], deadline: ParsedDay, now: datetime) -> ItemView:
    """Records an item (the branch's secretary, or an upper committee member for a branch below)."""
    tree = OrgTree.load(session)
    raised_by = raising_org(actor, tree, org_id)
    allowed = {m.id for m in branch_members(session, org_id)}
    owners = list(dict.fromkeys(owner_ids))
    if not owners:
        raise InvalidInput("请至少选择一名责任人。")
    strangers = [o for o in owners if o not in allowed]
    if strangers:
        raise InvalidInput("责任人须是本支部的党员。", owners=strangers)
    row = models.Rectification(
        org_id=org_id, raised_by_org_id=raised_by, problem=_clean(problem, models.Rectification.problem, "问题"), source=source.value,
        measures=_clean(measures, models.Rectification.measures, "整改措施"), due_on=deadline.day, deadline_text=deadline.matched[:64],
        reopen_count=0, created_at=now, created_by_member_id=actor.member_id,
    )
    row.owners = [models.RectificationOwner(member_id=m) for m in owners]
    session.add(row)
    session.flush()
    _audit(session, actor, now, "rectification.add", row.id, {
        "org": tree.code.get(org_id), "raised_by": tree.code.get(raised_by), "source": source.value,
        "owners": owners, "due_on": deadline.day.isoformat(),
    })
    return _views(session, [row], tree)[0]


def _item_for_update(session: Session, item_id: int) -> models.Rectification:
    row = session.get(models.Rectification, item_id, with_for_update=True)
    if row is None:
        raise NotFound("找不到这项整改。", item_id=item_id)
    return row


def _require_owner_or_manager(actor: Actor, tree: OrgTree, row: models.Rectification) -> None:
    if actor.member_id in {o.member_id for o in row.owners}:
        return
    require_manager(actor, tree, row.org_id)


def add_note(session: Session, actor: Actor, item_id: int, now: datetime, *, text: str | None = None,
             file_id: str | None = None, kind: RectificationNoteKind = RectificationNoteKind.PROGRESS) -> ItemView:
    """An owner's (or the secretary's) progress: a line of text, a photo or a file."""
    row = _item_for_update(session, item_id)
    tree = OrgTree.load(session)
    _require_owner_or_manager(actor, tree, row)
    if row.closed_at is not None:
        raise AlreadyHandled("这项整改已经销号，不再记录进展。", item_id=item_id)
    if kind is RectificationNoteKind.PROGRESS:
        text = _clean(text or "", models.RectificationNote.text, "整改进展")
    elif file_id is None:
        raise InvalidInput("没有收到文件。")
    else:  # a photo's or file's caption is typed text like any other
        text = typed_text(text, models.RectificationNote.text, "说明")
    session.add(models.RectificationNote(rectification_id=row.id, kind=kind.value, text=(text or None),
                                         telegram_file_id=file_id, member_id=actor.member_id, at=now))
    session.flush()
    _audit(session, actor, now, f"rectification.note.{kind.value}", row.id, {"has_file": file_id is not None})
    return _views(session, [row], tree)[0]


def _skip_pending_reminders(session: Session, item_id: int) -> None:
    row = models.OutboxMessage
    for kind in (OutboxKind.RECTIFICATION_DUE, OutboxKind.RECTIFICATION_OVERDUE, OutboxKind.RECTIFICATION_ESCALATION):
        session.execute(update(row).where(
            row.state == OutboxState.PENDING.value, row.kind == kind, row.dedup_key.like(f"{kind}:{item_id}:%"),
        ).values(state=OutboxState.SKIPPED.value))


def close(session: Session, actor: Actor, item_id: int, evidence: str, now: datetime) -> ItemView:
    """销号: only whoever runs the branch, with a note of the evidence; pending reminders are dropped."""
    row = _item_for_update(session, item_id)
    tree = OrgTree.load(session)
    require_manager(actor, tree, row.org_id)
    if row.closed_at is not None:
        raise AlreadyHandled("这项整改已经销号了。", item_id=item_id)
    row.evidence = _clean(evidence, models.Rectification.evidence, "销号依据")
    row.closed_at = now
    row.closed_by_member_id = actor.member_id
    session.add(models.RectificationNote(rectification_id=row.id, kind=RectificationNoteKind.CLOSED.value,
                                         text=row.evidence, member_id=actor.member_id, at=now))
    _skip_pending_reminders(session, row.id)
    session.flush()
    if row.raised_by_org_id != row.org_id:  # the committee that raised it checks the evidence (and may reopen)
        _tell(session, row, "closed", member_repo.upper_committee_ids(session, [row.raised_by_org_id]), now)
    _audit(session, actor, now, "rectification.close", row.id, {"evidence": row.evidence})
    return _views(session, [row], tree)[0]


def _tell(session: Session, row: models.Rectification, event: str, member_ids: Iterable[int], now: datetime,
          **payload: str) -> None:
    """One notice per person about a 销号 or a reopening (dedup: item, round, event, recipient)."""
    messages = []
    for member_id in dict.fromkeys(member_ids):
        recipient = outbox.member_recipient(member_id)
        messages.append(outbox.NewMessage(
            dedup_key=f"{OutboxKind.RECTIFICATION_CHANGED}:{row.id}:{row.reopen_count}:{event}:{recipient}", recipient=recipient, due_at=now,
            kind=OutboxKind.RECTIFICATION_CHANGED, member_id=member_id, priority=30, payload={"item_id": row.id, "event": event, **payload},
        ))
    outbox.enqueue(session, messages)


def _require_raiser(actor: Actor, row: models.Rectification) -> None:
    """Only a committee member of the upper organisation that raised the item may reopen it."""
    raised_by_upper = row.raised_by_org_id != row.org_id
    if not (raised_by_upper and roles.on_upper_committee(actor.seats, row.raised_by_org_id)):
        raise PermissionDenied("只有提出该整改事项的上级党组织委员可以重新打开。", actor=actor.member_no, item_id=row.id)


def reopen(session: Session, actor: Actor, item_id: int, reason: str, now: datetime, *,
           new_deadline: ParsedDay | None = None) -> ItemView:
    """The upper committee that raised a closed item reopens it, with a reason (and perhaps a new deadline)."""
    row = _item_for_update(session, item_id)
    tree = OrgTree.load(session)
    _require_raiser(actor, row)
    if row.closed_at is None:
        raise AlreadyHandled("这项整改尚未销号，无需重新打开。", item_id=item_id)
    reason = _clean(reason, models.RectificationNote.text, "重新打开的理由")
    row.closed_at = None
    row.closed_by_member_id = None
    row.evidence = None
    row.reopen_count += 1
    if new_deadline is not None:
        row.due_on, row.deadline_text = new_deadline.day, new_deadline.matched[:64]
    session.add(models.RectificationNote(rectification_id=row.id, kind=RectificationNoteKind.REOPENED.value,
                                         text=reason, member_id=actor.member_id, at=now))
    session.flush()
    managers = [r.member_id for r in approvers_of(session, row.org_id, tree)]
    _tell(session, row, "reopened", [*managers, *(o.member_id for o in row.owners)], now, reason=reason)
    _audit(session, actor, now, "rectification.reopen", row.id, {"reason": reason, "due_on": row.due_on.isoformat()})
    return _views(session, [row], tree)[0]


# ---- the chat's pending answers (a progress note, the evidence, a reason) -----------------------------------

PENDING_NOTE = "rectification_note"
PENDING_CLOSE = "rectification_close"
PENDING_REOPEN = "rectification_reopen"
PENDING_KINDS = (PENDING_NOTE, PENDING_CLOSE, PENDING_REOPEN)


def begin_answer(session: Session, actor: Actor, item_id: int, kind: str, now: datetime) -> ItemView:
    """The next text (or photo/file, for a note) the actor sends answers `kind` for the item; checked now too."""
    row = session.get(models.Rectification, item_id)
    if row is None:
        raise NotFound("找不到这项整改。", item_id=item_id)
    tree = OrgTree.load(session)
    if kind == PENDING_NOTE:
        _require_owner_or_manager(actor, tree, row)
        if row.closed_at is not None:
            raise AlreadyHandled("这项整改已经销号，不再记录进展。", item_id=item_id)
    elif kind == PENDING_CLOSE:
        require_manager(actor, tree, row.org_id)
        if row.closed_at is not None:
            raise AlreadyHandled("这项整改已经销号了。", item_id=item_id)
    elif kind == PENDING_REOPEN:
        _require_raiser(actor, row)
        if row.closed_at is None:
            raise AlreadyHandled("这项整改尚未销号，无需重新打开。", item_id=item_id)
    else:
        raise InvalidInput("不支持的操作。")
    binding_repo.set_pending_input(session, actor.telegram_user_id, kind, {"item_id": item_id}, now + PENDING_TTL)
    return _views(session, [row], tree)[0]


@dataclass(frozen=True)
class Answered:
    kind: str  # one of PENDING_KINDS
    item: ItemView


def submit_pending(session: Session, actor: Actor, now: datetime, *, text: str | None = None,
                   file_id: str | None = None, file_kind: RectificationNoteKind | None = None) -> Answered | None:
    """Feeds a message to a pending 整改 answer; None when the bot waits for something else (or nothing)."""
    if actor.telegram_user_id is None:
        return None
    pending = binding_repo.pending_input(session, actor.telegram_user_id, now)
    if pending is None or pending.kind not in PENDING_KINDS:
        return None
    item_id = int(pending.payload["item_id"])
    if pending.kind == PENDING_NOTE:
        if file_id is not None:
            item = add_note(session, actor, item_id, now, text=text, file_id=file_id,
                            kind=file_kind or RectificationNoteKind.PHOTO)
        else:
            item = add_note(session, actor, item_id, now, text=text)
        # Photos often come several at once: the wait stays open for more until it expires or is replaced.
        if file_id is None:
            binding_repo.clear_pending_input(session, actor.telegram_user_id)
        return Answered(PENDING_NOTE, item)
    if file_id is not None:
        return None  # evidence and reasons are words
    if pending.kind == PENDING_CLOSE:
        item = close(session, actor, item_id, text or "", now)
    else:
        item = reopen(session, actor, item_id, text or "", now)
    binding_repo.clear_pending_input(session, actor.telegram_user_id)
    return Answered(pending.kind, item)


# ---- reminders -------------------------------------------------------------------------------------------


def _at_nine(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, NOTICE_TIME, tzinfo=zone)


def _latest_passed(moments: dict[str, datetime], now: datetime) -> str | None:
    """Of several moments, the key of the latest one already reached (one notice, never a burst)."""
    passed = [(moment, key) for key, moment in moments.items() if moment <= now]
    return max(passed)[1] if passed else None


def _message(kind: OutboxKind, item: models.Rectification, member_id: int, tag: str, now: datetime,
             payload: dict | None = None) -> outbox.NewMessage:
    recipient = outbox.member_recipient(member_id)
    return outbox.NewMessage(
        dedup_key=f"{kind}:{item.id}:{item.reopen_count}:{tag}:{recipient}", recipient=recipient, due_at=now,
        kind=kind, member_id=member_id, priority=30, payload={"item_id": item.id, **(payload or {})},
    )


def reminder_messages(session: Session, now: datetime, rules: DeadlineRules, default_zone: ZoneInfo,
                      tree: OrgTree) -> list[outbox.NewMessage]:
    """What is due now for open items: owners before the deadline, the secretary when overdue, then upwards.

    Each notice has a stable dedup key (item, round, moment, recipient), so the sweep may run any number of
    times. Of several moments already passed (an item recorded late, downtime) only the latest is sent.
    """
    rows = session.scalars(select(models.Rectification).where(models.Rectification.closed_at.is_(None))).all()
    messages: list[outbox.NewMessage] = []
    zones: dict[int, ZoneInfo] = {}
    secretaries: dict[int, list[int]] = {}  # per organisation, read once per sweep
    uppers: dict[int, list[int]] = {}
    for item in rows:
        if item.org_id not in zones:
            org = session.get(models.Organization, item.org_id)
            zones[item.org_id] = activity_repo.org_zone(org, default_zone) if org else default_zone
        zone = zones[item.org_id]
        end = _at_nine(item.due_on, zone)  # the deadline day's morning: "1天" before is the day before
        after = _at_nine(item.due_on + timedelta(days=1), zone)  # the first morning it is overdue
        if now < datetime.combine(item.due_on + timedelta(days=1), time(0), tzinfo=zone):
            leads = {f"lead{int(lead.total_seconds() // 60)}": end - lead for lead in rules.leads}
            tag = _latest_passed(leads, now)
            if tag is not None:
                messages += [_message(OutboxKind.RECTIFICATION_DUE, item, o.member_id, tag, now) for o in item.owners]
            continue
        if now < after:
            continue  # the night after the deadline: the overdue notice waits for the morning
        overdue = {"overdue0": after}
        if rules.overdue_every is not None:
            step, nth = rules.overdue_every, 1
            while after + step * nth <= now:
                overdue[f"overdue{nth}"] = after + step * nth
                nth += 1
        tag = _latest_passed(overdue, now)
        if tag is not None:
            if item.org_id not in secretaries:
                secretaries[item.org_id] = [r.member_id for r in approvers_of(session, item.org_id, tree)]
            messages += [_message(OutboxKind.RECTIFICATION_OVERDUE, item, m, tag, now) for m in secretaries[item.org_id]]
        if rules.escalate_after is not None and now >= end + rules.escalate_after:
            if item.org_id not in uppers:
                uppers[item.org_id] = committee_above(session, item.org_id, tree)
            messages += [_message(OutboxKind.RECTIFICATION_ESCALATION, item, m, "escalate", now) for m in uppers[item.org_id]]
    return messages


def supervision_messages(session: Session, now: datetime, tree: OrgTree) -> list[outbox.NewMessage]:
    """On the day of a 每季一督导, its committee gets the overdue 整改 items of every branch below."""
    activities = session.scalars(select(models.Activity).where(
        models.Activity.obligation == "quarterly_supervision",
        models.Activity.status == models.ActivityStatus.SCHEDULED.value,
        models.Activity.starts_at <= now, models.Activity.starts_at > now - timedelta(days=1),
    )).all()
    messages: list[outbox.NewMessage] = []
    for activity in activities:
        for member_id in member_repo.upper_committee_ids(session, [activity.org_id]):
            recipient = outbox.member_recipient(member_id)
            messages.append(outbox.NewMessage(
                dedup_key=f"{OutboxKind.RECTIFICATION_SUPERVISION}:{activity.id}:{recipient}", recipient=recipient, due_at=now,
                kind=OutboxKind.RECTIFICATION_SUPERVISION, activity_id=activity.id, member_id=member_id, priority=40,
                payload={"org_id": activity.org_id},
            ))
    return messages


def enqueue_reminders(session: Session, now: datetime, rules: DeadlineRules, default_zone: ZoneInfo) -> int:
    """Queues the 整改 notices due now (idempotent); returns how many rows were new."""
    tree = OrgTree.load(session)
    messages = reminder_messages(session, now, rules, default_zone, tree) + supervision_messages(session, now, tree)
    return outbox.enqueue(session, messages) if messages else 0


# ---- /rectify in chat: a draft filled in step by step, kept in pending_inputs (survives restarts) ----------

PENDING_DRAFT = "rectification_draft"
DRAFT_TTL = timedelta(hours=2)
STEP_PROBLEM, STEP_SOURCE, STEP_MEASURES, STEP_OWNERS, STEP_DEADLINE = "problem", "source", "measures", "owners", "deadline"


@dataclass(frozen=True)
class DraftView:
    step: str
    org_id: int
    org_name: str
    problem: str | None
    source: str | None
    measures: str | None
    candidates: tuple[tuple[int, str, bool], ...]  # (member id, name, chosen) while choosing owners


def _draft_view(session: Session, payload: dict, tree: OrgTree) -> DraftView:
    org_id = int(payload["org_id"])
    candidates: tuple[tuple[int, str, bool], ...] = ()
    if payload["step"] == STEP_OWNERS:
        chosen = set(payload.get("owners", []))
        candidates = tuple((m.id, m.name, m.id in chosen) for m in branch_members(session, org_id))
    return DraftView(payload["step"], org_id, tree.name.get(org_id, ""), payload.get("problem"),
                     payload.get("source"), payload.get("measures"), candidates)


def start_draft(session: Session, actor: Actor, now: datetime, org_code: str | None = None) -> DraftView:
    """/rectify [支部编码]: the branch is the one the actor runs, or the one named below an upper seat."""
    tree = OrgTree.load(session)
    if org_code:
        org_id = tree.id_by_code.get(org_code.strip())
        if org_id is None:
            raise NotFound(f"没有组织编码 {org_code}。")
    else:
        branches = sorted(o for o in actor.managed_org_ids if tree.is_branch(o))
        if len(branches) != 1:
            raise InvalidInput("请写明支部编码，例如：/rectify B01")
        org_id = branches[0]
    raising_org(actor, tree, org_id)
    payload = {"step": STEP_PROBLEM, "org_id": org_id}
    binding_repo.set_pending_input(session, actor.telegram_user_id, PENDING_DRAFT, payload, now + DRAFT_TTL)
    return _draft_view(session, payload, tree)


def _draft(session: Session, actor: Actor, now: datetime, step: str | None = None) -> models.PendingInput:
    pending = binding_repo.pending_input(session, actor.telegram_user_id, now) if actor.telegram_user_id else None
    if pending is None or pending.kind != PENDING_DRAFT:
        raise AlreadyHandled("这份整改登记已经结束或过期，请重新发送 /rectify。")
    if step is not None and pending.payload.get("step") != step:
        raise AlreadyHandled("请按最新的提示操作。")
    return pending


def _save(session: Session, actor: Actor, pending: models.PendingInput, payload: dict, now: datetime) -> DraftView:
    binding_repo.set_pending_input(session, actor.telegram_user_id, PENDING_DRAFT, payload, now + DRAFT_TTL)
    return _draft_view(session, payload, OrgTree.load(session))


def draft_source(session: Session, actor: Actor, index: int, now: datetime) -> DraftView:
    pending = _draft(session, actor, now, STEP_SOURCE)
    if not 0 <= index < len(SOURCES):
        raise InvalidInput("没有这个来源。")
    return _save(session, actor, pending, {**pending.payload, "source": SOURCES[index].value,
                                           "step": STEP_MEASURES}, now)


def draft_toggle_owner(session: Session, actor: Actor, member_id: int, now: datetime) -> DraftView:
    pending = _draft(session, actor, now, STEP_OWNERS)
    org_id = int(pending.payload["org_id"])
    if member_id not in {m.id for m in branch_members(session, org_id)}:
        raise InvalidInput("责任人须是本支部的党员。")
    owners = list(pending.payload.get("owners", []))
    owners = [o for o in owners if o != member_id] if member_id in owners else [*owners, member_id]
    return _save(session, actor, pending, {**pending.payload, "owners": owners}, now)


def draft_owners_done(session: Session, actor: Actor, now: datetime) -> DraftView:
    pending = _draft(session, actor, now, STEP_OWNERS)
    if not pending.payload.get("owners"):
        raise InvalidInput("请至少选择一名责任人。")
    return _save(session, actor, pending, {**pending.payload, "step": STEP_DEADLINE}, now)


def draft_text(session: Session, actor: Actor, text: str, now: datetime, today: date) -> DraftView | ItemView:
    """The draft's next typed answer: the problem, the measures or the deadline (which records the item)."""
    pending = _draft(session, actor, now)
    payload = dict(pending.payload)
    step = payload["step"]
    if step == STEP_PROBLEM:
        return _save(session, actor, pending, {**payload, "problem": _clean(text, models.Rectification.problem, "问题"), "step": STEP_SOURCE}, now)
    if step == STEP_MEASURES:
        return _save(session, actor, pending, {**payload, "measures": _clean(text, models.Rectification.measures, "整改措施"),
                                               "step": STEP_OWNERS, "owners": []}, now)
    if step == STEP_DEADLINE:
        deadline = read_deadline(text, today)
        item = add_item(session, actor, org_id=int(payload["org_id"]), problem=payload["problem"],
                        source=source_of(payload["source"]), measures=payload["measures"],
                        owner_ids=[int(o) for o in payload["owners"]], deadline=deadline, now=now)
        binding_repo.clear_pending_input(session, actor.telegram_user_id)
        return item
    raise InvalidInput("请点上面消息中的按钮选择。")


def waits_for_draft_text(session: Session, actor: Actor, now: datetime) -> bool:
    if actor.telegram_user_id is None:
        return False
    pending = binding_repo.pending_input(session, actor.telegram_user_id, now)
    return pending is not None and pending.kind == PENDING_DRAFT


ACTION_NOTE, ACTION_CLOSE, ACTION_REOPEN = "note", "close", "reopen"


def actions_for(actor: Actor, tree: OrgTree, item: ItemView) -> tuple[str, ...]:
    """The buttons an item's card offers this reader (each press is checked again by the service)."""
    actions = []
    if item.is_open:
        if actor.member_id in {m for m, _ in item.owners} or actor.manages(item.org_id):
            actions.append(ACTION_NOTE)
        if actor.manages(item.org_id):
            actions.append(ACTION_CLOSE)
    elif item.raised_by_upper and roles.on_upper_committee(actor.seats, tree.id_by_code.get(item.raised_by_code)):
        actions.append(ACTION_REOPEN)
    return tuple(actions)


def cards_for(session: Session, actor: Actor, *, include_closed: bool = False) -> list[tuple[ItemView, tuple[str, ...]]]:
    """/rectifications: the items the actor may see, each with the actions the actor may take."""
    tree = OrgTree.load(session)
    items = sorted(visible_items(session, actor, include_closed=include_closed), key=lambda i: (not i.is_open, i.due_on))
    return [(item, actions_for(actor, tree, item)) for item in items]
