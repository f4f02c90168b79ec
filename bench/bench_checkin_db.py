"""Benchmark: the database work of ✅ 签到 presses alone (no Telegram), in groups as group commit runs them.

Each press is the chat's own use-case (the member by Telegram id, `attendance.check_in` with the deployment's
self-check-in policy), run by `storage.services.runner.run_together` in groups of `--group`; CPU per press is the
least of the rounds (the machine is shared) and the median. With `--async-driver` (PostgreSQL) the same groups run
on psycopg's async connection through SQLAlchemy's asyncio adapter, each group in a greenlet on an event loop: what
moving the chat's database work onto the event loop would cost, without threads.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bench.bench_checkin import FIRST_USER, START, ZONE, seed
from bench.harness import report, run_main, scratch_postgres
from bot.callbacks import CallbackSigner
from bot.clock import ManualClock
from bot.deployment import DeploymentSource
from bot.handlers.common import ChatContext
from bot.settings import PROJECT_CONFIG_DIR
from storage.errors import OutsideWindow
from storage.db import is_sqlite, make_engine, make_session_factory
from storage.services import attendance
from storage.services.actors import actor_for_telegram
from storage.services.runner import ReadAhead, run_together


def measure(url: str, members: int, rounds: int, group: int, refused_share: float = 0.0,
            async_driver: bool = False, read_ahead: bool = True) -> dict:
    warm_up_id, first_id, tomorrow_id = seed(url, members, rounds)
    if async_driver:
        return asyncio.run(_measure_async(url, members, rounds, group, warm_up_id, first_id))
    engine = make_engine(url)
    # A worker's sessions, as `branchbot run` makes them: a check-in's commit then notifies nobody (only the
    # command line's tallies go to the leader: storage.changes).
    factory = make_session_factory(engine, origin="bench-worker")
    # The chat's own policy (ChatContext.self_checkin_for), over the project's configuration.
    self_checkin = ChatContext(session_factory=factory, clock=ManualClock(START), zone=ZONE,
                               signer=CallbackSigner.from_token("1:bench"),
                               config=DeploymentSource.for_dir(PROJECT_CONFIG_DIR)).self_checkin_for
    early = set(range(0, members, round(1 / refused_share))) if refused_share else set()

    def press(user: int, activity_id: int):  # noqa: ANN202
        return lambda session: attendance.check_in(session, actor_for_telegram(session, user), activity_id, START,
                                                   self_checkin=self_checkin)

    def ahead(user: int, activity_id: int) -> ReadAhead | None:
        # What the chat's press gives group commit (bot.handlers.buttons.press_checkin).
        return ReadAhead(attendance.read_check_ins_ahead, (user, activity_id)) if read_ahead else None

    users = [FIRST_USER + n for n in range(members)]
    run_together(factory, [press(user, warm_up_id) for user in users[:group]],
                 [ahead(user, warm_up_id) for user in users[:group]])
    per_round = []
    for n in range(rounds):
        # Every 1/share-th member presses tomorrow's button instead: refused, its check-in not open yet.
        pressed = [(user, tomorrow_id if i in early else first_id + n) for i, user in enumerate(users)]
        presses = [press(user, activity_id) for user, activity_id in pressed]
        aheads = [ahead(user, activity_id) for user, activity_id in pressed]
        cpu = time.process_time()
        for start in range(0, members, group):
            outcomes = run_together(factory, presses[start:start + group], aheads[start:start + group])
            assert all(outcome.error is None or isinstance(outcome.error, OutsideWindow) for outcome in outcomes), (
                outcomes)
        per_round.append((time.process_time() - cpu) * 1000 / members)
    engine.dispose()
    return {**_figures(url, members, group, len(early), per_round), "read_ahead": read_ahead}


def _figures(url: str, members: int, group: int, refused: int, per_round: list[float], driver: str = "sync") -> dict:
    return {"database": "sqlite" if is_sqlite(url) else "postgresql", "driver": driver, "members": members,
            "group": group, "refused": refused,
            "cpu_ms_per_press": min(per_round), "cpu_ms_per_press_median": statistics.median(per_round),
            "cpu_ms_per_round": [round(value, 3) for value in per_round]}


async def _measure_async(url: str, members: int, rounds: int, group: int, warm_up_id: int, first_id: int) -> dict:
    """The same presses as `measure`, each group's `run_together` in a greenlet (`greenlet_spawn`, as
    `AsyncSession.run_sync` runs sync code) whose statements await psycopg's AsyncConnection on this loop."""
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.util import greenlet_spawn

    from storage.db import POSTGRES_CONNECT_ARGS

    engine = create_async_engine(url, connect_args=dict(POSTGRES_CONNECT_ARGS))
    factory = make_session_factory(engine.sync_engine, origin="bench-worker")
    self_checkin = ChatContext(session_factory=factory, clock=ManualClock(START), zone=ZONE,
                               signer=CallbackSigner.from_token("1:bench"),
                               config=DeploymentSource.for_dir(PROJECT_CONFIG_DIR)).self_checkin_for

    def press(user: int, activity_id: int):  # noqa: ANN202
        return lambda session: attendance.check_in(session, actor_for_telegram(session, user), activity_id, START,
                                                   self_checkin=self_checkin)

    users = [FIRST_USER + n for n in range(members)]
    await greenlet_spawn(run_together, factory, [press(user, warm_up_id) for user in users[:group]])
    per_round = []
    for n in range(rounds):
        presses = [press(user, first_id + n) for user in users]
        cpu = time.process_time()
        for start in range(0, members, group):
            outcomes = await greenlet_spawn(run_together, factory, presses[start:start + group])
            assert all(outcome.error is None for outcome in outcomes), outcomes
        per_round.append((time.process_time() - cpu) * 1000 / members)
    await engine.dispose()
    return _figures(url, members, group, 0, per_round, driver="async")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--group", type=int, default=16, help="presses per transaction (group commit's MAX_GROUP)")
    parser.add_argument("--refused-share", type=float, default=0.0,
                        help="share of presses refused (tomorrow's meeting, not open yet), e.g. 0.1")
    parser.add_argument("--postgres", action="store_true", help="a throw-away PostgreSQL database (default: SQLite)")
    parser.add_argument("--async-driver", action="store_true",
                        help="PostgreSQL through psycopg's async connection on an event loop (no refusals)")
    parser.add_argument("--no-read-ahead", dest="read_ahead", action="store_false",
                        help="each press reads its seats, activity and reminders itself (no KeyedRead.read_ahead)")
    args = parser.parse_args(argv)
    if args.async_driver and (not args.postgres or args.refused_share):
        parser.error("--async-driver needs --postgres and no --refused-share (refusals need the write counter, "
                     "which storage.db.make_engine wires on sync engines)")
    if args.postgres:
        with scratch_postgres("bench_checkin_db") as url:
            report("checkin_db", **measure(url, args.members, args.rounds, args.group, args.refused_share,
                                           args.async_driver, args.read_ahead))
        return
    with tempfile.TemporaryDirectory() as folder:
        report("checkin_db", **measure(f"sqlite:///{Path(folder) / 'bench.db'}", args.members, args.rounds,
                                         args.group, args.refused_share, read_ahead=args.read_ahead))


if __name__ == "__main__":
    run_main(main)
