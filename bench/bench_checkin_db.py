"""Benchmark: the database work of ✅ 签到 presses alone (no Telegram), in groups as group commit runs them.

Each press is the chat's own use-case (the member by Telegram id, `attendance.check_in` with the deployment's
self-check-in policy), run by `storage.services.runner.run_together` in groups of `--group`; CPU per press is the
least of the rounds (the machine is shared) and the median.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.bench_checkin import FIRST_USER, START, seed
from bench.harness import report, run_main, scratch_postgres
from bot.deployment import DeploymentSource
from bot.settings import PROJECT_CONFIG_DIR
from storage.db import is_sqlite, make_engine, make_session_factory
from storage.services import attendance
from storage.services.actors import actor_for_telegram
from storage.services.runner import run_together


def measure(url: str, members: int, rounds: int, group: int) -> dict:
    warm_up_id, first_id, _tomorrow = seed(url, members, rounds)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    catalog = DeploymentSource.for_dir(PROJECT_CONFIG_DIR).current().catalog

    def self_checkin(_session, _org_id) -> bool:  # noqa: ANN001 - the chat's policy with no override: everyone
        return not catalog.any_org_setting("self_checkin", False)

    def press(user: int, activity_id: int):  # noqa: ANN202
        return lambda session: attendance.check_in(session, actor_for_telegram(session, user), activity_id, START,
                                                   self_checkin=self_checkin)

    users = [FIRST_USER + n for n in range(members)]
    run_together(factory, [press(user, warm_up_id) for user in users[:group]])
    per_round = []
    for n in range(rounds):
        presses = [press(user, first_id + n) for user in users]
        cpu = time.process_time()
        for start in range(0, members, group):
            outcomes = run_together(factory, presses[start:start + group])
            assert all(outcome.error is None for outcome in outcomes), outcomes
        per_round.append((time.process_time() - cpu) * 1000 / members)
    engine.dispose()
    return {"database": "sqlite" if is_sqlite(url) else "postgresql", "members": members, "group": group,
            "cpu_ms_per_press": min(per_round), "cpu_ms_per_press_median": statistics.median(per_round),
            "cpu_ms_per_round": [round(value, 3) for value in per_round]}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--group", type=int, default=16, help="presses per transaction (group commit's MAX_GROUP)")
    parser.add_argument("--postgres", action="store_true", help="a throw-away PostgreSQL database (default: SQLite)")
    args = parser.parse_args(argv)
    if args.postgres:
        with scratch_postgres("bench_checkin_db") as url:
            report("checkin_db", **measure(url, args.members, args.rounds, args.group))
        return
    with tempfile.TemporaryDirectory() as folder:
        report("checkin_db", **measure(f"sqlite:///{Path(folder) / 'bench.db'}", args.members, args.rounds, args.group))


if __name__ == "__main__":
    run_main(main)
