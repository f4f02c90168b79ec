"""The image of deploy/Dockerfile, built and run for real where a Docker daemon answers: against the local
PostgreSQL and the loopback Bot API, it delivers every due reminder once and stops cleanly on `docker stop`.

Skipped, with the reason, where no daemon runs or no Python base image can be had. Docker Hub may be out of
reach: BRANCHBOT_DOCKER_PYTHON_IMAGE names a local image with python3 and its venv module instead, and without
it the image scripts/docker-base-image.sh makes (Debian bookworm from the Debian mirror) is used when present. The container shares the
host's network (`--network host`), so it reaches PostgreSQL and the loopback server on 127.0.0.1 only.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.ops.containers import docker, python_base_image
from tests.runtime.factories import at
from tests.runtime.process import FIRST_CHAT, PROJECT, outbox_states, seed, sends_per_chat, start_server
from tests.runtime.waiting import wait_until

pytestmark = pytest.mark.slow

IMAGE = "branchbot:test"
MEMBERS = 5
NOW = at("2025-03-12 10:00")


@pytest.fixture(scope="module")
def image() -> str:
    base = python_base_image()
    built = docker("build", "--network", "host", "--build-arg", f"PYTHON_IMAGE={base}",
                   "-f", "deploy/Dockerfile", "-t", IMAGE, str(PROJECT), timeout=1200, check=False)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return IMAGE


def test_the_image_delivers_due_reminders_from_postgresql_and_stops_cleanly(image, pg_server_url):
    activity = seed(pg_server_url, members=MEMBERS, starts=NOW + timedelta(days=3), now=NOW - timedelta(days=1),
                    leads="4320")
    server = start_server(MEMBERS)
    name = f"branchbot-test-{uuid.uuid4().hex[:8]}"
    env = {
        "BRANCHBOT_DATABASE_URL": pg_server_url, "TELEGRAM_BOT_TOKEN": server.token,
        "TELEGRAM_API_BASE_URL": server.base_url, "BRANCHBOT_CLOCK_START": NOW.isoformat(),
        "BRANCHBOT_HORIZON_DAYS": "0.0001", "BRANCHBOT_RATE_LIMIT": "off", "BRANCHBOT_POLL_SECONDS": "0.5",
        "BRANCHBOT_HEALTH_LISTEN": "127.0.0.1:0",
    }
    run = docker("run", "-d", "--name", name, "--network", "host",
                 *[arg for key, value in env.items() for arg in ("-e", f"{key}={value}")], image, check=False)
    assert run.returncode == 0, run.stderr
    try:
        wait_until(lambda: len(sends_per_chat(server)) == MEMBERS, "every member's reminder", timeout=120)
        wait_until(lambda: outbox_states(pg_server_url, activity).get("sent") == MEMBERS, "the sends recorded")
        stopped = docker("stop", "--time", "60", name, timeout=90)
        assert stopped.returncode == 0
        exit_code = docker("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        logs = docker("logs", name, check=False)
    finally:
        docker("rm", "-f", name, check=False)
        server.stop_thread()
    assert exit_code == "0", logs.stdout[-3000:] + logs.stderr[-3000:]
    assert sends_per_chat(server) == {FIRST_CHAT + n: 1 for n in range(1, MEMBERS + 1)}
