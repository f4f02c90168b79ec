"""`branchbot invite` prints a one-time code that then binds; unknown members exit 2 with a Chinese error."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bot.cli import build_parser
from bot.commands import invite
from bot.settings import Settings
from storage.db import transaction
from storage.services import binding as binding_svc
from tests.chat.world import MEETING_START, build_world


def test_invite_prints_a_code_that_binds(db_url, session_factory, capsys):
    with transaction(session_factory) as session:
        build_world(session)
    args = build_parser().parse_args(["invite", "P007", "--days", "3"])
    assert invite.run(args, Settings(database_url=db_url), now=MEETING_START) == 0
    out = capsys.readouterr().out
    assert "郑新（P007）" in out and "3月18日" in out
    code = re.search(r"绑定码：(\w+)", out).group(1)
    with transaction(session_factory) as session:
        bound = binding_svc.redeem_invite(session, code, telegram_user_id=4242, private_chat_id=4242, username=None,
                                          now=MEETING_START + timedelta(days=1))
    assert bound.member_name == "郑新"


@pytest.mark.parametrize(("argv", "fragment"), [
    pytest.param(["invite", "P999"], "没有党员编号 P999", id="unknown-member"),
    pytest.param(["invite", "P007", "--days", "0"], "有效天数", id="bad-days"),
])
def test_invite_refuses_with_exit_2(db_url, session_factory, capsys, argv, fragment):
    with transaction(session_factory) as session:
        build_world(session)
    assert invite.run(build_parser().parse_args(argv), Settings(database_url=db_url), now=MEETING_START) == 2
    assert fragment in capsys.readouterr().err
