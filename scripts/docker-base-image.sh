#!/usr/bin/env bash
# Makes a local Python base image for deploy/Dockerfile where Docker Hub is out of reach: Debian bookworm with
# python3 and its venv module, as scripts/debian-rootfs.sh makes it (debootstrap from the Debian mirror the machine
# reaches, with the machine's CA bundle and pip configuration), imported into Docker.
# Usage (root, with a Docker daemon running): bash scripts/docker-base-image.sh [IMAGE]
# tests/ops/test_docker.py builds on this image when python:3.11-slim is neither present nor pullable.
set -euo pipefail
image=${1:-branchbot-base:bookworm-python3}

command -v docker >/dev/null || { echo "no docker client (apt-get install docker.io)" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "no Docker daemon answers (start dockerd)" >&2; exit 1; }
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
bash "$(dirname "$0")/debian-rootfs.sh" "$rootfs"
tar -C "$rootfs" -c . | docker import - "$image" >/dev/null
echo "$image"
