"""How the chat's outbox kinds look when the dispatcher sends them: rolls, nags, group announcements, buttons."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import keyboards, texts
from bot.callbacks import CallbackSigner
from bot.handlers.rectify import NoticeViews
from bot.runtime.render import CoreViews, OutboxRenderers, Renderer
from storage import models
from storage.outbox_kinds import OutboxKind
from storage.services.views import display_title
from storage.repositories.outbox import ClaimedMessage
from storage.repositories import attendance as attendance_repo
from storage.services import attendance as attendance_svc


class OutboxViews:
    """Renderers bound to this deployment's signer and bot name (buttons need both)."""

    def __init__(self, signer: CallbackSigner, bot_username: Callable[[], str | None],
                 self_checkin: Callable[[Session, int], bool] | None = None) -> None:
        self.signer = signer
        self._bot_username = bot_username  # known once the bot has called getMe
        # Whether an organisation's members check themselves in (ChatContext.self_checkin_for); None: everywhere.
        self._self_checkin = self_checkin

    def self_checkin(self, session: Session, org_id: int) -> bool:
        return True if self._self_checkin is None else self._self_checkin(session, org_id)

    @property
    def bot_username(self) -> str | None:
        return self._bot_username()

    def reminder_markup(self, session: Session, row: ClaimedMessage, activity: models.Activity) -> Any:
        """Check-in / leave under a private reminder of a meeting (check-in is re-checked against the window)."""
        if activity.kind != models.ActivityKind.MEETING.value or row.member_id is None:
            return None
        return keyboards.reminder(self.signer, activity.id, self_checkin=self.self_checkin(session, activity.org_id),
                                  revision=activity.revision or 0)

    def roll_summary(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
                     now: datetime) -> tuple[str, Any]:
        roll = attendance_svc.roll_for_system(session, row.activity_id)
        if roll.activity.status != models.ActivityStatus.SCHEDULED.value:
            return texts.roll(roll, zone), None
        return texts.roll_closing(roll, zone), keyboards.roll_actions(self.signer, roll.activity, closing=True)

    def confirm_nag(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
                     now: datetime) -> tuple[str, Any]:
        roll = attendance_svc.roll_for_system(session, row.activity_id)
        return texts.confirm_nag(roll.activity, zone), keyboards.roll_actions(self.signer, roll.activity, closing=True)

    def confirm_escalation(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
                     now: datetime) -> tuple[str, Any]:
        activity = session.get(models.Activity, row.activity_id)
        return texts.confirm_escalation(row.payload.get("org", ""), activity and display_title(activity),
                                        activity and activity.starts_at, zone), None

    def group_announcement(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
                     now: datetime) -> tuple[str, Any]:
        view, tally = attendance_svc.announcement_state(session, row.activity_id)
        return (texts.group_announcement(view, tally, zone),
                keyboards.group_announcement(self.signer, view.id, self.bot_username,
                                             self_checkin=self.self_checkin(session, view.org_id),
                                             revision=view.revision))

    def announcement_changed(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
                             now: datetime) -> tuple[str, Any]:
        """The group's correction, from the facts in the payload and the activity as it is when sent."""
        view, _ = attendance_svc.announcement_state(session, row.activity_id)
        return texts.announcement_changed(view, str(row.payload["operation"]),
                                          datetime.fromisoformat(row.payload["before"]), zone), None

    def nudge(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
                     now: datetime) -> tuple[str, Any]:
        view, _ = attendance_svc.announcement_state(session, row.activity_id)
        return texts.nudge(view, zone), keyboards.reminder(self.signer, view.id,
                                                           self_checkin=self.self_checkin(session, view.org_id),
                                                           revision=view.revision)

    def leave_request(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
                     now: datetime) -> tuple[str, Any]:
        """Rendered when sent, so an approver never gets buttons for a request that was already decided."""
        activity_id, member_id = int(row.payload["activity_id"]), int(row.payload["member_id"])
        view, _ = attendance_svc.announcement_state(session, activity_id)
        record = attendance_repo.attendance_row(session, activity_id, member_id)
        member = session.get(models.Member, member_id)
        reason = record.leave_reason if record is not None else ""
        text = texts.leave_for_approval(member.name if member else "", view, reason or "", zone)
        if record is None or record.status != models.AttendanceStatus.LEAVE.value:
            return f"{text}\n{texts.LEAVE_WITHDRAWN}", None
        if record.leave_decision != models.LeaveDecision.PENDING.value:
            return f"{text}\n{texts.leave_already_decided(record.leave_decision == 'approved')}", None
        return text, keyboards.leave_decision(self.signer, activity_id, member_id)

    def leave_decision(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
                     now: datetime) -> tuple[str, Any]:
        activity = session.get(models.Activity, int(row.payload["activity_id"]))
        title = display_title(activity) if activity else texts.ACTIVITY_FALLBACK
        return texts.leave_decided_for_member(title, bool(row.payload["approved"]), str(row.payload["decided_by"])), None

    def attendance_recorded(self, session: Session, row: ClaimedMessage, zone: ZoneInfo,
                            now: datetime) -> tuple[str, Any]:
        """What someone else recorded for the member (payload: activity_id, status, by), worded when sent."""
        activity = session.get(models.Activity, int(row.payload["activity_id"]))
        if activity is None:
            return texts.ACTIVITY_GONE, None
        return texts.attendance_recorded(
            display_title(activity), texts.moment(activity.starts_at, zone), str(row.payload["status"]),
            str(row.payload["by"]), held=activity.status == models.ActivityStatus.HELD.value), None

    def renderers(self) -> dict[OutboxKind, Renderer]:
        return {
            OutboxKind.LEAVE_REQUEST: self.leave_request,
            OutboxKind.LEAVE_DECISION: self.leave_decision,
            OutboxKind.ATTENDANCE_RECORDED: self.attendance_recorded,
            OutboxKind.NUDGE: self.nudge,
            OutboxKind.ROLL_SUMMARY: self.roll_summary,
            OutboxKind.CONFIRM_NAG: self.confirm_nag,
            OutboxKind.CONFIRM_ESCALATION: self.confirm_escalation,
            OutboxKind.GROUP_ANNOUNCEMENT: self.group_announcement,
            OutboxKind.ANNOUNCEMENT_CHANGED: self.announcement_changed,
        }


def build_outbox_renderers(signer: CallbackSigner, bot_username: Callable[[], str | None],
                           self_checkin: Callable[[Session, int], bool] | None = None) -> OutboxRenderers:
    """Every kind's renderer, bound to this deployment's signer and bot name (refused if one is missing)."""
    views = OutboxViews(signer, bot_username, self_checkin)
    return OutboxRenderers({
        **CoreViews(views.reminder_markup).renderers(),
        **views.renderers(),
        **NoticeViews(signer).renderers(),  # rectification and heart-to-heart talk notices
    })

