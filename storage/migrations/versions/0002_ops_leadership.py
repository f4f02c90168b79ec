"""Leadership lease: the scheduler's holder, its term and lease (fences the outbox against an old leader).

Revision ID: 0002_ops
Revises: 0002_rect
Create Date: 2026-12-01 09:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002_ops'
down_revision: str | Sequence[str] | None = '0002_rect'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('leadership',
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('term', sa.Integer(), nullable=False),
    sa.Column('holder', sa.String(length=64), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('renewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('role', name=op.f('pk_leadership'))
    )


def downgrade() -> None:
    op.drop_table('leadership')
