"""Organisation look-ups by code, and which organisations other rows still point at."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage import models


def get_by_code(session: Session, code: str) -> models.Organization | None:
    return session.scalars(select(models.Organization).where(models.Organization.code == code)).one_or_none()


def ids_by_code(session: Session) -> dict[str, int]:
    return dict(session.execute(select(models.Organization.code, models.Organization.id)).all())


def referenced_org_ids(session: Session, *, ignore_tables: frozenset[str] = frozenset()) -> set[int]:
    """Ids of organisations that some row outside `ignore_tables` refers to through a foreign key.

    Walks the metadata rather than naming tables, so a table added later (with its FK) protects its
    organisations from deletion without anyone remembering to update this function.
    """
    referenced: set[int] = set()
    org_table = models.Organization.__table__
    for table in models.Base.metadata.sorted_tables:
        if table.name in ignore_tables or table is org_table:
            continue
        for fk in table.foreign_keys:
            if fk.column.table is org_table:
                query = select(fk.parent).where(fk.parent.is_not(None)).distinct()
                referenced.update(session.scalars(query))
    return referenced


def move_group_chat(session: Session, old_chat_id: int, new_chat_id: int) -> int:
    """A group became a supergroup (new chat id): the organisations that had the old one get the new one."""
    result = session.execute(
        update(models.Organization).where(models.Organization.group_chat_id == old_chat_id)
        .values(group_chat_id=new_chat_id).execution_options(synchronize_session=False))
    return result.rowcount or 0
