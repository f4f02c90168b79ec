"""What the container tests share: the docker command, the Python base image to build deploy/Dockerfile on, and
deploy/compose.yaml brought up as a project of its own (the compose tool, the PostgreSQL image, the bot's health)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]

# Tried in this order: the one named, Docker Hub's, the one scripts/docker-base-image.sh makes.
BASE_IMAGES = ([os.environ["BRANCHBOT_DOCKER_PYTHON_IMAGE"]] if os.environ.get("BRANCHBOT_DOCKER_PYTHON_IMAGE")
               else ["python:3.11-slim", "branchbot-base:bookworm-python3"])
STANDIN = PROJECT / "tests" / "ops" / "postgres_standin"
STANDIN_IMAGE = "branchbot-postgres-standin:15"


def docker(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=check)


def have_image(name: str) -> bool:
    """The image is here, or could be pulled now."""
    return (docker("image", "inspect", name, check=False).returncode == 0
            or docker("pull", name, timeout=300, check=False).returncode == 0)


def python_base_image() -> str:
    """A base image for deploy/Dockerfile; skips, with the reason, where no daemon answers or none can be had."""
    if shutil.which("docker") is None:
        pytest.skip("no docker client on this machine")
    try:
        if docker("info", timeout=10, check=False).returncode != 0:
            pytest.skip("no Docker daemon answers here (`docker info` fails)")
        base = next((candidate for candidate in BASE_IMAGES if have_image(candidate)), None)
    except subprocess.TimeoutExpired:
        pytest.skip("the Docker daemon does not answer in time")
    if base is None:
        pytest.skip(f"none of the base images {BASE_IMAGES} is here or pullable (run scripts/docker-base-image.sh, "
                    "or set BRANCHBOT_DOCKER_PYTHON_IMAGE to a local image with python3 and venv)")
    return base


def compose_command() -> list[str]:
    if docker("compose", "version", check=False).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.skip("no compose tool here (`docker compose` or docker-compose)")


def postgres_image(base: str) -> str:
    """`postgres:16` where it is here or pullable, else the stand-in (built here; Docker's cache makes a rebuild
    take seconds)."""
    if have_image("postgres:16"):
        return "postgres:16"
    built = docker("build", "--network", "host", "--build-arg", f"BASE_IMAGE={base}", "-t", STANDIN_IMAGE,
                   str(STANDIN), timeout=600, check=False)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return STANDIN_IMAGE


class ComposeProject:
    """deploy/compose.yaml with the tests' override files, as a project of its own (`-p`, removed by `down`).

    The bot's image is built by compose from deploy/Dockerfile under a fixed name (compose.loopback.yaml's
    `image:`), so repeated runs reuse its layers and leave no image per project behind. Skips, with the reason,
    where no daemon, compose tool or base image is here; `env` takes what the project's files ask for."""

    def __init__(self, overrides: list[str]) -> None:
        base = python_base_image()
        self.compose = compose_command()
        self.name = f"branchbot_test_{uuid.uuid4().hex[:8]}"
        self.env = {**os.environ, "BRANCHBOT_PYTHON_IMAGE": base, "BRANCHBOT_POSTGRES_IMAGE": postgres_image(base)}
        self.files = ["-p", self.name, "-f", str(PROJECT / "deploy" / "compose.yaml"),
                      *[arg for override in overrides for arg in ("-f", str(PROJECT / "tests" / "ops" / override))]]

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([*self.compose, *self.files, *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)

    def containers(self, service: str) -> list[str]:
        return sorted(self.run("ps", "-q", service).stdout.split())

    def down(self) -> subprocess.CompletedProcess:
        return self.run("down", "-v", "--remove-orphans")


def health(container: str) -> dict | None:
    """The bot's /healthz as it answers inside its container (None: not answering yet)."""
    answer = docker("exec", container, "python3", "-c", "import urllib.request; print(urllib.request.urlopen("
                    "'http://127.0.0.1:9108/healthz', timeout=4).read().decode())", check=False)
    return json.loads(answer.stdout) if answer.returncode == 0 else None


def published(container: str, port: int) -> tuple[str, int]:
    """The host address a container's port is published on (`ports:` in an override file)."""
    host, _, number = docker("port", container, str(port)).stdout.split()[0].rpartition(":")
    return host, int(number)


def get_json(url: str) -> dict | None:
    """A JSON answer of any status (/healthz answers 503 when not ok); None while nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=4) as answer:  # noqa: S310 - a test's own loopback URL
            return json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read())
    except (OSError, ValueError):
        return None
