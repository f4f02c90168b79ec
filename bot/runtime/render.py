"""The one place where an outbox row becomes the text (and buttons) a person reads: one renderer per kind.

`OutboxRenderers` is built at wiring time (bot.handlers.outbox_renderers) from every kind's renderer and
handed to the dispatcher; a kind of `storage.outbox_kinds.OutboxKind` without one refuses to be built, so
the bot refuses to start rather than leave a kind of message unsendable. Every renderer reads the database
as it is when the row is sent; payloads carry facts only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import texts
from schedules.audience import Audience, Part
from storage import models
from storage.outbox_kinds import OutboxKind
from storage.repositories import activities as activity_repo
from storage.repositories import members as member_repo
from storage.repositories.outbox import ClaimedMessage, DeliveredMessage
from storage.services.views import display_title
from storage.services import queries
from storage.services.actors import OrgTree, actor_from_member
from storage.services.audience import StoredAudience, target_of


# (session, claimed row, the deployment's zone, the moment it is sent) -> (text, reply_markup or None)
Renderer = Callable[[Session, ClaimedMessage, ZoneInfo, datetime], tuple[str, Any]]
# (session, row, activity) -> reply_markup or None: the buttons under a reminder (check-in / leave).
ReminderMarkup = Callable[[Session, ClaimedMessage, models.Activity], Any]


class MissingRenderers(RuntimeError):
    """Some outbox kinds have no renderer: the bot must not start (their rows could never be sent)."""

    def __init__(self, kinds: list[OutboxKind]) -> None:
        self.kinds = kinds
        super().__init__("outbox kinds without a renderer: " + ", ".join(kind.value for kind in kinds))


class OutboxRenderers:
    """Every outbox kind's renderer, complete or refused at construction."""

    def __init__(self, renderers: Mapping[OutboxKind, Renderer]) -> None:
        unknown = [kind for kind in renderers if not isinstance(kind, OutboxKind)]
        if unknown:
            raise ValueError(f"renderers for kinds that are not OutboxKinds: {unknown}")
        missing = [kind for kind in OutboxKind if kind not in renderers]
        if missing:
            raise MissingRenderers(missing)
        self._by_kind: dict[str, Renderer] = {kind.value: renderer for kind, renderer in renderers.items()}

    def render(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
               now: datetime | None = None) -> tuple[str, Any | None]:
        """(text, reply_markup or None) for a claimed row sent at `now` (default: when it was due)."""
        return self._by_kind[row.kind](session, row, zone, now or row.due_at)


def reminder_as_sent(session: Session, delivered: DeliveredMessage, zone: ZoneInfo) -> str:
    """A delivered reminder's text as it was sent: rendered again as at its claim, when the dispatcher rendered
    it (the activity as it stands; `texts.until` counted from then)."""
    return CoreViews().reminder(session, delivered.row, zone, delivered.rendered_at)[0]


def _zone_for(session: Session, org_id: int | None, default: ZoneInfo) -> ZoneInfo:
    org = session.get(models.Organization, org_id) if org_id else None
    return activity_repo.org_zone(org, default) if org is not None else default


