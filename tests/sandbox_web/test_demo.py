"""The demo organisation appears in an empty sandbox database, once, and never over a real roster."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.sandbox.demo import load_demo_if_empty
from bot.sandbox.people import load_directory
from bot.settings import PROJECT_CONFIG_DIR
from storage import models
from storage.db import transaction

NOW = datetime(2026, 11, 21, 1, 0, tzinfo=timezone.utc)  # the demo roster has dates up to 2026
SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_empty_database_gets_the_demo_roster_once(session_factory) -> None:  # noqa: ANN001
    first = load_demo_if_empty(session_factory, PROJECT_CONFIG_DIR, now=NOW, zone=SHANGHAI)
    second = load_demo_if_empty(session_factory, PROJECT_CONFIG_DIR, now=NOW, zone=SHANGHAI)

    assert first.loaded and first.organizations > 1 and first.members > 1
    assert not second.loaded, "a second start must not import again"
    with transaction(session_factory) as session:
        assert session.scalar(select(func.count()).select_from(models.Member)) == first.members
        directory = load_directory(session)
    # The demo shows every kind of person the page offers: a secretary and an upper committee member.
    assert any(p.is_secretary for p in directory.people)
    assert any(p.is_committee for p in directory.people)


def test_existing_roster_is_left_alone(session_factory) -> None:  # noqa: ANN001
    with transaction(session_factory) as session:
        session.add(models.Organization(code="X01", name="自有支部", type="党支部"))

    result = load_demo_if_empty(session_factory, PROJECT_CONFIG_DIR, now=NOW, zone=SHANGHAI)

    assert not result.loaded
    with transaction(session_factory) as session:
        assert session.scalars(select(models.Organization.code)).all() == ["X01"]
