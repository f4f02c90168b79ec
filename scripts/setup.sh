#!/usr/bin/env bash
# Sets up a fresh machine: a virtual environment with branchbot installed (and, with --test, what the tests need).
set -euo pipefail
cd "$(dirname "$0")/.."

want_tests=0
[ "${1:-}" = "--test" ] && want_tests=1

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "branchbot needs Python 3.11 or newer (found: $("$python" --version 2>&1))" >&2
  exit 1
fi

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "$want_tests" = 1 ]; then
  .venv/bin/python -m pip install --quiet -e '.[test]'
  # Browser tests drive Debian's Chromium (with CJK and emoji fonts for readable screenshots); install them
  # where we may (root on Debian), else those tests skip with the reason.
  # systemd provides systemd-analyze, with which tests/ops/test_deploy.py verifies deploy/branchbot.service.
  browser_packages="chromium fonts-noto-cjk fonts-noto-color-emoji systemd"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && ! dpkg -s $browser_packages >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $browser_packages >/dev/null) \
      || echo "note: could not install $browser_packages; browser tests will be skipped" >&2
  fi
  # PostgreSQL cases run when a server answers on 127.0.0.1:5432; start the local one if it is installed but down.
  if command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    for version in $(ls /etc/postgresql 2>/dev/null); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
    done
  fi
else
  .venv/bin/python -m pip install --quiet -e .
fi
