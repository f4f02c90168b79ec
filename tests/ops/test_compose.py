"""deploy/compose.yaml brought up for real where a Docker daemon and a compose tool answer: the bot with its own
PostgreSQL, built from deploy/Dockerfile, migrates the schema, leads, polls the loopback Bot API on the host, is
healthy, and stops with exit 0.

Where Docker Hub is out of reach the compose file's images are named by its variables: the Python base as for
tests/ops/test_docker.py, and `postgres:16` replaced by a stand-in built here from Debian's PostgreSQL
(tests/ops/postgres_standin). tests/ops/compose.loopback.yaml only points the bot at the loopback server.
Webhook mode with two replicas: tests/ops/test_compose_webhook.py.
"""

from __future__ import annotations

import pytest

from loopback import BotApiServer
from tests.ops.containers import ComposeProject, docker, health
from tests.runtime.waiting import wait_until

pytestmark = pytest.mark.slow


def test_compose_runs_the_bot_with_its_postgresql_and_stops_cleanly():
    project = ComposeProject(["compose.loopback.yaml"])
    server = BotApiServer(host="0.0.0.0").start_in_thread()  # the bot's container reaches it through the bridge
    project.env.update(TELEGRAM_BOT_TOKEN=server.token,
                       BRANCHBOT_TEST_API_BASE_URL=f"http://host.docker.internal:{server.port}/bot")
    try:
        up = project.run("up", "-d", "--build", timeout=1200)
        assert up.returncode == 0, up.stdout[-3000:] + up.stderr[-3000:]
        [bot] = project.containers("bot")
        found: list[dict] = []

        def healthy() -> bool:
            answer = health(bot)
            found[:] = [answer] if answer else []
            # /healthz is ok as soon as the schema is current; the role follows once the lease was tried.
            return bool(answer) and answer["status"] == "ok" and answer["role"] != "starting"

        wait_until(healthy, "the bot healthy and leading", timeout=180)
        answer = found[0]
        assert (answer["role"], answer["mode"], answer["database"]["reachable"]) == ("leader", "polling", True)
        assert answer["database"]["schema"] == answer["database"]["expected_schema"]
        stopped = project.run("stop", "-t", "60")
        assert stopped.returncode == 0, stopped.stderr
        exit_code = docker("inspect", "--format", "{{.State.ExitCode}}", bot).stdout.strip()
        logs = docker("logs", bot, check=False)
        assert exit_code == "0", logs.stdout[-3000:] + logs.stderr[-3000:]
    finally:
        project.down()
        server.stop_thread()
