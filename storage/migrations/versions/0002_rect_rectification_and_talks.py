"""整改 items with sources, measures, several owners and a history; 谈心谈话 records with org, topic and recorder.

The two tables of 0001 were never written by any release (nothing used them), so they are recreated
rather than altered: no NOT NULL column has to be invented for old rows.

Revision ID: 0002_rect
Revises: 0001
Create Date: 2026-12-01 09:17:11
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002_rect'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index(op.f('ix_rectifications_org_id'), table_name='rectifications')
    op.drop_table('rectifications')
    op.drop_table('heart_to_heart_talks')

    op.create_table('rectifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('raised_by_org_id', sa.Integer(), nullable=False),
    sa.Column('problem', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('measures', sa.Text(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('deadline_text', sa.String(length=64), nullable=False),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_member_id', sa.Integer(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_member_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_member_id'], ['members.id'], name=op.f('fk_rectifications_closed_by_member_id_members')),
    sa.ForeignKeyConstraint(['created_by_member_id'], ['members.id'], name=op.f('fk_rectifications_created_by_member_id_members')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_rectifications_org_id_organizations')),
    sa.ForeignKeyConstraint(['raised_by_org_id'], ['organizations.id'], name=op.f('fk_rectifications_raised_by_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectifications'))
    )
    op.create_index(op.f('ix_rectifications_org_id'), 'rectifications', ['org_id'])

    op.create_table('rectification_owners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rectification_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_rectification_owners_member_id_members')),
    sa.ForeignKeyConstraint(['rectification_id'], ['rectifications.id'], name=op.f('fk_rectification_owners_rectification_id_rectifications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_owners')),
    sa.UniqueConstraint('rectification_id', 'member_id', name=op.f('uq_rectification_owners_rectification_id_member_id'))
    )
    op.create_index(op.f('ix_rectification_owners_member_id'), 'rectification_owners', ['member_id'])
    op.create_index(op.f('ix_rectification_owners_rectification_id'), 'rectification_owners', ['rectification_id'])

    op.create_table('rectification_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rectification_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('telegram_file_id', sa.String(length=256), nullable=True),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_rectification_notes_member_id_members')),
    sa.ForeignKeyConstraint(['rectification_id'], ['rectifications.id'], name=op.f('fk_rectification_notes_rectification_id_rectifications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectification_notes'))
    )
    op.create_index(op.f('ix_rectification_notes_rectification_id'), 'rectification_notes', ['rectification_id'])

    op.create_table('heart_to_heart_talks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('committee_member_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=True),
    sa.Column('recorded_by_member_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['committee_member_id'], ['members.id'], name=op.f('fk_heart_to_heart_talks_committee_member_id_members')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_heart_to_heart_talks_member_id_members')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_heart_to_heart_talks_org_id_organizations')),
    sa.ForeignKeyConstraint(['recorded_by_member_id'], ['members.id'], name=op.f('fk_heart_to_heart_talks_recorded_by_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_heart_to_heart_talks')),
    sa.UniqueConstraint('committee_member_id', 'member_id', 'held_on', name=op.f('uq_heart_to_heart_talks_committee_member_id_member_id_held_on'))
    )
    op.create_index(op.f('ix_heart_to_heart_talks_committee_member_id'), 'heart_to_heart_talks', ['committee_member_id'])
    op.create_index(op.f('ix_heart_to_heart_talks_member_id'), 'heart_to_heart_talks', ['member_id'])
    op.create_index(op.f('ix_heart_to_heart_talks_org_id'), 'heart_to_heart_talks', ['org_id'])
    op.create_index(op.f('ix_heart_to_heart_talks_year'), 'heart_to_heart_talks', ['year'])


def downgrade() -> None:
    op.drop_table('heart_to_heart_talks')
    op.drop_table('rectification_notes')
    op.drop_table('rectification_owners')
    op.drop_index(op.f('ix_rectifications_org_id'), table_name='rectifications')
    op.drop_table('rectifications')

    op.create_table('heart_to_heart_talks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('committee_member_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['committee_member_id'], ['members.id'], name=op.f('fk_heart_to_heart_talks_committee_member_id_members')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_heart_to_heart_talks_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_heart_to_heart_talks')),
    sa.UniqueConstraint('year', 'committee_member_id', 'member_id', name=op.f('uq_heart_to_heart_talks_year_committee_member_id_member_id'))
    )
    op.create_table('rectifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('owner_member_id', sa.Integer(), nullable=True),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by_member_id', sa.Integer(), nullable=True),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['closed_by_member_id'], ['members.id'], name=op.f('fk_rectifications_closed_by_member_id_members')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_rectifications_org_id_organizations')),
    sa.ForeignKeyConstraint(['owner_member_id'], ['members.id'], name=op.f('fk_rectifications_owner_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rectifications'))
    )
    op.create_index(op.f('ix_rectifications_org_id'), 'rectifications', ['org_id'])
