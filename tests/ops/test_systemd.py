"""deploy/branchbot.service run for real by systemd, where the machine allows: a Debian bookworm root filesystem
booted with `systemd-nspawn -b`, the project's wheel installed into /opt/branchbot as the unit's header says, the
unit enabled against PostgreSQL and the loopback Bot API on the host. `branchbot init` (ExecStartPre) migrates the
schema, the bot leads and answers /healthz, a SIGKILL is followed by a restart (Restart=on-failure), the hardened
service (DynamicUser, ProtectSystem=strict) writes its error log and caches where the unit says, and `systemctl
stop` ends with exit status 0.

scripts/systemd-rootfs.sh makes the root filesystem, a wheelhouse of the dependencies (for an offline install) and
their venv at /opt/branchbot in it, in a cache folder outside the checkout; this test only asks it whether they are
ready (`--check`) and
never builds them. Skipped, with the reason, where not root, where systemd-nspawn is missing, where they are not
ready, or where the container does not boot. The container shares the host's network (no --private-network): it
reaches PostgreSQL and the loopback server on 127.0.0.1, and the host reaches its /healthz there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from bot import texts
from loopback import BotApiServer
from storage.db import shown_url
from storage.migrate import SchemaChange, schema_status
from tests.runtime.process import PROJECT, free_port
from tests.runtime.waiting import wait_until

pytestmark = pytest.mark.slow

PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BOOT_SECONDS = 90
# What the unit's own process, as its dynamic user in its own mount namespace, finds it can and cannot write.
PROBE = """
from bot.cli import _log_unexpected
from bot.settings import Settings
print(_log_unexpected(RuntimeError("probe from the unit's sandbox"), Settings.from_env(lenient=True)))
try:
    open("/opt/branchbot/probe", "w")
except OSError as exc:
    print(exc.errno)
