"""Persistence: SQLAlchemy models, repositories, migrations and roster import/export."""
