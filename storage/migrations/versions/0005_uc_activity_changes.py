"""The check-in window is stored relative to the start; activities count their revisions; one draft per card.

Revision ID: 0005_uc
Revises: 0004_outbox
Create Date: 2026-12-01 12:40:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = '0005_uc'
down_revision: str | Sequence[str] | None = '0004_outbox'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _activities(*columns: sa.Column) -> sa.Table:
    return sa.table('activities', sa.column('id', sa.Integer()), sa.column('starts_at', UTCDateTime()), *columns)


def upgrade() -> None:
    with op.batch_alter_table('activities') as batch:
        batch.add_column(sa.Column('checkin_opens_minutes', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('checkin_closes_minutes', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('revision', sa.Integer(), server_default='0', nullable=False))
    table = _activities(sa.column('checkin_opens_at', UTCDateTime()), sa.column('checkin_closes_at', UTCDateTime()),
                        sa.column('checkin_opens_minutes', sa.Integer()), sa.column('checkin_closes_minutes', sa.Integer()))
    connection = op.get_bind()
    rows = connection.execute(sa.select(table.c.id, table.c.starts_at, table.c.checkin_opens_at, table.c.checkin_closes_at)
                              .where(sa.or_(table.c.checkin_opens_at.is_not(None), table.c.checkin_closes_at.is_not(None))))
    for row_id, starts_at, opens, closes in rows.all():
        connection.execute(table.update().where(table.c.id == row_id).values(
            checkin_opens_minutes=None if opens is None else int((opens - starts_at).total_seconds() // 60),
            checkin_closes_minutes=None if closes is None else int((closes - starts_at).total_seconds() // 60),
        ))
    with op.batch_alter_table('activities') as batch:
        batch.drop_column('checkin_opens_at')
        batch.drop_column('checkin_closes_at')
    op.create_table(
        'schedule_drafts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('telegram_user_id', sa.BigInteger(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('operation', sa.String(length=16), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('activity_id', sa.Integer(), nullable=True),
        sa.Column('activity_revision', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('place', sa.String(length=200), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['activity_id'], ['activities.id'], name=op.f('fk_schedule_drafts_activity_id_activities'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_schedule_drafts_member_id_members')),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_schedule_drafts_org_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_schedule_drafts')),
    )
    op.create_index(op.f('ix_schedule_drafts_telegram_user_id'), 'schedule_drafts', ['telegram_user_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_schedule_drafts_telegram_user_id'), table_name='schedule_drafts')
    op.drop_table('schedule_drafts')
    with op.batch_alter_table('activities') as batch:
        batch.add_column(sa.Column('checkin_opens_at', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('checkin_closes_at', sa.DateTime(timezone=True), nullable=True))
    table = _activities(sa.column('checkin_opens_at', UTCDateTime()), sa.column('checkin_closes_at', UTCDateTime()),
                        sa.column('checkin_opens_minutes', sa.Integer()), sa.column('checkin_closes_minutes', sa.Integer()))
    connection = op.get_bind()
    rows = connection.execute(sa.select(table.c.id, table.c.starts_at, table.c.checkin_opens_minutes,
                                        table.c.checkin_closes_minutes)
                              .where(sa.or_(table.c.checkin_opens_minutes.is_not(None),
                                            table.c.checkin_closes_minutes.is_not(None))))
    for row_id, starts_at, opens, closes in rows.all():
        connection.execute(table.update().where(table.c.id == row_id).values(
            checkin_opens_at=None if opens is None else starts_at + timedelta(minutes=opens),
            checkin_closes_at=None if closes is None else starts_at + timedelta(minutes=closes),
        ))
    with op.batch_alter_table('activities') as batch:
        batch.drop_column('revision')
        batch.drop_column('checkin_closes_minutes')
        batch.drop_column('checkin_opens_minutes')
