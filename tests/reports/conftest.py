"""A small organisation with a year of recorded meetings, built directly from storage.models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from storage import models

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@dataclass
class World:
    """Ids of what `world` created, by code / member number / occurrence key."""

    orgs: dict[str, int]
    members: dict[str, int]
    activities: dict[str, int]


def add_org(session: Session, code: str, name: str, type_: str, parent: models.Organization | None = None) -> models.Organization:
    org = models.Organization(code=code, name=name, type=type_, parent=parent)
    session.add(org)
    session.flush()
    return org


def add_member(session: Session, no: str, name: str, org, group=None, *, roles=(), upper=(), cadre=False,
               category="正式党员") -> models.Member:
    member = models.Member(member_no=no, name=name, org_id=org.id, group_id=group.id if group else None,
                           category=category, leading_cadre=cadre)
    session.add(member)
    session.flush()
    for role in roles:
        session.add(models.MemberRole(member_id=member.id, org_id=(group or org).id if role == "党小组长" else org.id,
                                      role=role, upper=False))
    for upper_org, role in upper:
        session.add(models.MemberRole(member_id=member.id, org_id=upper_org.id, role=role, upper=True))
    session.flush()
    return member


def add_activity(session: Session, key: str, org, obligation: str | None, when: str, status: str = "held", *,
                 title: str | None = None, audience: str = "all_members", kind: str = "meeting", **extra) -> models.Activity:
    activity = models.Activity(
        occurrence_key=key, org_id=org.id, obligation=obligation, kind=kind, title=title or key,
        starts_at=local(when), audience=audience, status=status, **extra,
    )
    session.add(activity)
    session.flush()
    return activity


def mark(session: Session, activity, member, status: str, reason: str | None = None, via: str = "private") -> None:
    session.add(models.Attendance(activity_id=activity.id, member_id=member.id, status=status,
                                  leave_reason=reason, via=via))


def build_world(session: Session) -> World:
    """党委 D01 over 第一支部 B01 (with 第一党小组 B01G1) and 第二支部 B02.

    王书记 (M001) is B01's 书记, sits on D01's committee and is a leading cadre (双重组织生活).
    """
    d01 = add_org(session, "D01", "机关党委", "党委")
    b01 = add_org(session, "B01", "第一支部", "党支部", d01)
    g1 = add_org(session, "B01G1", "第一党小组", "党小组", b01)
    b02 = add_org(session, "B02", "第二支部", "党支部", d01)
    wang = add_member(session, "M001", "王书记", b01, g1, roles=["书记"], upper=[(d01, "委员")], cadre=True)
    li = add_member(session, "M002", "李明", b01, g1)
    zhang = add_member(session, "M003", "张华", b01, g1, roles=["党小组长"])
    zhao = add_member(session, "M004", "赵强", b01)
    chen = add_member(session, "M010", "陈书记", b02, roles=["书记"])
    liu = add_member(session, "M011", "刘芳", b02, category="预备党员")
    d01_sec = add_member(session, "M020", "周书记", b02, upper=[(d01, "书记")])

    tpd1 = add_activity(session, "theme_party_day:B01:2025-01", b01, "theme_party_day", "2025-01-15T09:00",
                        title="一月主题党日", topic="学习二十届三中全会精神", recorder="李明", minutes="传达学习，讨论发言。")
    mark(session, tpd1, wang, "present")
    mark(session, tpd1, li, "leave", "出差北京")
    mark(session, tpd1, zhang, "proxy", via="proxy")
    # 赵强 did not answer: absent.
    cm = add_activity(session, "committee_meeting:B01:2025-01", b01, "committee_meeting", "2025-01-07T15:00",
                      title="一月支委会", audience="branch_committee")
    mark(session, cm, wang, "present")
    gm = add_activity(session, "group_meeting:B01G1:2025-02", g1, "group_meeting", "2025-02-11T15:00", title="二月党小组会")
    for who in (wang, li, zhang):
        mark(session, gm, who, "present")
    olm = add_activity(session, "org_life_meeting:D01:2025", d01, "org_life_meeting", "2025-12-10T09:00",
                       title="机关党委组织生活会", status="scheduled")
    lec = add_activity(session, "party_lecture:D01:2025Q1", d01, "party_lecture", "2025-03-20T14:00",
                       title="党委书记讲党课", lecturer="周书记", topic="以学铸魂")
    mark(session, lec, wang, "present")
    mark(session, lec, d01_sec, "present")
    ga = add_activity(session, "general_assembly:B02:2025Q1", b02, "general_assembly", "2025-01-01T00:30",
                      title="第二支部党员大会")  # 31 December 2024 in UTC, 2025 in Shanghai
    mark(session, ga, chen, "present")
    mark(session, ga, liu, "leave", "病假")
    cancelled = add_activity(session, "theme_party_day:B01:2025-02", b01, "theme_party_day", "2025-02-15T09:00",
                             status="cancelled", title="二月主题党日")
    notice = add_activity(session, "holiday_integrity_reminder:B01:2025-01", b01, "holiday_integrity_reminder",
                          "2025-01-24T09:00", kind="notice", title="春节廉政提醒", status="scheduled")
    birthday = add_activity(session, "political_birthday:M002:2025", b01, "political_birthday", "2025-06-01T09:00",
                            kind="notice", title="李明的政治生日", member_id=li.id, status="scheduled")
    next_year = add_activity(session, "theme_party_day:B01:2026-01", b01, "theme_party_day", "2026-01-15T09:00",
                             status="scheduled", title="2026年一月主题党日")
    session.flush()
    return World(
        orgs={o.code: o.id for o in (d01, b01, g1, b02)},
        members={m.member_no: m.id for m in (wang, li, zhang, zhao, chen, liu, d01_sec)},
        activities={a.occurrence_key: a.id for a in (tpd1, cm, gm, olm, lec, ga, cancelled, notice, birthday, next_year)},
    )


@pytest.fixture
def world(session: Session) -> World:
    return build_world(session)
