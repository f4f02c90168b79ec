"""Who the sandbox page offers to play: stable user ids, titles, binding state and group chats."""

from __future__ import annotations

from datetime import date

import pytest

from bot.sandbox.people import (
    SANDBOX_USER_ID_BASE,
    assign_missing_group_chats,
    load_directory,
    sandbox_group_chat_id,
    sandbox_user_id,
)
from storage import models


def _org(session, code: str, name: str, type_: str, parent=None, chat: int | None = None) -> models.Organization:  # noqa: ANN001
    org = models.Organization(code=code, name=name, type=type_, parent=parent, group_chat_id=chat)
    session.add(org)
    session.flush()
    return org


def _member(session, no: str, name: str, org, roles=(), group=None) -> models.Member:  # noqa: ANN001
    member = models.Member(member_no=no, name=name, org_id=org.id, group_id=group.id if group else None,
                           category="正式党员", joined_on=date(2010, 7, 1))
    session.add(member)
    session.flush()
    for role_org, role, upper in roles:
        session.add(models.MemberRole(member_id=member.id, org_id=role_org.id, role=role, upper=upper))
    session.flush()
    return member


@pytest.fixture
def branch_world(session):  # noqa: ANN001, ANN201
    committee = _org(session, "D01", "机关党委", "党委", chat=-100999)
    branch = _org(session, "B01", "第一党支部", "党支部", parent=committee, chat=-100123)
    group = _org(session, "B01G1", "第一党小组", "党小组", parent=branch)
    plain = _member(session, "M003", "王五", branch, group=group)
    secretary = _member(session, "M001", "张书记", branch, roles=[(branch, "书记", False)])
    upper = _member(session, "M002", "李委员", branch, roles=[(committee, "委员", True)])
    session.add(models.TelegramBinding(member_id=upper.id, telegram_user_id=555, private_chat_id=555))
    session.flush()
    return {"branch": branch, "group": group, "plain": plain, "secretary": secretary, "upper": upper}


def test_user_ids_are_stable_and_in_the_sandbox_range() -> None:
    assert sandbox_user_id("M001") == sandbox_user_id("M001")
    assert sandbox_user_id("M001") != sandbox_user_id("M002")
    assert SANDBOX_USER_ID_BASE <= sandbox_user_id("M001") < SANDBOX_USER_ID_BASE * 2


def test_directory_lists_roles_first_and_follows_existing_bindings(session, branch_world) -> None:  # noqa: ANN001
    directory = load_directory(session)

    assert [(p.member_no, p.title, p.bound) for p in directory.people] == [
        ("M001", "书记", False),
        ("M002", "党委委员", True),
        ("M003", "", False),
    ]
    bound = directory.people[1]
    assert bound.user_id == 555, "a bound member keeps the Telegram id they bound with"
    assert directory.people[0].user_id == sandbox_user_id("M001")
    assert directory.people[0].is_secretary and bound.is_committee


def test_every_branch_and_group_gets_a_stable_group_chat(session, branch_world) -> None:  # noqa: ANN001
    changed = assign_missing_group_chats(session)

    assert changed == 1, "only the 党小组 lacked a chat; the branch keeps its roster chat id"
    directory = load_directory(session)
    titles = {g.title: g.chat_id for g in directory.groups}
    assert titles == {"机关党委群": -100999, "第一党支部群": -100123, "第一党小组群": sandbox_group_chat_id("B01G1")}
    plain = next(p for p in directory.people if p.member_no == "M003")
    assert plain.group_chat_ids == (-100123, sandbox_group_chat_id("B01G1"))
    branch_group = directory.group(-100123)
    assert set(branch_group.member_user_ids) == {p.user_id for p in directory.people}


def test_committee_members_also_see_their_committees_group(session, branch_world) -> None:  # noqa: ANN001
    directory = load_directory(session)
    upper = next(p for p in directory.people if p.member_no == "M002")
    plain = next(p for p in directory.people if p.member_no == "M001")

    assert upper.group_chat_ids == (-100123, -100999)
    assert -100999 not in plain.group_chat_ids
    assert directory.group(-100999).member_user_ids == (upper.user_id,)
