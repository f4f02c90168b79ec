"""Importing a roster into the database: bulk, all or nothing, re-import by member number, on both backends."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import func, select

from schedules.roster import Category, MemberStatus, Role, Roster
from storage import models
from storage.repositories import audit
from storage.repositories.roster import load_roster
from storage.roster_io import RosterError, export_roster, import_roster, plan_import, read_roster
from tests.storage.roster_files import BASIC

TODAY = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
LATER = datetime(2026, 7, 1, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def basic() -> Roster:
    return read_roster(BASIC, today=TODAY)


def without(roster: Roster, *member_nos: str) -> Roster:
    return Roster.of(roster.organizations, [m for m in roster.members if m.member_no not in member_nos])


def replacing(roster: Roster, member_no: str, **changes) -> Roster:  # noqa: ANN003
    return Roster.of(roster.organizations, [
        replace(m, **changes) if m.member_no == member_no else m for m in roster.members
    ])


def count(session, model) -> int:  # noqa: ANN001
    return session.scalar(select(func.count()).select_from(model))


def test_first_import_adds_everything_and_reads_back_unchanged(session, basic):
    summary = import_roster(session, basic, now=NOW)
    assert (len(summary.orgs_added), len(summary.members_added)) == (7, 8)
    stored = load_roster(session)
    assert set(stored.organizations) == set(basic.organizations)
    assert set(stored.members) == set(basic.members)
    assert count(session, models.MemberRole) == 10


def test_importing_the_same_roster_again_changes_nothing(session, basic):
    import_roster(session, basic, now=NOW)
    summary = import_roster(session, basic, now=LATER)
    assert not summary.changes_anything
    assert (summary.members_unchanged, summary.orgs_unchanged) == (8, 7)


def test_reimport_reports_added_changed_and_transferred_out(session, basic):
    import_roster(session, basic, now=NOW)
    newcomer = replace(basic.members[0], member_no="M009", name="新同志", roles=frozenset(), upper_roles=frozenset(),
                       telegram_username=None)
    promoted = replacing(without(basic, "M008"), "M004", category=Category.FULL, full_member_on=date(2026, 3, 6))
    second = Roster.of(promoted.organizations, [*promoted.members, newcomer])

    summary = import_roster(session, second, now=LATER)

    assert summary.members_added == ["M009"]
    assert [(c.member_no, c.fields) for c in summary.members_changed] == [("M004", ("category", "full_member_on"))]
    assert summary.members_transferred_out == ["M008"]
    left = session.scalars(select(models.Member).where(models.Member.member_no == "M008")).one()
    assert (left.status, left.transferred_out_at) == (MemberStatus.TRANSFERRED_OUT.value, LATER)
    assert "M008" not in {m.member_no for m in load_roster(session).members}


def test_a_member_who_left_keeps_their_attendance_and_can_come_back(session, basic):
    import_roster(session, basic, now=NOW)
    b01 = session.scalars(select(models.Organization).where(models.Organization.code == "B01")).one()
    m003 = session.scalars(select(models.Member).where(models.Member.member_no == "M003")).one()
    activity = models.Activity(occurrence_key="theme_party_day:B01:2026-05", org_id=b01.id, title="主题党日",
                               starts_at=datetime(2026, 5, 15, 1, 0, tzinfo=timezone.utc))
    session.add(activity)
    session.flush()
    session.add(models.Attendance(activity_id=activity.id, member_id=m003.id, status="present"))
    session.flush()

    assert import_roster(session, without(basic, "M003"), now=LATER).members_transferred_out == ["M003"]
    assert count(session, models.Attendance) == 1
    assert session.scalar(select(func.count()).select_from(models.MemberRole).where(
        models.MemberRole.member_id == m003.id)) == 0

    back = import_roster(session, basic, now=LATER)
    assert back.members_reactivated == ["M003"]
    session.expire_all()
    returned = session.get(models.Member, m003.id)
    assert (returned.status, returned.transferred_out_at) == ("active", None)
    assert {m.member_no: m for m in load_roster(session).members}["M003"].roles == {
        Role.ORGANIZATION_MEMBER, Role.GROUP_LEADER}


@pytest.mark.parametrize("dry_run", [pytest.param(False, id="import"), pytest.param(True, id="dry-run")])
def test_a_roster_without_members_cannot_transfer_everyone_out(session, basic, dry_run):
    import_roster(session, basic, now=NOW)
    with pytest.raises(RosterError) as refused:
        import_roster(session, Roster.of(basic.organizations, []), now=LATER, dry_run=dry_run)
    assert "8 名党员全部标为转出" in str(refused.value)
    assert count(session, models.Member) == 8
    assert all(m.status is MemberStatus.ACTIVE for m in load_roster(session).members)


def test_an_organisation_tree_alone_imports_into_an_empty_database(session, basic):
    summary = import_roster(session, Roster.of(basic.organizations, []), now=NOW)
    assert (len(summary.orgs_added), len(summary.members_added)) == (7, 0)


def test_role_changes_replace_the_seats(session, basic):
    import_roster(session, basic, now=NOW)
    moved = replacing(replacing(basic, "M001", roles=frozenset(), upper_roles=frozenset()),
                      "M002", roles=frozenset({Role.SECRETARY}))
    summary = import_roster(session, moved, now=LATER)
    assert sorted((c.member_no, c.fields) for c in summary.members_changed) == [
        ("M001", ("roles", "upper_roles")), ("M002", ("roles",))]
    # 书记 first, then the 组织委员; M001 no longer runs the branch.
    assert [m.member_no for m in load_roster(session).secretaries_of("B01")] == ["M002", "M003"]


def test_organisations_missing_from_the_file_go_unless_something_points_at_them(session, basic):
    import_roster(session, basic, now=NOW)
    b02 = session.scalars(select(models.Organization).where(models.Organization.code == "B02")).one()
    session.add(models.Activity(occurrence_key="theme_party_day:B02:2026-05", org_id=b02.id, title="主题党日",
                                starts_at=datetime(2026, 5, 15, 1, 0, tzinfo=timezone.utc)))
    session.flush()
    smaller = Roster.of(
        [o for o in basic.organizations if o.code not in {"B01G2", "B02", "B02G1", "Z01"}],
        [replace(m, group_code=None if m.group_code == "B01G2" else m.group_code,
                 roles=m.roles - {Role.GROUP_LEADER} if m.group_code == "B01G2" else m.roles,
                 upper_roles=frozenset(s for s in m.upper_roles if s.org_code != "Z01"))
         for m in basic.members if m.org_code == "B01"],
    )
    summary = import_roster(session, smaller, now=LATER)
    # B02 has an activity, so it and its parent Z01 stay; B02G1 is still M007's group (M007 left).
    assert summary.orgs_kept == ["B02", "B02G1", "Z01"]
    assert summary.orgs_removed == ["B01G2"]
    assert sorted(summary.members_transferred_out) == ["M007", "M008"]
    assert {o.code for o in load_roster(session).organizations} == {"D01", "B01", "B01G1", "B02", "B02G1", "Z01"}


def test_a_dry_run_plans_the_same_and_writes_nothing(session, basic):
    plan = plan_import(session, basic)
    assert plan.summary(dry_run=True).members_added == [m.member_no for m in basic.members]
    assert import_roster(session, basic, now=NOW, dry_run=True).dry_run
    assert (count(session, models.Organization), count(session, models.Member), count(session, models.AuditEntry)) == (
        0, 0, 0)


def test_each_import_leaves_an_audit_entry_with_its_counts(session, basic):
    import_roster(session, basic, now=NOW, actor_label="cli", source="roster/")
    import_roster(session, without(basic, "M005"), now=LATER)
    newest, first = audit.entries(session, action="roster.import")
    assert first.details["members_added"] == 8 and first.details["source"] == "roster/"
    assert (newest.at, newest.details["members_transferred_out"], newest.actor_label) == (LATER, 1, "cli")


def test_import_export_import_changes_nothing(session, basic, tmp_path):
    import_roster(session, basic, now=NOW)
    export_roster(load_roster(session), tmp_path / "out.xlsx")
    summary = import_roster(session, read_roster(tmp_path / "out.xlsx", today=TODAY), now=LATER)
    assert not summary.changes_anything
    assert summary.members_unchanged == 8


def test_naive_now_is_refused(session, basic):
    with pytest.raises(ValueError):
        import_roster(session, basic, now=datetime(2026, 6, 1, 10, 0))