"""


class Machine:
    """A booted container: commands run in all its namespaces (nsenter), with a clean environment."""

    def __init__(self, process: subprocess.Popen, leader: int) -> None:
        self.process = process
        self.leader = leader
        self.root = Path(f"/proc/{leader}/root")  # its file system, as the host writes into it

    def run(self, *argv: str, env: dict[str, str] | None = None, timeout: float = 60,
            check: bool = True) -> subprocess.CompletedProcess:
        variables = [PATH, "HOME=/root", *(f"{key}={value}" for key, value in (env or {}).items())]
        done = subprocess.run(["nsenter", "-t", str(self.leader), "-a", "env", "-i", *variables, *argv],
                              capture_output=True, text=True, timeout=timeout, check=False)
        if check:
            assert done.returncode == 0, f"{argv}: {done.stdout[-3000:]}{done.stderr[-3000:]}"
        return done

    def show(self, *properties: str) -> dict[str, str]:
        shown = self.run("systemctl", "show", "branchbot", *(f"--property={name}" for name in properties)).stdout
        return dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)

    def journal(self) -> str:
        return self.run("journalctl", "--unit=branchbot", "--no-pager", "--output=cat").stdout


def ready_cache() -> Path:
    if os.geteuid() != 0:
        pytest.skip("systemd-nspawn needs root")
    missing = [tool for tool in ("systemd-nspawn", "nsenter") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} missing here (apt-get install systemd-container)")
    check = subprocess.run(["bash", str(PROJECT / "scripts" / "systemd-rootfs.sh"), "--check"],
                           capture_output=True, text=True, timeout=60, check=False)
    if check.returncode != 0:
        pytest.skip(check.stderr.strip())
    return Path(check.stdout.strip())


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def boot(cache: Path, wheels: Path, log: Path) -> Machine:
    """The cached root file system booted on a throwaway overlay (the cache stays as it is); skips if it cannot."""
    with log.open("w") as output:
        process = subprocess.Popen(
            ["systemd-nspawn", "--register=no", "--keep-unit", "--volatile=overlay", "--console=read-only",
             f"--bind-ro={wheels}:/root/wheels", f"--bind-ro={cache / 'wheelhouse'}:/root/wheelhouse",
             "-D", str(cache / "rootfs"), "--boot"],
            stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT)
    machine: list[Machine] = []

    def booted() -> bool:
        if process.poll() is not None:
            return True
        if not machine:
            leaders = children(process.pid)
            if not leaders:
                return False
            machine.append(Machine(process, leaders[0]))
        state = machine[0].run("systemctl", "is-system-running", check=False).stdout.strip()
        return state in {"running", "degraded"}

    try:
        wait_until(booted, "the container booted", timeout=BOOT_SECONDS)
    except TimeoutError:
        stop(process)
        pytest.skip(f"the container did not finish booting in {BOOT_SECONDS} s: {log.read_text()[-2000:]}")
    if process.poll() is not None:
        pytest.skip(f"the container does not boot here (systemd-nspawn exited {process.returncode}): "
                    f"{log.read_text()[-2000:]}")
    return machine[0]


def stop(process: subprocess.Popen) -> None:
    """SIGTERM makes systemd-nspawn power the container off in order."""
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


@pytest.fixture
def machine(tmp_path):
    cache = ready_cache()
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(wheels), str(PROJECT)], capture_output=True, text=True, timeout=300, check=False)
    assert built.returncode == 0, built.stderr
    booted = boot(cache, wheels, tmp_path / "console.log")
    try:
        yield booted
    finally:
        stop(booted.process)


def health(port: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=4) as answer:
            return json.loads(answer.read())
    except OSError:
        return None


def healthy_leader(port: int) -> bool:
    answer = health(port)
    return bool(answer) and answer["status"] == "ok" and answer["role"] == "leader"


def test_the_unit_runs_the_bot_restarts_it_and_stops_it_cleanly(machine, pg_url):
    # As the unit's header says, on a machine that has the dependencies already (scripts/systemd-rootfs.sh installed
    # them into /opt/branchbot from the wheelhouse, which keeps pip off the network): pip adds the project.
    machine.run("sh", "-c", "python3 -m venv /opt/branchbot && "
                "/opt/branchbot/bin/pip install -q /root/wheels/branchbot-*.whl",
                env={"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "/root/wheelhouse"}, timeout=300)
    shutil.copy(PROJECT / "deploy" / "branchbot.service", machine.root / "etc/systemd/system/branchbot.service")
    server = BotApiServer().start_in_thread()
    # EnvironmentFile= overrides the unit's Environment=: the health port moves off 9108, which on the shared
    # network something else on the host may hold.
    port = free_port()
    (machine.root / "etc/branchbot").mkdir()
    (machine.root / "etc/branchbot/env").write_text(
        f"TELEGRAM_BOT_TOKEN={server.token}\nTELEGRAM_API_BASE_URL={server.base_url}\n"
        f"BRANCHBOT_DATABASE_URL={pg_url}\nBRANCHBOT_HEALTH_LISTEN=127.0.0.1:{port}\n")
    assert schema_status(pg_url).uninitialised
    try:
        machine.run("systemctl", "daemon-reload")
        machine.run("systemctl", "enable", "--now", "branchbot", timeout=120)
        wait_until(lambda: healthy_leader(port), "the bot healthy and leading", timeout=120)
        assert machine.show("ActiveState", "SubState") == {"ActiveState": "active", "SubState": "running"}
        status = schema_status(pg_url)
        assert status.current == status.head
        # ExecStartPre's `branchbot init` made it (`run` would have too): what init prints is in the unit's journal.
        said = texts.cli_schema_done(shown_url(pg_url), SchemaChange(before=None, after=status.head)).splitlines()
        journal = machine.journal().splitlines()
        assert all(line in journal for line in said), journal

        # The hardening leaves the bot what it writes: the error log in its state directory, matplotlib's cache in
        # its cache directory; the installed code stays read-only to it.
        main = machine.show("MainPID")["MainPID"]
        ids = dict(line.split(":", 1) for line in (machine.root / f"proc/{main}/status").read_text().splitlines())
        uid, gid = ids["Uid"].split()[0], ids["Gid"].split()[0]
        assert uid != "0"  # DynamicUser
        environ = [item for item in (machine.root / f"proc/{main}/environ").read_bytes().decode().split("\0") if item]
        # --wd: the process's own working directory (a path opened before entering its namespace is not in it).
        probe = machine.run("nsenter", "-t", main, "-m", "-S", uid, "-G", gid, "--wd",
                            "env", "-i", *environ, "/opt/branchbot/bin/python", "-c", PROBE)
        assert probe.stdout.split() == ["/var/lib/branchbot/errors.log", "30"]  # 30: EROFS
        assert "RuntimeError: probe from the unit's sandbox" in machine.run(
            "cat", "/var/lib/branchbot/errors.log").stdout
        assert "Read-only file system" not in machine.journal()  # the old unit: matplotlib at /.config
        assert machine.run("test", "-d", "/var/cache/branchbot/matplotlib", check=False).returncode == 0

        machine.run("systemctl", "kill", "--signal=KILL", "branchbot")

        def restarted() -> bool:
            shown = machine.show("NRestarts", "ActiveState", "MainPID")
            return (shown["NRestarts"], shown["ActiveState"]) == ("1", "active") and shown["MainPID"] not in {"0", main}

        wait_until(restarted, "a restart after SIGKILL (RestartSec=5)", timeout=120)
        wait_until(lambda: healthy_leader(port), "the restarted bot healthy and leading", timeout=120)

        machine.run("systemctl", "stop", "branchbot", timeout=90)
        assert machine.show("ActiveState", "Result", "ExecMainCode", "ExecMainStatus") == {
            "ActiveState": "inactive", "Result": "success", "ExecMainCode": "1", "ExecMainStatus": "0"}, \
            machine.journal()[-3000:]  # ExecMainCode 1: exited (not killed by a signal)
    finally:
        server.stop_thread()
