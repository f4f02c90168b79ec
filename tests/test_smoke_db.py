"""The database fixtures give working, empty databases on both backends."""

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from storage.models import Organization
from storage.types import NaiveDatetimeError


def test_aware_datetimes_round_trip_as_utc(session):
    shanghai = timezone(timedelta(hours=8))
    org = Organization(code="B01", name="第一党支部", type="党支部",
                       created_at=datetime(2025, 3, 3, 10, 0, tzinfo=shanghai))
    session.add(org)
    session.flush()
    session.expire_all()
    stored = session.scalars(select(Organization)).one()
    assert stored.created_at == datetime(2025, 3, 3, 2, 0, tzinfo=timezone.utc)
    assert stored.created_at.tzinfo is not None


def test_naive_datetimes_are_refused(session):
    session.add(Organization(code="B02", name="x", type="党支部", created_at=datetime(2025, 3, 3, 10, 0)))
    with pytest.raises(Exception) as info:
        session.flush()
    assert isinstance(info.value, NaiveDatetimeError) or isinstance(info.value.__cause__, NaiveDatetimeError)
