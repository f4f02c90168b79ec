"""A small organisation tree with members, bindings and activities that the chat tests share."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from storage import models
from storage.services import rectification as rect_svc
from storage.services.actors import Actor, actor_for_telegram
from tests.runtime.factories import add_reminder

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Saturday morning in March: B01's 主题党日 starts at 09:00.
MEETING_START = datetime(2025, 3, 15, 9, 0, tzinfo=SHANGHAI)


def actor(session: Session, world: World, who: str) -> Actor:
    """`who` as their bound Telegram account acts in chat."""
    return actor_for_telegram(session, world.telegram[who])


@dataclass
class World:
    """Ids of what `build_world` created, named by the part they play in the tests."""

    orgs: dict[str, int] = field(default_factory=dict)
    members: dict[str, int] = field(default_factory=dict)
    telegram: dict[str, int] = field(default_factory=dict)  # member key -> Telegram user id
    activities: dict[str, int] = field(default_factory=dict)


# key: (member_no, name, org, group, category, roles as (org, role, upper), leading_cadre, telegram id)
MEMBERS = {
    "secretary": ("P001", "王书记", "B01", None, "正式党员", [("B01", "书记", False)], False, 1001),
    "deputy": ("P002", "李副书记", "B01", None, "正式党员", [("B01", "副书记", False)], False, 1002),
    "alice": ("P003", "张三", "B01", "B01G1", "正式党员", [], False, 1003),
    "bob": ("P004", "李四", "B01", "B01G1", "预备党员", [], False, 1004),
    "offline": ("P005", "赵老", "B01", None, "正式党员", [], False, None),
    "activist": ("P006", "钱积极", "B01", None, "入党积极分子", [], False, 1006),
    "other_secretary": ("P101", "孙书记", "B02", None, "正式党员", [("B02", "书记", False)], False, 1101),
    "other_member": ("P102", "周五", "B02", None, "正式党员", [], False, 1102),
    "committee": ("P201", "吴委员", "B02", None, "正式党员", [("D01", "委员", True)], True, 1201),
    "unbound": ("P007", "郑新", "B01", None, "正式党员", [], False, None),
}


def build_world(session: Session, *, with_bindings: bool = True) -> World:
    world = World()
    orgs = [
        ("D01", "机关党委", "党委", None),
        ("B01", "第一党支部", "党支部", "D01"),
        ("B01G1", "第一党小组", "党小组", "B01"),
        ("B02", "第二党支部", "党支部", "D01"),
        ("X01", "外单位党委", "党委", None),
        ("X01B", "外单位支部", "党支部", "X01"),
    ]
    for code, name, kind, parent in orgs:
        row = models.Organization(code=code, name=name, type=kind, parent_id=world.orgs.get(parent) if parent else None,
                                  group_chat_id=-100000 - len(world.orgs) if kind == "党支部" else None)
        session.add(row)
        session.flush()
        world.orgs[code] = row.id
    for key, (no, name, org, group, category, roles, cadre, tg) in MEMBERS.items():
        member = models.Member(member_no=no, name=name, org_id=world.orgs[org],
                               group_id=world.orgs[group] if group else None, category=category,
                               leading_cadre=cadre, joined_on=datetime(2019, 3, 20).date(),
                               full_member_on=datetime(2020, 3, 20).date())
        member.roles = [models.MemberRole(org_id=world.orgs[o], role=r, upper=u) for o, r, u in roles]
        session.add(member)
        session.flush()
        world.members[key] = member.id
        if tg is not None:
            world.telegram[key] = tg
            if with_bindings and key != "unbound":
                session.add(models.TelegramBinding(member_id=member.id, telegram_user_id=tg, private_chat_id=tg))
    session.flush()
    add_activity(session, world, "party_day", "B01", "主题党日", MEETING_START, obligation="theme_party_day",
                 place="三楼会议室", agenda="学习党章")
    add_activity(session, world, "group_meeting", "B01G1", "党小组会", MEETING_START + timedelta(days=3),
                 obligation="group_meeting")
    add_activity(session, world, "assembly", "B01", "支部党员大会", MEETING_START + timedelta(days=10),
                 obligation="general_assembly", audience="party_members")
    add_activity(session, world, "committee_meeting", "B01", "支委会", MEETING_START + timedelta(days=5),
                 obligation="committee_meeting", audience="branch_committee")
    add_activity(session, world, "other_branch", "B02", "第二支部主题党日", MEETING_START,
                 obligation="theme_party_day")
    add_activity(session, world, "cancelled", "B01", "取消的党课", MEETING_START, obligation="party_lecture",
                 status="cancelled")
    add_activity(session, world, "task", "B01", "转正提醒", MEETING_START, kind="task")
    return world


def add_activity(session: Session, world: World, key: str, org: str, title: str, starts_at: datetime,
                 **fields) -> int:
    row = models.Activity(occurrence_key=f"test:{key}", org_id=world.orgs[org], title=title, starts_at=starts_at,
                          **fields)
    session.add(row)
    session.flush()
    world.activities[key] = row.id
    return row.id


def add_rectification(session: Session, world: World, *, by: str = "secretary", org: str = "B01",
                      owners: Iterable[str] = ("alice",), problem: str = "三会一课记录不规范",
                      measures: str = "会后三日内整理记录", due: date = date(2025, 3, 31),
                      now: datetime = MEETING_START) -> int:
    """A 整改 item from 组织生活会 raised by member `by` (through their Telegram account) for `org`, owned by
    `owners` (member keys), due `due` as written "本月底前"; returns its id."""
    item = rect_svc.add_item(
        session, actor(session, world, by), org_id=world.orgs[org], problem=problem,
        source=models.RectificationSource.ORGANIZATIONAL_LIFE, measures=measures,
        owner_ids=[world.members[owner] for owner in owners], deadline=rect_svc.ParsedDay(due, "", "本月底前"), now=now)
    return item.id


def add_sent_reminder(session: Session, world: World, who: str, due_at: datetime, *, activity: str = "party_day",
                      dedup_key: str = "reminder:sent") -> None:
    """A one-day reminder of `activity` already sent to member `who` (whom a move or a cancellation must tell)."""
    add_reminder(session, world.activities[activity], world.members[who], 1440, due_at, dedup_key=dedup_key,
                 state="sent")
