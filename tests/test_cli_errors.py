"""No traceback reaches a user: an uninitialised, older or unreachable database, and unexpected errors, are one line."""

from __future__ import annotations

import pytest

from bot.cli import main
from storage.migrate import downgrade, head, upgrade
from tests.cli_runner import point_cli_at

COMMANDS = {
    "invite": ["invite", "M001"],
    "report": ["report", "attendance", "--org", "B01"],
    "plan": ["plan", "--year", "2025"],
    "activity": ["activity", "add", "--org", "B01", "--title", "党课", "--at", "2025-03-20T15:00+08:00"],
}


@pytest.fixture
def cli_env(db_url, tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    """`branchbot` pointed at the empty test database, its error log and working directory in tmp_path."""
    point_cli_at(monkeypatch, db_url)
    monkeypatch.setenv("BRANCHBOT_ERROR_LOG", str(tmp_path / "errors.log"))
    monkeypatch.chdir(tmp_path)
    return db_url


def shown(url: str) -> str:
    from storage.db import shown_url

    return shown_url(url)


@pytest.mark.parametrize("argv", COMMANDS.values(), ids=COMMANDS.keys())
def test_every_command_on_a_fresh_database_names_branchbot_init(cli_env, argv, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err == f"错误：数据库 {shown(cli_env)} 尚未初始化，请先运行 branchbot init。\n"
    assert captured.out == ""


@pytest.mark.parametrize("argv", COMMANDS.values(), ids=COMMANDS.keys())
def test_every_command_on_an_older_schema_asks_for_branchbot_init(cli_env, argv, capsys):
    upgrade(cli_env)
    downgrade(cli_env, "-1")
    older = _current(cli_env)
    assert older is not None and older != head()
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        f"错误：数据库结构版本过旧（{older}，本程序需要 {head()}），请先运行 branchbot init 升级。\n")


def test_an_unreachable_database_is_one_line(monkeypatch, tmp_path, capsys):
    url = "postgresql+psycopg://nobody:secret@127.0.0.1:1/none?connect_timeout=2"
    monkeypatch.setenv("BRANCHBOT_DATABASE_URL", url)
    assert main(["invite", "M001"]) == 2
    err = capsys.readouterr().err
    assert err == ("错误：无法连接数据库 postgresql+psycopg://nobody:***@127.0.0.1:1/none?connect_timeout=2"
                   "（OperationalError），请检查 BRANCHBOT_DATABASE_URL 与数据库服务。\n")


@pytest.mark.parametrize(("argv", "message"), [
    pytest.param(["init"], "错误：无法连接或升级数据库 {url}：ArgumentError: Could not parse SQLAlchemy URL from given URL string\n",
                 id="init"),
    pytest.param(["invite", "M001"], "错误：无法连接数据库 {url}（ArgumentError），请检查 BRANCHBOT_DATABASE_URL 与数据库服务。\n",
                 id="invite"),
])
def test_a_url_sqlalchemy_cannot_read_is_named_with_its_password_hidden(monkeypatch, tmp_path, capsys, argv, message):
    monkeypatch.setenv("BRANCHBOT_DATABASE_URL", "postgresql//bot:s3cret@db/branchbot")
    monkeypatch.setenv("BRANCHBOT_ERROR_LOG", str(tmp_path / "errors.log"))
    main(argv)
    assert capsys.readouterr().err == message.format(url="postgresql//bot:***@db/branchbot")


def test_an_unexpected_error_is_one_line_and_the_details_go_to_the_log(cli_env, monkeypatch, capsys):
    upgrade(cli_env)
    import bot.commands.invite as invite

    def broken(args, settings):  # noqa: ANN001, ANN202
        raise KeyError("boom")

    monkeypatch.setattr(invite, "run", broken)
    log = cli_env and __import__("os").environ["BRANCHBOT_ERROR_LOG"]
    assert main(["invite", "M001"]) == 1
    assert capsys.readouterr().err == f"错误：意外错误（KeyError），未完成操作；详情已写入 {log}\n"
    details = open(log, encoding="utf-8").read()
    assert "Traceback (most recent call last)" in details and "KeyError: 'boom'" in details


def _current(url: str) -> str | None:
    from storage.migrate import current

    return current(url)
