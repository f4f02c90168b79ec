#!/usr/bin/env bash
# Makes a Debian bookworm root filesystem in DIR (which must not exist yet or be empty): python3, its venv module,
# ca-certificates and the packages named after DIR, built with debootstrap from the Debian mirror the machine
# reaches, carrying the machine's CA bundle and pip configuration so that pip inside reaches the registries pip
# reaches here. scripts/docker-base-image.sh imports it as a Docker image, scripts/systemd-rootfs.sh boots it.
# Usage (root): bash scripts/debian-rootfs.sh DIR [PACKAGE...]   (DEBIAN_MIRROR names another mirror)
set -euo pipefail
rootfs=${1:?usage: debian-rootfs.sh DIR [PACKAGE...]}
shift
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages=python3,python3-venv,ca-certificates
for package in "$@"; do packages+=",$package"; done

command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
debootstrap --variant=minbase --include="$packages" bookworm "$rootfs" "$mirror" >/dev/null
cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
if [ -f /etc/pip.conf ]; then cp /etc/pip.conf "$rootfs/etc/pip.conf"; fi
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
