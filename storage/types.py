"""Column types that keep the database in UTC and refuse naive datetimes."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from storage.db import is_sqlite


class NaiveDatetimeError(ValueError):
    """A naive datetime reached the database boundary: the caller forgot its zone."""


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; always returns aware UTC datetimes.

    PostgreSQL gets `timestamptz`; SQLite has no zone support, so it stores naive UTC text and we
    re-attach UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(f"naive datetime {value!r} cannot be stored; attach a zone")
        utc = value.astimezone(timezone.utc)
        return utc.replace(tzinfo=None) if is_sqlite(dialect) else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)
