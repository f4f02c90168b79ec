"""Alembic migration environment and revisions for the branchbot schema."""
