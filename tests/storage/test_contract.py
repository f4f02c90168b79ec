"""The storage contract, identical on SQLite and PostgreSQL: constraints, UTC, foreign keys, no commits."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from storage import models
from storage.repositories import audit
from storage.repositories.members import active_members_of, get_by_member_no, ids_by_member_no
from storage.repositories.organizations import get_by_code, referenced_org_ids
from storage.repositories.roster import load_roster
from storage.roster_io import import_roster, read_roster
from storage.types import NaiveDatetimeError
from tests.storage.roster_files import BASIC

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def seeded(session):  # noqa: ANN001, ANN201
    """The basic roster plus one activity of B01, inside the test's transaction."""
    import_roster(session, read_roster(BASIC, today=date(2026, 6, 1)), now=NOW)
    b01 = get_by_code(session, "B01")
    activity = models.Activity(occurrence_key="theme_party_day:B01:2026-06", org_id=b01.id, title="6月主题党日",
                               starts_at=datetime(2026, 6, 15, 9, 0, tzinfo=SHANGHAI))
    session.add(activity)
    session.flush()
    return session, activity, get_by_member_no(session, "M001")


def test_one_attendance_row_per_member_and_activity(seeded):
    session, activity, member = seeded
    session.add(models.Attendance(activity_id=activity.id, member_id=member.id, status="present"))
    session.flush()
    session.add(models.Attendance(activity_id=activity.id, member_id=member.id, status="leave"))
    with pytest.raises(IntegrityError):
        session.flush()


def outbox_row(activity, member, **overrides):  # noqa: ANN001, ANN003, ANN201
    values = dict(activity_id=activity.id, recipient=f"member:{member.id}", member_id=member.id, lead_minutes=1440,
                  kind="reminder", due_at=activity.starts_at - timedelta(days=1))
    values |= overrides
    values.setdefault("dedup_key", f"{values['kind']}:{activity.id}:{values['recipient']}:{values['lead_minutes']}")
    return models.OutboxMessage(**values)


@pytest.mark.parametrize("second, allowed", [
    pytest.param({"dedup_key": "other-key"}, False, id="same-activity-recipient-lead-kind"),
    pytest.param({"lead_minutes": 60}, True, id="another-lead-time"),
    pytest.param({"kind": "nudge"}, True, id="another-kind"),
    pytest.param({"recipient": "chat:-1001000000101", "member_id": None}, True, id="another-recipient"),
])
def test_one_outbox_row_per_activity_recipient_lead_and_kind(seeded, second, allowed):
    session, activity, member = seeded
    session.add(outbox_row(activity, member))
    session.flush()
    session.add(outbox_row(activity, member, **second))
    if allowed:
        session.flush()
        assert session.scalar(select(func.count()).select_from(models.OutboxMessage)) == 2
    else:
        with pytest.raises(IntegrityError):
            session.flush()


def test_other_kinds_are_told_apart_by_their_dedup_key_alone(seeded):
    """Two changes of one activity are two notices to the same member (no lead time to tell them apart)."""
    session, activity, member = seeded
    for n in (1, 2):
        session.add(outbox_row(activity, member, kind="change_notice", lead_minutes=0, dedup_key=f"change:{n}"))
        session.flush()
    session.add(outbox_row(activity, member, kind="change_notice", lead_minutes=0, dedup_key="change:2"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_negative_lead_times_are_refused(seeded):
    session, activity, member = seeded
    session.add(outbox_row(activity, member, lead_minutes=-5))
    with pytest.raises(IntegrityError):
        session.flush()


@pytest.mark.parametrize("duplicate", [
    pytest.param(lambda m: models.Member(member_no="M001", name="重名", org_id=m.org_id, category="正式党员"),
                 id="member-number"),
    pytest.param(lambda m: models.MemberRole(member_id=m.id, org_id=m.org_id, role="书记"), id="member-seat"),
    pytest.param(lambda m: models.Organization(code="B01", name="重复", type="党支部"), id="organisation-code"),
])
def test_identities_are_unique(seeded, duplicate):
    session, _, member = seeded
    session.add(duplicate(member))
    with pytest.raises(IntegrityError):
        session.flush()


def test_aware_datetimes_come_back_as_the_same_instant_in_utc(seeded):
    session, activity, _ = seeded
    session.expire_all()
    stored = session.get(models.Activity, activity.id)
    assert stored.starts_at == datetime(2026, 6, 15, 1, 0, tzinfo=timezone.utc)
    assert stored.starts_at.utcoffset() == timedelta(0)


def test_naive_datetimes_never_reach_the_database(seeded):
    session, activity, _ = seeded
    activity.ends_at = datetime(2026, 6, 15, 11, 0)
    with pytest.raises(Exception) as info:
        session.flush()
    assert isinstance(info.value, NaiveDatetimeError) or isinstance(info.value.__cause__, NaiveDatetimeError)


def test_foreign_keys_are_enforced(seeded):
    session, activity, _ = seeded
    session.add(models.Attendance(activity_id=activity.id, member_id=999_999, status="present"))
    with pytest.raises(IntegrityError):
        session.flush()


def test_deleting_an_activity_takes_its_attendance_and_outbox_with_it(seeded):
    session, activity, member = seeded
    session.add_all([models.Attendance(activity_id=activity.id, member_id=member.id, status="present"),
                     outbox_row(activity, member)])
    session.flush()
    session.execute(delete(models.Activity).where(models.Activity.id == activity.id))
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(models.Attendance)) == 0
    assert session.scalar(select(func.count()).select_from(models.OutboxMessage)) == 0


def test_repositories_find_what_the_roster_holds(seeded):
    session, activity, _ = seeded
    b01 = get_by_code(session, "B01")
    assert [m.member_no for m in active_members_of(session, b01.id)] == [f"M00{i}" for i in range(1, 7)]
    assert set(ids_by_member_no(session)) == {f"M00{i}" for i in range(1, 9)}
    assert b01.id in referenced_org_ids(session, ignore_tables=frozenset({"members", "member_roles"}))
    assert get_by_code(session, "NOPE") is None and get_by_member_no(session, "NOPE") is None


def test_load_roster_round_trips_the_imported_roster(seeded):
    session, _, _ = seeded
    roster = read_roster(BASIC, today=date(2026, 6, 1))
    stored = load_roster(session)
    assert set(stored.members) == set(roster.members)
    assert set(stored.organizations) == set(roster.organizations)


def test_repositories_never_commit(session_factory):
    with session_factory() as session:
        session.begin()
        import_roster(session, read_roster(BASIC, today=date(2026, 6, 1)), now=NOW)
        audit.record(session, action="test.write", entity="roster", at=NOW, actor_label="test")
        session.rollback()
    with session_factory() as session:
        counts = [session.scalar(select(func.count()).select_from(model))
                  for model in (models.Organization, models.Member, models.MemberRole, models.AuditEntry)]
    assert counts == [0, 0, 0, 0]


def test_audit_entries_keep_who_did_what(session):
    audit.record(session, action="activity.confirm", entity="activity", entity_id=42, at=NOW,
                 actor_telegram_id=123456789, details={"held": True})
    entry, = audit.entries(session, entity="activity")
    assert (entry.entity_id, entry.actor_telegram_id, entry.details, entry.at) == ("42", 123456789, {"held": True}, NOW)
