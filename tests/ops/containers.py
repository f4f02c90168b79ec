"""What the container tests share: the docker command, and the Python base image to build deploy/Dockerfile on."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

# Tried in this order: the one named, Docker Hub's, the one scripts/docker-base-image.sh makes.
BASE_IMAGES = ([os.environ["BRANCHBOT_DOCKER_PYTHON_IMAGE"]] if os.environ.get("BRANCHBOT_DOCKER_PYTHON_IMAGE")
               else ["python:3.11-slim", "branchbot-base:bookworm-python3"])


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
