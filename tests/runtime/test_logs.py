"""Logs never contain the bot token, however it reaches them (message, args, URL, traceback)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.cli import main
from bot import texts
from bot.runtime.logs import RedactingFilter, configure_logging, secrets_of

TOKEN = "123456789:AAE-secret-token-value"


@pytest.fixture
def captured():
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging([TOKEN], stream=stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


@pytest.mark.parametrize(
    "emit",
    [
        pytest.param(lambda log: log.info("calling https://api.telegram.org/bot%s/sendMessage", TOKEN), id="url-in-args"),
        pytest.param(lambda log: log.warning(f"token is {TOKEN}"), id="token-in-message"),
        pytest.param(lambda log: log.error("request failed", exc_info=RuntimeError(f"POST /bot{TOKEN}/getMe")),
                     id="token-in-traceback"),
    ],
)
def test_the_token_is_redacted(captured, emit):
    emit(logging.getLogger("telegram.ext.test"))
    output = captured.getvalue()
    assert TOKEN not in output
    assert "<redacted>" in output
    assert json.loads(output.splitlines()[0])["logger"] == "telegram.ext.test"


def test_httpx_request_lines_are_quiet(captured):
    logging.getLogger("httpx").info('HTTP Request: POST https://api.telegram.org/bot%s/getMe "200 OK"', TOKEN)
    assert captured.getvalue() == ""


def test_an_error_that_ends_branchbot_run_is_one_line_without_the_token(captured, tmp_path, monkeypatch, capfd):
    # aiohttp refuses this URL and names it whole in the error, token included, before any message is sent.
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:99999/bot")
    monkeypatch.setenv("BRANCHBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    assert main(["run"]) == 2
    out, err = capfd.readouterr()
    assert TOKEN not in out + err and TOKEN.partition(":")[2] not in out + err
    assert err.splitlines()[-1] == f"错误：{texts.telegram_unreachable('http://127.0.0.1:99999')}"


@pytest.mark.parametrize(
    ("token", "text", "shown"),
    [
        pytest.param(TOKEN, f"POST /bot{TOKEN}/getMe", "POST /bot<redacted>/getMe", id="whole-token"),
        pytest.param(TOKEN, "secret AAE-secret-token-value alone", "secret <redacted> alone", id="secret-half-alone"),
        pytest.param("12:short", "12:short and short", "<redacted> and short", id="short-secret-half-left-alone"),
        pytest.param(None, f"POST /bot{TOKEN}/getMe", f"POST /bot{TOKEN}/getMe", id="no-token-set"),
    ],
)
def test_the_token_and_its_secret_half_are_redacted(token, text, shown):
    assert RedactingFilter(secrets_of(token)).redact(text) == shown
