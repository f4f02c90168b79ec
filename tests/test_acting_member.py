"""Who may act as a member: chat (the Telegram account) and every command's `--as`/`--by` refuse a
transferred-out member with the same sentence, and the refusal changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.cli import main
from storage import models
from storage.db import transaction
from storage.errors import PermissionDenied
from storage.services.actors import (
    actor_for_member_no, operator_for_member_no, transferred_out_refusal,
)
from tests.chat.dialog import running_bot
from tests.chat.world import MEETING_START, actor, add_rectification
from tests.cli_runner import cli_world  # noqa: F401  (a fixture)

AFTER = (MEETING_START + timedelta(hours=3)).isoformat()
REFUSAL = transferred_out_refusal("王书记", "P001")
IN_PERSON = transferred_out_refusal("王书记", "P001", in_person=True)
RECTIFY = ["rectification", "add", "--org", "B01", "--problem", "三会一课记录不规范", "--source", "组织生活会",
           "--measures", "会后三日内整理记录", "--owner", "P003", "--deadline", "本月底前", "--now", AFTER]


@pytest.fixture
def world(cli_world, session_factory):  # noqa: ANN001, ANN201
    """The CLI's world with one open 整改 item, then its secretary P001 transferred out."""
    world = cli_world
    with transaction(session_factory) as session:
        world.item = add_rectification(session, world, problem="记录不全", measures="补齐")
        session.get(models.Member, world.members["secretary"]).status = "transferred_out"
    return world


def test_the_command_line_names_the_member_and_chat_speaks_to_them():
    assert REFUSAL == "王书记（P001）的组织关系已转出，不能再以党员身份操作。"
    assert IN_PERSON == "您的组织关系已转出，无法继续使用本机器人。"


def test_the_services_refuse_the_same_way(world, session_factory):
    with transaction(session_factory) as session:
        with pytest.raises(PermissionDenied) as by_chat:
            actor(session, world, "secretary")
        with pytest.raises(PermissionDenied) as by_number:
            operator_for_member_no(session, "P001")
        # Naming a member (an owner, whom to 代签) is not acting as them: the look-up still finds them.
        assert actor_for_member_no(session, "P001").name == "王书记"
    assert (by_chat.value.message, by_number.value.message) == (IN_PERSON, REFUSAL)


@pytest.mark.parametrize("argv", [
    pytest.param(["activity", "add", "--org", "B01", "--title", "党课", "--at", "2025-03-20T15:00+08:00",
                  "--as", "P001", "--now", AFTER], id="activity-add-as"),
    pytest.param(["activity", "cancel", "PARTY_DAY", "--as", "P001", "--now", AFTER], id="activity-cancel-as"),
    pytest.param(["activity", "confirm", "PARTY_DAY", "--held", "--as", "P001", "--now", AFTER], id="activity-confirm-as"),
    pytest.param(["activity", "roll", "PARTY_DAY", "--as", "P001", "--now", AFTER], id="activity-roll-as"),
    pytest.param(["leave", "approve", "PARTY_DAY", "P004", "--as", "P001", "--now", AFTER], id="leave-approve-as"),
    pytest.param([*RECTIFY, "--by", "P001"], id="rectification-add-by"),
    pytest.param(["rectification", "close", "ITEM", "--evidence", "已补齐", "--by", "P001", "--now", AFTER],
                 id="rectification-close-by"),
])
def test_every_acting_flag_refuses_a_transferred_member(world, session_factory, capsys, argv):
    def state():
        with transaction(session_factory) as session:
            return tuple(session.scalar(select(func.count()).select_from(table)) for table in (
                models.AuditEntry, models.Activity, models.Rectification, models.Attendance, models.OutboxMessage,
            )) + (session.scalar(select(func.count()).where(models.Rectification.closed_at.is_not(None))),)

    before = state()
    words = {"PARTY_DAY": str(world.activities["party_day"]), "ITEM": str(world.item)}
    assert main([words.get(word, word) for word in argv]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"错误：{REFUSAL}\n")
    assert state() == before


async def test_chat_refuses_the_member_in_person(world, session_factory):
    async with running_bot(session_factory, world, MEETING_START) as chat:
        await chat.step("secretary", "/rectify", IN_PERSON)
