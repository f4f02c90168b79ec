"""Repositories: functions that take a caller-owned session, read and write models, and never commit."""
