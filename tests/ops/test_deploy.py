"""The deployment files agree with the code: the systemd unit passes `systemd-analyze verify`, and the compose
file and the Dockerfile set only environment variables the README documents, and run the real commands."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[2]
DEPLOY = PROJECT / "deploy"


def documented_variables() -> set[str]:
    return set(re.findall(r"`((?:BRANCHBOT|TELEGRAM)_[A-Z_]+)`", (PROJECT / "README.md").read_text()))


def test_the_systemd_unit_verifies(tmp_path):
    assert shutil.which("systemd-analyze"), "systemd-analyze is part of the test environment (scripts/setup.sh)"
    bin_dir = Path(sys.executable).parent
    unit = (DEPLOY / "branchbot.service").read_text().replace("/opt/branchbot/bin", str(bin_dir))
    assert (bin_dir / "branchbot").exists()
    (tmp_path / "branchbot.service").write_text(unit)
    result = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "branchbot.service")],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    problems = [line for line in result.stderr.splitlines() if "branchbot.service" in line]
    assert problems == []


def test_compose_runs_the_bot_with_postgresql_and_documented_settings():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    bot = compose["services"]["bot"]
    assert bot["build"]["dockerfile"] == "deploy/Dockerfile"
    assert bot["environment"]["BRANCHBOT_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert set(bot["environment"]) <= documented_variables()
    # Docker Hub's images unless the machine names its own (test_compose.py brings the file up for real).
    assert compose["services"]["db"]["image"] == "${BRANCHBOT_POSTGRES_IMAGE:-postgres:16}"
    assert bot["build"]["args"] == {"PYTHON_IMAGE": "${BRANCHBOT_PYTHON_IMAGE:-python:3.11-slim}"}


def test_the_dockerfile_installs_the_wheel_and_runs_branchbot():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert 'CMD ["branchbot", "run"]' in dockerfile
    assert "/opt/branchbot/bin/pip install" in dockerfile and "COPY config config" in dockerfile
    assert set(re.findall(r"(BRANCHBOT_[A-Z_]+)=", dockerfile)) <= documented_variables()
