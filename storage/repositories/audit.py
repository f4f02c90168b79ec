"""The audit log: who changed what, written in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import models


def record(
    session: Session,
    *,
    action: str,
    entity: str,
    at: datetime,
    entity_id: str | int | None = None,
    details: dict[str, Any] | None = None,
    actor_label: str | None = None,
    actor_member_id: int | None = None,
    actor_telegram_id: int | None = None,
) -> models.AuditEntry:
    """Adds one entry (flushed, not committed): `action` like "roster.import", `entity` like "roster"."""
    entry = models.AuditEntry(
        at=at,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        details=details or {},
        actor_label=actor_label,
        actor_member_id=actor_member_id,
        actor_telegram_id=actor_telegram_id,
    )
    session.add(entry)
    session.flush()
    return entry


def entries(session: Session, *, action: str | None = None, entity: str | None = None, limit: int = 100) -> list[models.AuditEntry]:
    """The newest entries first, optionally only one action or entity."""
    query = select(models.AuditEntry).order_by(models.AuditEntry.at.desc(), models.AuditEntry.id.desc()).limit(limit)
    if action is not None:
        query = query.where(models.AuditEntry.action == action)
    if entity is not None:
        query = query.where(models.AuditEntry.entity == entity)
    return list(session.scalars(query))
