#!/usr/bin/env bash
# Makes, once, what tests/ops/test_systemd.py needs to run deploy/branchbot.service for real under systemd-nspawn:
#   rootfs/     Debian bookworm booting systemd (scripts/debian-rootfs.sh with systemd), ~3 min to make;
#   wheelhouse/ wheels of the project's dependencies built for that rootfs's Python, so that the test installs the
#               wheel offline (dependencies.txt: the pyproject dependencies they were built for), ~2 min; the rootfs's
#               /opt/branchbot is a venv with them installed (as a machine that ran the unit's install once has it),
#               so the test's `pip install branchbot-*.whl` adds the project only (seconds, not ~50 s under load).
# All three live in a cache folder outside the checkout: BRANCHBOT_SYSTEMD_CACHE, default ~/.cache/branchbot/systemd.
# Each part is made again only when it is missing or stale; made, the script prints the folder at once.
# Usage (root): bash scripts/systemd-rootfs.sh [--check]
#   --check builds nothing: prints the folder and exits 0 when all three are ready, else says why and exits 3.
set -euo pipefail
checkout=$(cd "$(dirname "$0")/.." && pwd)
cache=${BRANCHBOT_SYSTEMD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/branchbot/systemd}
packages=(systemd systemd-sysv dbus libnss-systemd)
rootfs_stamp="bookworm ${packages[*]}"
dependencies=$(python3 -c 'import sys, tomllib
print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]))' "$checkout/pyproject.toml")
nspawn=(systemd-nspawn --quiet --register=no --keep-unit --volatile=overlay)

rootfs_ready() { [ "$(cat "$cache/rootfs/.branchbot-rootfs" 2>/dev/null)" = "$rootfs_stamp" ]; }
wheelhouse_ready() { [ "$(cat "$cache/wheelhouse/dependencies.txt" 2>/dev/null)" = "$dependencies" ]; }
venv_ready() { [ "$(cat "$cache/rootfs/opt/branchbot/dependencies.txt" 2>/dev/null)" = "$dependencies" ]; }

if [ "${1:-}" = --check ]; then
  rootfs_ready || { echo "no systemd root filesystem in $cache/rootfs (run scripts/systemd-rootfs.sh as root)" >&2
    exit 3; }
  wheelhouse_ready && venv_ready || { echo "the wheelhouse in $cache/wheelhouse, or the rootfs's /opt/branchbot," \
    "is missing or was made for other dependencies (run scripts/systemd-rootfs.sh as root)" >&2; exit 3; }
  echo "$cache"
  exit 0
fi

command -v systemd-nspawn >/dev/null || apt-get install -y -qq systemd-container >/dev/null
mkdir -p "$cache"
work=$(mktemp -d "$cache/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

if ! rootfs_ready; then
  bash "$checkout/scripts/debian-rootfs.sh" "$work/rootfs" "${packages[@]}"
  echo "$rootfs_stamp" >"$work/rootfs/.branchbot-rootfs"
  rm -rf "$cache/rootfs" && mv "$work/rootfs" "$cache/rootfs"
fi

if ! wheelhouse_ready; then
  python=$checkout/.venv/bin/python
  [ -x "$python" ] || python=python3
  mkdir -p "$work/wheel" "$work/wheelhouse"
  "$python" -m pip wheel --no-deps --no-build-isolation -q -w "$work/wheel" "$checkout"
  # The rootfs's own pip, in a throwaway overlay: the wheels fit the Python the test installs them for.
  "${nspawn[@]}" -D "$cache/rootfs" --pipe --bind-ro="$work/wheel:/wheel" --bind="$work/wheelhouse:/wheelhouse" \
    sh -c 'python3 -m venv /tmp/venv && /tmp/venv/bin/pip install -q wheel &&
      /tmp/venv/bin/pip wheel -q -w /wheelhouse /wheel/branchbot-*.whl'
  rm -f "$work"/wheelhouse/branchbot-*.whl
  echo "$dependencies" >"$work/wheelhouse/dependencies.txt"
  rm -rf "$cache/wheelhouse" && mv "$work/wheelhouse" "$cache/wheelhouse"
fi

if ! venv_ready; then
  # Into the cached rootfs itself (no overlay): every boot of the test then starts with the dependencies in place.
  printf '%s\n' "$dependencies" >"$work/requirements.txt"
  systemd-nspawn --quiet --register=no --keep-unit -D "$cache/rootfs" --pipe \
    --bind-ro="$cache/wheelhouse:/wheelhouse" --bind-ro="$work/requirements.txt:/requirements.txt" \
    sh -c 'rm -rf /opt/branchbot && python3 -m venv /opt/branchbot &&
      /opt/branchbot/bin/pip install -q --no-index --find-links /wheelhouse -r /requirements.txt'
  cp "$work/requirements.txt" "$cache/rootfs/opt/branchbot/dependencies.txt"
fi
echo "$cache"
