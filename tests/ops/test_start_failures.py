"""`branchbot run` that cannot start talking to Telegram says why in one line and leaves no session open (#18.7).

A real process: asyncio's "Unclosed client session" is written when the interpreter collects the session, which a
test in this process could not observe reliably.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bot import texts
from loopback import BotApiServer
from tests.runtime.process import PROJECT, free_port

TOKEN = "7000000003:AAStartFailureSecret-0123456789abcdef"


CASES = [
    pytest.param("rejected", id="401-token-rejected"),
    pytest.param("unreachable", id="bad-base-url-unreachable"),
]


@pytest.mark.parametrize("fault", CASES)
def test_run_names_what_is_wrong_and_closes_its_sessions(fault: str, tmp_path):
    server = BotApiServer().start_in_thread()  # its own token: ours is rejected
    try:
        port = free_port() if fault == "unreachable" else server.port
        environment = {
            **os.environ, "BRANCHBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'b.db'}", "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{port}/bot", "BRANCHBOT_ERROR_LOG": str(tmp_path / "e.log"),
            "PYTHONWARNINGS": "default",  # ResourceWarnings too
        }
        environment.pop("BRANCHBOT_WEBHOOK_URL", None)
        done = subprocess.run([sys.executable, "-m", "bot.cli", "run"], cwd=PROJECT, env=environment,
                              capture_output=True, text=True, timeout=60)
    finally:
        server.stop_thread()
    lines = done.stderr.splitlines()
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    said = [line for line in lines if not line.startswith("{")]
    sentence = texts.TELEGRAM_TOKEN_REJECTED if fault == "rejected" else texts.telegram_unreachable(
        f"http://127.0.0.1:{port}")
    assert (done.returncode, said, done.stdout) == (2, [f"错误：{sentence}"], "")
    assert [entry["level"] for entry in logged if entry["level"] in {"ERROR", "CRITICAL"}] == ["ERROR"], logged
    assert "Unclosed" not in done.stderr and TOKEN.partition(":")[2] not in done.stderr
