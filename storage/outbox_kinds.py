"""Every kind of outbox message, in one enum: what is queued is one of these, and each has one renderer."""

from __future__ import annotations

from enum import StrEnum


class OutboxKind(StrEnum):
    """The `outbox.kind` column's values. Payloads hold facts (ids, moments, reasons); the text a person reads
    is rendered when the row is sent, from the database as it is then (`bot.runtime.render.OutboxRenderers`)."""

    # An activity's reminder to a member, at one of its lead times (`lead_minutes`).
    REMINDER = "reminder"
    # To a secretary: reminders that could not go out in time. Payload `missed` ([{member_id}]; older rows
    # [{name}]), `leads`, `cause` (`downtime` | `backlog` | `quiet_hours`: why they were late).
    MISSED_SUMMARY = "missed_summary"
    # To a secretary: a member blocked the bot or their chat is gone. Payload `unreachable_member_id`, `reason`.
    UNREACHABLE_NOTICE = "unreachable_notice"
    # To a member already reminded: the activity moved or was cancelled. Payload: `operation` (move | cancel),
    # `before` and `after` (ISO moments; `after` null for a cancel), `place`, `by` (member id or null), `why`
    # (`schedule` | `calendar`). Rendered against the activity as it stands when sent.
    CHANGE_NOTICE = "change_notice"
    # The year is planned on the provisional calendar. Payload `year`.
    CALENDAR_PROVISIONAL = "calendar_provisional"
    # The official arrangement moved provisional activities. Payload `changes`: [{activity_id, org_id, title,
    # before, after}] (ISO moments; `after` null when cancelled).
    CALENDAR_REPLANNED = "calendar_replanned"
    # Around a meeting (storage.services.followup): the roll when check-in closes, the nag to confirm, the
    # escalation upwards, the group's announcement.
    ROLL_SUMMARY = "roll_summary"
    CONFIRM_NAG = "confirm_nag"
    CONFIRM_ESCALATION = "confirm_escalation"
    GROUP_ANNOUNCEMENT = "group_announcement"
    # To a branch group that was shown an activity's announcement, once per move or cancellation
    # (storage.services.activity_changes). Payload `operation` (move | cancel), `before` (ISO), `revision`,
    # `replaces_message_id` (the announcement's Telegram id). Rendered against the activity as it stands.
    ANNOUNCEMENT_CHANGED = "announcement_changed"
    # The secretary's "remind them" to one member who has not answered.
    NUDGE = "nudge"
    # A member's leave request to each approver (payload `activity_id`, `member_id`), and the decision back.
    LEAVE_REQUEST = "leave_request"
    LEAVE_DECISION = "leave_decision"
    # Someone else recorded the member's attendance (代签, leave, absent, the meeting not held). Payload
    # `activity_id`, `status`, `by`.
    ATTENDANCE_RECORDED = "attendance_recorded"
    # 整改 (storage.services.rectification): payload `item_id` (and `event`, `reason` for a change).
    RECTIFICATION_DUE = "rectification_due"
    RECTIFICATION_OVERDUE = "rectification_overdue"
    RECTIFICATION_ESCALATION = "rectification_escalation"
    RECTIFICATION_SUPERVISION = "rectification_supervision"
    RECTIFICATION_CHANGED = "rectification_changed"
    # 谈心谈话 still owed (storage.services.talks): payload `year`, `org_id`, `moment`.
    TALK_OWED = "talk_owed"


def outbox_kind(value: str) -> OutboxKind:
    """The kind named by `value`; a name that is not a kind is refused (ValueError) before it is written."""
    try:
        return OutboxKind(value)
    except ValueError:
        raise ValueError(f"unknown outbox kind {value!r}; add it to storage.outbox_kinds.OutboxKind") from None
