"""`branchbot sandbox` as a person starts it: the address in Chinese and English, a working page, a clean stop."""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from bot.commands import run as run_command
from bot.settings import Settings

STARTUP_SECONDS = 90


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, queue.Queue[str]]:
    env = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL")}
    env.update({"BRANCHBOT_CLOCK_START": "2026-11-16T07:00:00+08:00", "PYTHONUNBUFFERED": "1",
                "BRANCHBOT_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/production"})
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "sandbox", *args], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()  # type: ignore[union-attr]
    return process, lines


def _read_until(lines: queue.Queue[str], marker: str) -> list[str]:
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=STARTUP_SECONDS)
        except queue.Empty:
            pytest.fail(f"no line with {marker!r}; output so far:\n" + "".join(seen))
        seen.append(line)
        if marker in line:
            return seen


@pytest.mark.slow
def test_sandbox_command_serves_the_page_on_its_own_database_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    process, lines = _start(tmp_path, "--port", "0")
    try:
        printed = _read_until(lines, "Ctrl-C")
        text = "".join(printed)
        url = re.search(r"http://127\.0\.0\.1:\d+/", text).group(0)
        assert "请在浏览器中打开" in text and f"open {url} in a browser" in text
        # A PostgreSQL URL in the environment is never used: the sandbox keeps to its own SQLite file.
        assert str(tmp_path / "branchbot-sandbox.db") in text and "不是 SQLite" in text
        assert "已载入演示名册" in text
        with urllib.request.urlopen(url + "api/people", timeout=10) as response:
            people = json.load(response)["people"]
        assert len(people) > 10 and any(p["title"].startswith("书记") for p in people)
        with urllib.request.urlopen(url, timeout=10) as response:
            assert "branchbot 沙盒" in response.read().decode()
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(30)
    assert code == 0
    assert (tmp_path / "branchbot-sandbox.db.clock.json").exists(), "the sandbox time is kept for the next start"


def test_run_without_a_token_starts_the_sandbox_on_the_default_port(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list = []

    async def fake_serve(settings, options):  # noqa: ANN001, ANN202 - records what `run` asked for
        started.append(options)
        return 0

    monkeypatch.setattr("bot.sandbox.app.serve_until_stopped", fake_serve)

    code = run_command.run(argparse.Namespace(command="run"), Settings.from_env({}))

    assert code == 0
    assert [(o.port, o.load_demo) for o in started] == [(8765, True)]
