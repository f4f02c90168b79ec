"""After the window closes: the roll to the secretary, reminders to confirm, escalation upwards, group notices.

All of it is queued in the outbox with stable dedup keys, so running the sweep again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.outbox_kinds import OutboxKind
from storage import models
from storage.models import ActivityKind, ActivityStatus
from storage.repositories import members as member_repo
from storage.repositories import outbox
from storage.services.actors import OrgTree
from storage.services.attendance import approvers_of
from storage.services.views import (checkin_window, latest_closing_delay, latest_opening_delay,
                                    longest_opening_lead)

if TYPE_CHECKING:
    from schedules.catalog import Catalog, Obligation

__all__ = ["Timeline", "announcement_span", "enqueue_followups", "escalation_delays", "longest_delay",
           "next_checkin_opening", "next_moment", "timeline"]

NAG_AFTER = timedelta(days=1)  # after the window closed, remind the secretary to confirm
ESCALATE_AFTER = timedelta(days=3)  # then tell the upper organisation's committee (unless the catalog says)
ANNOUNCE_BEFORE = timedelta(days=1)  # the branch group's announcement goes out a day ahead
# The sweep queues a group announcement up to this long before it is due; the outbox holds it until its moment.
ANNOUNCE_QUEUED_AHEAD = timedelta(hours=1)
# How long after a meeting's last follow-up moment the sweep still catches up on it (a bot that was down sends
# the roll, nag and escalation it missed); the sweep looks back this much further than `_reach`.
LOOKBACK = timedelta(days=14)


def escalation_delays(catalog: "Catalog | None", tree: OrgTree) -> Callable[[models.Activity], timedelta]:
    """How long after its window closes an unconfirmed meeting goes to the committee above: its catalog
    entry's `escalate_after` as it applies to the organisation (overrides included), else ESCALATE_AFTER."""
    entries: dict[int, dict[str, "Obligation"]] = {}

    def delay(activity: models.Activity) -> timedelta:
        if catalog is None or activity.obligation is None:
            return ESCALATE_AFTER
        if activity.org_id not in entries:
            entries[activity.org_id] = catalog.for_org(tree.lineage_codes(activity.org_id))
        entry = entries[activity.org_id].get(activity.obligation)
        return entry.escalate_after if entry is not None and entry.escalate_after is not None else ESCALATE_AFTER

    return delay


def longest_delay(catalog: "Catalog | None") -> timedelta:
    """The longest a follow-up of a meeting comes after its window closed: the nag, the default escalation, or
    the longest `escalate_after` the catalog gives any organisation's entry (what `escalation_delays` can
    answer)."""
    delays = [NAG_AFTER, ESCALATE_AFTER]
    if catalog is not None and (longest := catalog.longest_escalate_after()) is not None:
        delays.append(longest)
    return max(delays)


@dataclass(frozen=True, slots=True)
class Timeline:
    """What happens around one meeting, and when: the group's announcement, the check-in window opening, its
    close (the roll to the secretaries), then, while nobody confirmed it, the nag and the escalation upwards
    (None for a meeting that asks no confirmation)."""

    announce: datetime
    opens: datetime
    closes: datetime
    nag: datetime | None
    escalate: datetime | None

    @property
    def moments(self) -> tuple[datetime, ...]:
        return tuple(m for m in (self.announce, self.opens, self.closes, self.nag, self.escalate) if m is not None)


def announcement_span(activity: models.Activity) -> tuple[datetime, datetime]:
    """When the branch group's announcement of a meeting is due, and until when it may still go out.

    Due a day ahead (ANNOUNCE_BEFORE); when its check-in window closes before that, as the window opens.
    Useful until the window closes, and never after (the card is for checking in). A due moment already
    passed when the meeting is followed up (planned or moved at short notice) means as soon as possible:
    the sweep queues it for now, the dispatcher holds it for quiet hours like any send, and drops it once
    the window has closed (`storage.services.delivery.check_claimed`)."""
    opens, closes = checkin_window(activity)
    usual = activity.starts_at - ANNOUNCE_BEFORE
    return (usual if usual < closes else opens), closes


def timeline(activity: models.Activity, escalate_after: timedelta) -> Timeline:
    """The follow-up timeline of a meeting, the one both the sweep (`enqueue_followups`) and the sandbox's
    clock (`next_moment`) read; `escalate_after` is `escalation_delays(...)(activity)`."""
    opens, closes = checkin_window(activity)
    announce = announcement_span(activity)[0]
    if not activity.requires_confirmation:
        return Timeline(announce, opens, closes, None, None)
    return Timeline(announce, opens, closes, closes + NAG_AFTER, closes + escalate_after)


