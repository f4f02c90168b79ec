"""How the chat's outbox kinds look when the dispatcher sends them: rolls, nags, group announcements, buttons."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot import keyboards, texts
from bot.callbacks import CallbackSigner
from storage import models
from storage.repositories.outbox import ClaimedMessage
from storage.services import attendance as attendance_svc
from storage.services import followup


class OutboxViews:
    """Renderers bound to this deployment's signer and bot name (buttons need both)."""

    def __init__(self, signer: CallbackSigner, bot_username: Callable[[], str | None]) -> None:
        self.signer = signer
        self._bot_username = bot_username  # known once the bot has called getMe

    @property
    def bot_username(self) -> str | None:
        return self._bot_username()

    def reminder_markup(self, session: Session, row: ClaimedMessage, activity: models.Activity) -> Any:
        """✅ 签到 / 📝 请假 under a private reminder of a meeting (签到 is re-checked against the window on press)."""
        if activity.kind != models.ActivityKind.MEETING.value or row.member_id is None:
            return None
        return keyboards.reminder(self.signer, activity.id)

    def roll_summary(self, session: Session, row: ClaimedMessage, zone: ZoneInfo) -> tuple[str, Any]:
        roll = attendance_svc.roll_for_system(session, row.activity_id)
        if roll.activity.status != models.ActivityStatus.SCHEDULED.value:
            return texts.roll(roll, zone), None
        return texts.roll_closing(roll, zone), keyboards.roll_actions(self.signer, roll.activity, closing=True)

    def confirm_nag(self, session: Session, row: ClaimedMessage, zone: ZoneInfo) -> tuple[str, Any]:
        roll = attendance_svc.roll_for_system(session, row.activity_id)
        text = f"⏰ 「{roll.activity.title}」（{texts.moment(roll.activity.starts_at, zone)}）还没有确认是否召开，请确认。"
        return text, keyboards.roll_actions(self.signer, roll.activity, closing=True)

    def confirm_escalation(self, session: Session, row: ClaimedMessage, zone: ZoneInfo) -> tuple[str, Any]:
        activity = session.get(models.Activity, row.activity_id)
        org = row.payload.get("org", "")
        when = texts.moment(activity.starts_at, zone) if activity else ""
        title = activity.title if activity else "活动"
        return f"⚠️ {org}的「{title}」（{when}）已结束三天，支部仍未确认是否召开，请督促。", None

    def group_announcement(self, session: Session, row: ClaimedMessage, zone: ZoneInfo) -> tuple[str, Any]:
        view, tally = attendance_svc.announcement_state(session, row.activity_id)
        return (texts.group_announcement(view, tally, zone),
                keyboards.group_announcement(self.signer, view.id, self.bot_username))

    def nudge(self, session: Session, row: ClaimedMessage, zone: ZoneInfo) -> tuple[str, Any]:
        view, _ = attendance_svc.announcement_state(session, row.activity_id)
        return texts.nudge(view, zone), keyboards.reminder(self.signer, view.id)

    def renderers(self) -> dict[str, Any]:
        return {
            followup.NUDGE: self.nudge,
            followup.ROLL_SUMMARY: self.roll_summary,
            followup.CONFIRM_NAG: self.confirm_nag,
            followup.CONFIRM_ESCALATION: self.confirm_escalation,
            followup.GROUP_ANNOUNCEMENT: self.group_announcement,
        }

