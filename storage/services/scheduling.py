"""Telling members already reminded that an activity moved or was cancelled (the change use cases call it)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import models
from storage.models import OutboxState
from storage.outbox_kinds import OutboxKind
from storage.repositories import outbox

NEW, MOVE, CANCEL = "new", "move", "cancel"


def tell_reminded(session: Session, activity: models.Activity, operation: str, before: datetime, now: datetime,
                  zone: ZoneInfo, *, by: int | None = None, why: str = "schedule") -> int:
    """After `activity` was moved (MOVE) or cancelled (CANCEL) from `before`: every member already reminded
    of it is told once (the runtime calls this too, when a holiday notice moves a provisional date).

    The notice stores the facts (before, after, place, who, why); its text is written when it is sent, from
    the activity as it stands then. A member with an earlier notice still waiting gets one notice, from what
    they last heard (`before` of the waiting one) to now. `zone` is kept for callers: nothing is formatted here.
    """
    reminded = sorted(set(session.scalars(select(models.OutboxMessage.member_id).where(
        models.OutboxMessage.activity_id == activity.id, models.OutboxMessage.kind == OutboxKind.REMINDER.value,
        models.OutboxMessage.state == OutboxState.SENT.value, models.OutboxMessage.member_id.is_not(None),
    ))))
    if not reminded:
        return 0
    notices = outbox.activity_messages(session, activity.id, OutboxKind.CHANGE_NOTICE, reminded)
    waiting: dict[int, models.OutboxMessage] = {}
    told: dict[int, int] = {}
    for row in notices:
        told[row.member_id] = told.get(row.member_id, 0) + 1
        if row.state == OutboxState.PENDING.value:
            earlier = waiting.get(row.member_id)
            if earlier is None or row.id < earlier.id:
                waiting[row.member_id] = row
    outbox.close_pending(session, [row.id for row in notices if row.state == OutboxState.PENDING.value],
                         OutboxState.SKIPPED, "superseded by a later change")
    after = activity.starts_at.isoformat() if operation == MOVE else None
    messages = []
    for member_id in reminded:
        recipient = outbox.member_recipient(member_id)
        earlier = waiting.get(member_id)
        heard = earlier.payload.get("before") if earlier is not None else None
        messages.append(outbox.NewMessage(
            # The n-th change told to this member about this activity: one row per change, never merged with
            # another change that happens to have the same times (moved away and back again).
            dedup_key=f"{OutboxKind.CHANGE_NOTICE}:{activity.id}:{recipient}:{told.get(member_id, 0) + 1}",
            recipient=recipient, due_at=now, kind=OutboxKind.CHANGE_NOTICE, activity_id=activity.id,
            member_id=member_id, priority=5,
            payload={"operation": operation, "before": heard or before.isoformat(), "after": after,
                     "place": activity.place, "by": by, "why": why},
        ))
    return outbox.enqueue(session, messages)
