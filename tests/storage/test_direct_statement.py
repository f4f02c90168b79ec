"""Direct statements (storage.direct) agree with SQLAlchemy's own execution, on both databases."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, event, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from storage import models
from storage.direct import DirectStatement
from storage.repositories import attendance as attendance_repo
from storage.repositories import bindings as binding_repo

START = datetime(2025, 3, 15, 1, 0, tzinfo=timezone.utc)
_activities = models.Activity.__table__


def seeded(session: Session) -> models.Activity:
    branch = models.Organization(code="B01", name="第一党支部", type="党支部")
    session.add(branch)
    session.flush()
    member = models.Member(member_no="M001", name="张三", org_id=branch.id, category="正式党员", leading_cadre=True)
    session.add(member)
    session.flush()
    session.add(models.MemberRole(member_id=member.id, org_id=branch.id, role="书记"))
    session.add(models.TelegramBinding(member_id=member.id, telegram_user_id=777, private_chat_id=777))
    activity = models.Activity(occurrence_key="t:1", org_id=branch.id, title="主题党日", starts_at=START,
                               ends_at=START + timedelta(hours=2), requires_confirmation=True, tentative=False)
    session.add(activity)
    session.flush()
    return activity


BY_ID = select(_activities.c.id, _activities.c.starts_at, _activities.c.ends_at, _activities.c.requires_confirmation,
               _activities.c.title).where(_activities.c.id == bindparam("activity_id"))


def test_rows_are_what_sqlalchemy_gives(session: Session) -> None:
    activity = seeded(session)
    direct = DirectStatement(BY_ID).rows(session, {"activity_id": activity.id})
    assert direct == [tuple(row) for row in session.execute(BY_ID, {"activity_id": activity.id})]
    [(_, starts_at, ends_at, confirmation, title)] = direct
    # UTC-aware datetimes and real booleans on both databases (SQLite stores text and integers).
    assert (starts_at, ends_at, confirmation, title) == (START, START + timedelta(hours=2), True, "主题党日")
    assert starts_at.tzinfo == timezone.utc and type(confirmation) is bool


def test_no_row_is_none(session: Session) -> None:
    seeded(session)
    assert DirectStatement(BY_ID).first(session, {"activity_id": 999_999}) is None


@pytest.mark.parametrize("telegram_user_id, expected", [
    pytest.param(777, [("M001", "张三", True, "书记")], id="bound member with a seat"),
    pytest.param(778, [], id="stranger"),
])
def test_the_hot_reads_through_direct_statements(session: Session, telegram_user_id: int, expected: list) -> None:
    activity = seeded(session)
    rows = binding_repo.member_seats_for_telegram(session, telegram_user_id)
    assert [(row[1], row[2], row[6], row[9]) for row in rows] == expected
    read = attendance_repo.activity_for_checkin(session, activity.id)
    assert (read.id, read.starts_at, read.org.code, read.requires_confirmation) == (activity.id, START, "B01", True)


def test_an_insert_takes_part_in_the_session_transaction(session: Session) -> None:
    activity = seeded(session)
    member_id = session.scalar(select(models.Member.id))
    values = dict(activity_id=activity.id, member_id=member_id, status="present", recorded_at=START,
                  recorded_by_member_id=member_id, via="private")
    assert attendance_repo.insert_attendance_if_absent(session, **values) is True
    assert attendance_repo.insert_attendance_if_absent(session, **values) is False  # the unique key, no error
    savepoint = session.begin_nested()
    session.execute(text("DELETE FROM attendance"))
    savepoint.rollback()
    row = attendance_repo.attendance_row(session, activity.id, member_id)
    assert (row.status, row.recorded_at, row.via) == ("present", START, "private")


def test_what_the_session_holds_unsent_is_seen(session: Session) -> None:
    """As with Session.execute: pending changes are flushed before a direct statement runs."""
    activity = seeded(session)
    activity.title = "专题党课"  # not flushed yet
    assert DirectStatement(BY_ID).first(session, {"activity_id": activity.id})[4] == "专题党课"


def test_a_statement_missing_a_defaulted_value_is_refused(session: Session) -> None:
    activity = seeded(session)
    member_id = session.scalar(select(models.Member.id))
    # `via` and `recorded_at` have Python-side defaults SQLAlchemy's execution context would fill in.
    with pytest.raises(ValueError, match="every value"):
        DirectStatement(insert(models.Attendance.__table__)).rows(
            session, {"activity_id": activity.id, "member_id": member_id, "status": "present"})


def test_driver_errors_are_sqlalchemys(session: Session) -> None:
    activity = seeded(session)
    member_id = session.scalar(select(models.Member.id))
    statement = DirectStatement(insert(models.Attendance.__table__))
    values = dict(activity_id=activity.id, member_id=member_id, status="present", recorded_at=START,
                  recorded_by_member_id=None, via="private")
    statement.rows(session, values)
    with pytest.raises(IntegrityError):  # the same member twice: the unique key
        statement.rows(session, values)


def test_engine_cursor_events_fire(session: Session) -> None:
    activity = seeded(session)
    seen: list[str] = []
    engine = session.get_bind()
    listener = lambda _conn, _cursor, statement, *_rest: seen.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        DirectStatement(BY_ID).rows(session, {"activity_id": activity.id})
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(seen) == 1 and seen[0].startswith("SELECT")


def test_a_lost_connection_invalidates_it(pg_url: str) -> None:
    """As with Connection.execute: the error says the connection was invalidated, and the pool hands out a new one."""
    from storage.db import make_engine, make_session_factory  # noqa: PLC0415

    engine = make_engine(pg_url)
    models.Base.metadata.create_all(engine)
    admin = make_engine(pg_url, isolation_level="AUTOCOMMIT")
    factory = make_session_factory(engine)
    try:
        with factory() as session:
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
            with admin.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(DBAPIError) as raised:
                DirectStatement(BY_ID).rows(session, {"activity_id": 1})
            assert raised.value.connection_invalidated
        with factory() as session:
            assert DirectStatement(BY_ID).rows(session, {"activity_id": 1}) == []
    finally:
        admin.dispose()
        engine.dispose()
