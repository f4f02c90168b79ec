"""`branchbot invite` prints a one-time code that then binds; unknown members exit 2 with a Chinese error."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.cli import build_parser
from bot.commands import invite
from bot.settings import Settings
from storage.db import transaction
from storage.services import binding as binding_svc
from tests.chat.world import MEETING_START, build_world


def test_invite_prints_a_code_that_binds(db_url, session_factory, capsys, monkeypatch):
    monkeypatch.setattr(binding_svc, "new_code", lambda: "INVITE2025")  # the output quotes the code
    with transaction(session_factory) as session:
        build_world(session)
    args = build_parser().parse_args(["invite", "P007", "--days", "3"])
    assert invite.run(args, Settings(database_url=db_url), now=MEETING_START) == 0
    out = capsys.readouterr().out
    assert out == ("已为 郑新（P007）生成绑定码：INVITE2025\n"
                   "有效期至 3月18日（周二）09:00，只能使用一次。\n"
                   "（未能取得机器人用户名：请让本人在与机器人的私聊中发送 /start INVITE2025）\n")
    with transaction(session_factory) as session:
        bound = binding_svc.redeem_invite(session, "INVITE2025", telegram_user_id=4242, private_chat_id=4242, username=None,
                                          now=MEETING_START + timedelta(days=1))
    assert bound.member_name == "郑新"


@pytest.mark.parametrize(("argv", "message"), [
    pytest.param(["invite", "P999"], "错误：名册中没有党员编号 P999。\n", id="unknown-member"),
    pytest.param(["invite", "P007", "--days", "0"], "错误：有效天数应在 1 到 90 天之间。\n", id="bad-days"),
])
def test_invite_refuses_with_exit_2(db_url, session_factory, capsys, argv, message):
    with transaction(session_factory) as session:
        build_world(session)
    assert invite.run(build_parser().parse_args(argv), Settings(database_url=db_url), now=MEETING_START) == 2
    assert capsys.readouterr().err == message