# --- the follow-up timeline, for a clock that jumps (the sandbox) -----------------------------------


def _scheduled_meeting_filter(starting_after: datetime | None = None) -> tuple:
    scheduled = (models.Activity.kind == ActivityKind.MEETING.value,
                 models.Activity.status == ActivityStatus.SCHEDULED.value)
    return scheduled if starting_after is None else (*scheduled, models.Activity.starts_at > starting_after)


def _opening_reach(session: Session) -> timedelta:
    """How long after its start a scheduled meeting's window opens at most (by the window rule over the stored
    windows, `views.latest_opening_delay`): a meeting that started less long ago may still open."""
    latest = session.scalar(select(func.max(models.Activity.checkin_opens_minutes))
                            .where(*_scheduled_meeting_filter()))
    return latest_opening_delay(latest)


def _reach(session: Session, catalog: "Catalog | None") -> timedelta:
    """How long after its start a scheduled meeting's last follow-up moment comes at most: its window's latest
    close (by the window rule over the stored windows, `views.latest_closing_delay`) and then the longest nag or
    escalation in force (`longest_delay`). A meeting that started longer ago has nothing left to happen."""
    latest = session.scalar(select(func.max(models.Activity.checkin_closes_minutes))
                            .where(*_scheduled_meeting_filter()))
    return latest_closing_delay(latest) + longest_delay(catalog)


def _scheduled_meetings(session: Session, starting_after: datetime, page: int = 500) -> Iterator[models.Activity]:
    """Scheduled meetings in order of start, read a page at a time (the caller stops when it has its answer)."""
    offset = 0
    while True:
        rows = session.scalars(select(models.Activity).where(*_scheduled_meeting_filter(starting_after))
                               .order_by(models.Activity.starts_at, models.Activity.id).offset(offset).limit(page)).all()
        yield from rows
        if len(rows) < page:
            return
        offset += page


def _longest_lead(session: Session, starting_after: datetime, *, announcement: bool) -> timedelta:
    """How long before its start any of these meetings has its first moment: its window's opening (by the
    window rule, `views.longest_opening_lead`, over the stored windows) or, with `announcement`, the group's
    announcement. Meetings in start order whose start minus this is past an answer cannot better it, and the
    sweep (`enqueue_followups`) looks this far ahead."""
    earliest = session.scalar(select(func.min(models.Activity.checkin_opens_minutes))
                              .where(*_scheduled_meeting_filter(starting_after)))
    lead = longest_opening_lead(earliest)
    return max(lead, ANNOUNCE_BEFORE) if announcement else lead


def next_checkin_opening(session: Session, after: datetime) -> datetime | None:
    """The next moment a meeting's check-in window opens (the person may press 签到 from then on)."""
    best: datetime | None = None
    starting_after = after - _opening_reach(session)  # a window may open after its meeting began
    lead = _longest_lead(session, starting_after, announcement=False)
    for activity in _scheduled_meetings(session, starting_after):
        if best is not None and activity.starts_at - lead > best:
            break  # no later meeting's window opens before this one
        opens = checkin_window(activity)[0]
        if opens > after and (best is None or opens < best):
            best = opens
    return best


def next_moment(session: Session, after: datetime, catalog: "Catalog | None" = None) -> datetime | None:
    """The next moment something happens around a meeting (its `timeline`): a group announcement a day
    ahead, the check-in window opening, the roll when it closes, the nag a day later, the escalation
    `escalate_after` later.

    The follow-up sweep runs on a real-time interval, so a moved clock (the sandbox's time control) stops at
    these moments and runs it, or a jump would pass a window's close without the secretary getting the roll.
    """
    best: datetime | None = None
    escalate_after = escalation_delays(catalog, OrgTree.load(session)) if catalog is not None else (
        lambda _activity: ESCALATE_AFTER)
    starting_after = after - _reach(session, catalog)
    lead = _longest_lead(session, starting_after, announcement=True)
    for activity in _scheduled_meetings(session, starting_after):
        if best is not None and activity.starts_at - lead > best:
            break  # every later meeting's moments come after this one (none precedes its opening or announcement)
        for moment in timeline(activity, escalate_after(activity)).moments:
            if moment > after and (best is None or moment < best):
                best = moment
    return best