def _missed_names(session: Session, missed: list[dict[str, Any]]) -> list[str]:
    """The missed members' names as they are now, sorted; rows queued before payloads held ids carry names."""
    current = member_repo.names_by_id(session, (entry.get("member_id") for entry in missed))
    return sorted(current.get(int(entry["member_id"]), "") if entry.get("member_id") is not None
                  else str(entry.get("name", "")) for entry in missed)


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class CoreViews:
    """The kinds the runtime and the services queue: reminders, missed and unreachable notices, change and
    calendar notices. `reminder_markup` gives a reminder its buttons (the chat layer's, wired in)."""

    def __init__(self, reminder_markup: ReminderMarkup | None = None) -> None:
        self._reminder_markup = reminder_markup

    def renderers(self) -> dict[OutboxKind, Renderer]:
        return {
            OutboxKind.REMINDER: self.reminder,
            OutboxKind.MISSED_SUMMARY: self.missed_summary,
            OutboxKind.UNREACHABLE_NOTICE: self.unreachable,
            OutboxKind.CHANGE_NOTICE: self.change_notice,
            OutboxKind.CALENDAR_PROVISIONAL: self.calendar_provisional,
            OutboxKind.CALENDAR_REPLANNED: self.calendar_replanned,
        }

    def reminder(self, session: Session, row: ClaimedMessage, zone: ZoneInfo, now: datetime) -> tuple[str, Any]:
        activity = session.get(models.Activity, row.activity_id) if row.activity_id else None
        if activity is None:
            return row.payload.get("text", texts.REMINDER_FALLBACK), None
        org = session.get(models.Organization, activity.org_id)
        zone = activity_repo.org_zone(org, zone) if org is not None else zone
        if activity.member_id is not None and row.member_id is not None:
            personal = _render_personal_item(session, row, activity, org, zone)
            if personal is not None:
                return personal, None
        digest = queries.supervision_digest(session, activity, row.member_id, zone)
        text = texts.reminder(
            display_title(activity), activity.starts_at, zone, now, tentative=activity.tentative,
            org_name=org.name if org is not None else None, place=activity.place, agenda=activity.agenda,
            moved_from=activity.moved_from,
            # the cycle's figures: the one completion computation
            digest=texts.supervision_digest(digest) if digest is not None else None,
            meeting=activity.kind == models.ActivityKind.MEETING.value)
        markup = self._reminder_markup(session, row, activity) if self._reminder_markup is not None else None
        return text, markup

    def missed_summary(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
                       now: datetime) -> tuple[str, Any]:
        activity = session.get(models.Activity, row.activity_id) if row.activity_id else None
        title = display_title(activity) if activity else texts.ACTIVITY_FALLBACK
        when = texts.moment(activity.starts_at, _zone_for(session, activity.org_id, zone)) if activity else ""
        names = _missed_names(session, row.payload.get("missed", []))
        # Rows written before the cause was recorded were all about downtime.
        return texts.missed_summary(title, when, names, str(row.payload.get("cause") or "downtime")), None

    def unreachable(self, session: Session, row: ClaimedMessage, zone: ZoneInfo, now: datetime) -> tuple[str, Any]:
        member_id = row.payload.get("unreachable_member_id")
        member = session.get(models.Member, int(member_id)) if member_id else None
        name = member.name if member is not None else row.payload.get("name", "")
        number = member.member_no if member is not None else row.payload.get("member_no", "")
        return texts.unreachable_notice(name, number, str(row.payload.get("reason", ""))), None

    def change_notice(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
                      now: datetime) -> tuple[str, Any]:
        """From what the member last heard (`before`) to the activity as it stands now."""
        if "before" not in row.payload:  # queued before notices carried facts (migration 0004_outbox)
            return str(row.payload.get("text") or texts.NOTICE_FALLBACK), None
        activity = session.get(models.Activity, row.activity_id) if row.activity_id else None
        before = _moment(row.payload["before"])
        assert before is not None
        if activity is None:
            return texts.change_notice(texts.ACTIVITY_FALLBACK, before, None, None, zone), None
        zone = _zone_for(session, activity.org_id, zone)
        cancelled = activity.status == models.ActivityStatus.CANCELLED.value
        after = None if cancelled else activity.starts_at
        return texts.change_notice(display_title(activity), before, after, activity.place, zone), None

    def calendar_provisional(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
                             now: datetime) -> tuple[str, Any]:
        if "year" not in row.payload:
            return str(row.payload.get("text") or texts.NOTICE_FALLBACK), None
        return texts.calendar_provisional(int(row.payload["year"])), None

    def calendar_replanned(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
                           now: datetime) -> tuple[str, Any]:
        if "changes" not in row.payload:  # queued before notices carried facts
            return str(row.payload.get("text") or texts.NOTICE_FALLBACK), None
        tree = OrgTree.load(session)
        lines: list[tuple[str, str, datetime, datetime | None]] = []
        years: set[int] = set()
        for change in row.payload["changes"]:
            before = _moment(change["before"])
            assert before is not None
            years.add(before.astimezone(zone).year)
            activity = session.get(models.Activity, int(change["activity_id"]))
            if activity is None:
                continue
            # As the activity stands now: a later move or a cancel since the summary was queued shows.
            after = None if activity.status == models.ActivityStatus.CANCELLED.value else activity.starts_at
            lines.append((tree.name.get(activity.org_id, ""), activity.title, before, after))
        return texts.calendar_replanned(sorted(years), lines, zone), None


def _render_personal_item(session: Session, row: ClaimedMessage, activity: models.Activity,
                          org: models.Organization | None, zone: ZoneInfo) -> str | None:
    """A political birthday is a greeting to its member on the day, and the checklist to the secretary at
    the start of the month (schedules.audience decides who is which); other per-member items read as
    reminders (None)."""
    recipient = session.get(models.Member, row.member_id)
    subject = session.get(models.Member, activity.member_id)
    if recipient is None or subject is None or subject.joined_on is None:
        return None
    target = target_of(activity)
    if target.audience is not Audience.MEMBER_AND_SECRETARY:
        return None
    part = StoredAudience(session, OrgTree.load(session)).part(actor_from_member(recipient), activity)
    day = activity.starts_at.astimezone(zone).date()
    joined = subject.joined_on
    years = day.year - joined.year
    if part is Part.SUBJECT:
        return texts.birthday_greeting(subject.name, joined, years, org.name if org is not None else None)
    if part is Part.SECRETARY:
        items = session.scalars(select(models.ChecklistItem.label).where(
            models.ChecklistItem.activity_id == activity.id).order_by(models.ChecklistItem.position)).all()
        return texts.birthday_checklist_notice(subject.name, day, years, items)
    return None
