"""Activities remember which holiday calendar placed them: official, or provisional before the year's notice.

Revision ID: 0003_cal
Revises: 0002_rect
Create Date: 2026-12-01 09:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003_cal'
down_revision: str | Sequence[str] | None = '0002_ops'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('activities') as batch:
        batch.add_column(sa.Column('calendar', sa.String(length=16), server_default='official', nullable=False))
        batch.add_column(sa.Column('tentative', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('activities') as batch:
        batch.drop_column('tentative')
        batch.drop_column('calendar')
