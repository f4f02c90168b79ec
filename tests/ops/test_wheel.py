"""The installable package: a wheel built from the checkout, installed into a fresh venv outside it, runs
`branchbot init`, imports the demo roster it ships and prints the plan, with the packaged default config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parents[2]


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


def test_a_wheel_installed_elsewhere_carries_its_configuration_and_plans(tmp_path):
    wheels = tmp_path / "wheels"
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels),
                 str(PROJECT)], tmp_path, dict(os.environ))
    assert built.returncode == 0, built.stderr
    wheel = next(wheels.glob("branchbot-*.whl"))

    target = tmp_path / "venv"
    venv.create(target, with_pip=False)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(target), "platbase": str(target)}))
    # The dependencies come from this test's environment (a path, not a site dir: its editable finder for
    # this checkout is not loaded), the project itself only from the wheel.
    (site / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    python = target / "bin" / "python"
    installed = run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
                    tmp_path, dict(os.environ))
    assert installed.returncode == 0, installed.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("BRANCHBOT_")}
    env |= {"BRANCHBOT_DATABASE_URL": f"sqlite:///{elsewhere / 'branchbot.db'}", "PYTHONPATH": ""}
    where = run([str(python), "-c", "import bot, bot.settings as s; print(bot.__file__); print(s.PROJECT_CONFIG_DIR)"],
                elsewhere, env)
    assert where.returncode == 0, where.stderr
    module_file, config_dir = where.stdout.split()
    assert Path(module_file).is_relative_to(target) and not Path(module_file).is_relative_to(PROJECT)
    assert Path(config_dir).is_relative_to(target) and (Path(config_dir) / "catalog.yaml").is_file()

    branchbot = str(target / "bin" / "branchbot")
    assert run([branchbot, "init"], elsewhere, env).returncode == 0
    imported = run([branchbot, "roster", "import", str(Path(config_dir) / "demo")], elsewhere, env)
    assert imported.returncode == 0, imported.stderr
    plan = run([branchbot, "plan", "--year", "2025", "--format", "json"], elsewhere, env)
    assert plan.returncode == 0, plan.stderr
    occurrences = json.loads(plan.stdout)
    assert {"theme_party_day", "committee_meeting"} <= {o["obligation"] for o in occurrences}