def committee_above(session: Session, org_id: int, tree: OrgTree) -> list[int]:
    """The upper committee of the nearest organisation above `org_id` that has one seated (whom an unconfirmed
    meeting or an overdue 整改 item is escalated to)."""
    for ancestor in tree.ancestors(org_id):
        ids = member_repo.upper_committee_ids(session, [ancestor])
        if ids:
            return ids
    return []


def _keyed(kind: OutboxKind, activity: models.Activity, recipient: str) -> dict:
    """The dedup key of a follow-up of the activity's current revision: after a move, the new time gets its
    own announcement, roll and nags (revision 0 keeps the keys rows were written with before)."""
    revision = activity.revision or 0
    suffix = f":r{revision}" if revision else ""
    return {"dedup_key": f"{kind}:{activity.id}{suffix}:{recipient}"}


def _to_member(kind: OutboxKind, activity: models.Activity, member_id: int, due_at: datetime, priority: int,
               payload: dict | None = None) -> outbox.NewMessage:
    recipient = outbox.member_recipient(member_id)
    return outbox.NewMessage(
        recipient=recipient, due_at=due_at, kind=kind, activity_id=activity.id, member_id=member_id,
        priority=priority, payload=payload or {}, **_keyed(kind, activity, recipient),
    )


def enqueue_followups(session: Session, now: datetime, activity_ids: Collection[int] | None = None, *,
                      catalog: "Catalog | None" = None) -> int:
    """Queues what is due around activities (only these, with `activity_ids`: right after a person changed
    them); returns how many new outbox rows were created. `catalog` (the deployment's) says each meeting's
    `escalate_after`; without it every meeting escalates ESCALATE_AFTER after its window closed."""
    tree = OrgTree.load(session)
    escalate_after = escalation_delays(catalog, tree)
    # Forward, as far as the earliest first moment of a meeting's timeline can precede its start (its window's
    # opening, which precedes its close, or the announcement): a window that closes days before the start gets
    # its roll at the close, not once the meeting is a day away.
    lead = _longest_lead(session, now, announcement=True)
    query = select(models.Activity).where(
        *_scheduled_meeting_filter(),
        models.Activity.starts_at >= now - _reach(session, catalog) - LOOKBACK,
        models.Activity.starts_at < now + lead + ANNOUNCE_QUEUED_AHEAD,
    )
    if activity_ids is not None:
        query = query.where(models.Activity.id.in_(list(activity_ids)))
    # In meeting order: the messages are queued (and, due together, sent) in the order the meetings come, not
    # in whatever order the table's rows happen to lie.
    activities = session.scalars(query.order_by(models.Activity.starts_at, models.Activity.id)).all()
    group_chats = dict(session.execute(
        select(models.Organization.id, models.Organization.group_chat_id).where(
            models.Organization.group_chat_id.is_not(None))
    ).all())
    messages: list[outbox.NewMessage] = []
    for activity in activities:
        line = timeline(activity, escalate_after(activity))
        chat_id = group_chats.get(activity.org_id) or group_chats.get(tree.parent.get(activity.org_id))
        announce, until = announcement_span(activity)  # queued from shortly before it is due until then
        if chat_id is not None and activity.member_id is None and announce - ANNOUNCE_QUEUED_AHEAD < now < until:
            recipient = outbox.chat_recipient(chat_id)
            messages.append(outbox.NewMessage(
                recipient=recipient, due_at=max(now, announce), kind=OutboxKind.GROUP_ANNOUNCEMENT,
                activity_id=activity.id, chat_id=chat_id, priority=50,
                **_keyed(OutboxKind.GROUP_ANNOUNCEMENT, activity, recipient),
            ))
        if now < line.closes:
            continue
        approvers = [a.member_id for a in approvers_of(session, activity.org_id, tree)]
        if activity.summary_sent_at is None:
            messages += [_to_member(OutboxKind.ROLL_SUMMARY, activity, m, now, 10) for m in approvers]
            activity.summary_sent_at = now
        if line.nag is not None and now >= line.nag:
            messages += [_to_member(OutboxKind.CONFIRM_NAG, activity, m, now, 20) for m in approvers]
        if line.escalate is not None and now >= line.escalate:
            messages += [_to_member(OutboxKind.CONFIRM_ESCALATION, activity, m, now, 20,
                                    {"org": tree.name.get(activity.org_id, "")})
                         for m in committee_above(session, activity.org_id, tree)]
    session.flush()
    return outbox.enqueue(session, messages) if messages else 0
