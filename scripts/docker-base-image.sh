#!/usr/bin/env bash
# Makes a local Python base image for deploy/Dockerfile where Docker Hub is out of reach: Debian bookworm with
# python3 and its venv module, built with debootstrap from the Debian mirror the machine reaches, carrying the
# machine's CA bundle and pip configuration so that pip inside the build reaches the registries pip reaches here.
# Usage (root, with a Docker daemon running): bash scripts/docker-base-image.sh [IMAGE]
# tests/ops/test_docker.py builds on this image when python:3.11-slim is neither present nor pullable.
set -euo pipefail
image=${1:-branchbot-base:bookworm-python3}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

command -v docker >/dev/null || { echo "no docker client (apt-get install docker.io)" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "no Docker daemon answers (start dockerd)" >&2; exit 1; }
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi
command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" "$mirror" >/dev/null
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
[ -f /etc/pip.conf ] && cp /etc/pip.conf "$rootfs/etc/pip.conf"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | docker import - "$image" >/dev/null
echo "$image"
