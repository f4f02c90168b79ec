"""deploy/compose.yaml brought up for real where a Docker daemon and a compose tool answer: the bot with its own
PostgreSQL, built from deploy/Dockerfile, migrates the schema, leads, polls the loopback Bot API on the host, is
healthy, and stops with exit 0.

Where Docker Hub is out of reach the compose file's images are named by its variables: the Python base as for
tests/ops/test_docker.py, and `postgres:16` replaced by a stand-in built here from Debian's PostgreSQL
(tests/ops/postgres_standin). tests/ops/compose.loopback.yaml only points the bot at the loopback server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid

import pytest

from loopback import BotApiServer
from tests.ops.containers import docker, have_image, python_base_image
from tests.runtime.process import PROJECT
from tests.runtime.waiting import wait_until

pytestmark = pytest.mark.slow

STANDIN = PROJECT / "tests" / "ops" / "postgres_standin"
STANDIN_IMAGE = "branchbot-postgres-standin:15"


def compose_command() -> list[str]:
    if docker("compose", "version", check=False).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.skip("no compose tool here (`docker compose` or docker-compose)")


def postgres_image(base: str) -> str:
    if have_image("postgres:16"):
        return "postgres:16"
    built = docker("build", "--network", "host", "--build-arg", f"BASE_IMAGE={base}", "-t", STANDIN_IMAGE,
                   str(STANDIN), timeout=600, check=False)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return STANDIN_IMAGE


def health(container: str) -> dict | None:
    """The bot's /healthz as it answers inside its container (None: not answering yet)."""
    answer = docker("exec", container, "python3", "-c", "import urllib.request; print(urllib.request.urlopen("
                    "'http://127.0.0.1:9108/healthz', timeout=4).read().decode())", check=False)
    return json.loads(answer.stdout) if answer.returncode == 0 else None


def test_compose_runs_the_bot_with_its_postgresql_and_stops_cleanly():
    base = python_base_image()
    compose = compose_command()
    database_image = postgres_image(base)
    server = BotApiServer(host="0.0.0.0").start_in_thread()  # the bot's container reaches it through the bridge
    project = f"branchbot_test_{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": server.token, "BRANCHBOT_PYTHON_IMAGE": base,
           "BRANCHBOT_POSTGRES_IMAGE": database_image,
           "BRANCHBOT_TEST_API_BASE_URL": f"http://host.docker.internal:{server.port}/bot"}
    files = ["-p", project, "-f", str(PROJECT / "deploy" / "compose.yaml"),
             "-f", str(PROJECT / "tests" / "ops" / "compose.loopback.yaml")]

    def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([*compose, *files, *args], env=env, capture_output=True, text=True, timeout=timeout)

    try:
        up = run("up", "-d", "--build", timeout=1200)
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        bot = run("ps", "-q", "bot").stdout.strip()
        found: list[dict] = []

        def healthy() -> bool:
            answer = health(bot)
            found[:] = [answer] if answer else []
            return bool(answer) and answer["status"] == "ok"

        wait_until(healthy, "the bot healthy", timeout=180)
        answer = found[0]
        assert (answer["role"], answer["mode"], answer["database"]["reachable"]) == ("leader", "polling", True)
        assert answer["database"]["schema"] == answer["database"]["expected_schema"]
        stopped = run("stop", "-t", "60")
        assert stopped.returncode == 0, stopped.stderr
        exit_code = docker("inspect", "--format", "{{.State.ExitCode}}", bot).stdout.strip()
        logs = docker("logs", bot, check=False)
        assert exit_code == "0", logs.stdout[-3000:] + logs.stderr[-3000:]
    finally:
        run("down", "-v", "--remove-orphans")
        server.stop_thread()
