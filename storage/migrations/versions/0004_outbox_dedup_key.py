"""Only reminders are unique per (activity, recipient, lead time); other kinds by their dedup key alone.

The old unique (activity_id, recipient, lead_minutes, kind) over every kind made change notices and nudges
misuse `lead_minutes` to tell two messages apart. It becomes a partial unique index on reminders, and an
index on (activity_id, kind) serves the look-ups by activity. Rows written before keep their payloads: a change notice or calendar
notice that still carries `payload.text` is rendered from it (bot.runtime.render).

Revision ID: 0004_outbox
Revises: 0003_cal
Create Date: 2026-12-01 12:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004_outbox'
down_revision: str | Sequence[str] | None = '0003_cal'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.drop_constraint(op.f('uq_outbox_activity_id_recipient_lead_minutes_kind'), type_='unique')
    op.create_index('uq_outbox_reminder', 'outbox', ['activity_id', 'recipient', 'lead_minutes'], unique=True,
                    sqlite_where=sa.text("kind = 'reminder'"), postgresql_where=sa.text("kind = 'reminder'"))
    op.create_index('ix_outbox_activity_kind', 'outbox', ['activity_id', 'kind'])


def downgrade() -> None:
    op.drop_index('ix_outbox_activity_kind', table_name='outbox')
    op.drop_index('uq_outbox_reminder', table_name='outbox')
    with op.batch_alter_table('outbox') as batch:
        batch.create_unique_constraint(op.f('uq_outbox_activity_id_recipient_lead_minutes_kind'),
                                       ['activity_id', 'recipient', 'lead_minutes', 'kind'])
