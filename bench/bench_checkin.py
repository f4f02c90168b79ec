"""Benchmark: 300 members press ✅ 签到 within one second, through PTB and the loopback Bot API server.

Compares the real chat stack (signature check, one transaction per press, permission and window checks,
answer + in-place edit) with a bare python-telegram-bot handler making the same two Telegram calls.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, event, func, select
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, ContextTypes
from telegram.request import BaseRequest, HTTPXRequest

from bench.harness import report, run_main, scratch_postgres
from bot import keyboards
from bot.callbacks import CallbackSigner
from bot.clock import ManualClock
from bot.handlers import ChatContext, register
from bot.runtime.app import freeze_start_up_objects, serving_interpreter
from bot.runtime.transport import AiohttpRequest
from bot.settings import Settings
from loopback import BotApiServer
from storage import models
from storage.db import is_sqlite, make_engine, make_session_factory, transaction

ZONE = ZoneInfo("Asia/Shanghai")
START = datetime(2025, 3, 15, 9, 0, tzinfo=ZONE)
FIRST_USER = 20_000
WARM_UP = 30  # presses before the measured round, so neither side pays for first-use caches


def seed(url: str, members: int, rounds: int = 1) -> tuple[int, int, int]:
    """One branch, `members` bound members, meetings whose windows are open: the warm-up's and the first
    measured one's ids are returned; `rounds - 1` more measured ones follow with consecutive ids. Last, the id
    of tomorrow's meeting, whose check-in has not opened yet (pressed too early: refused)."""
    engine = make_engine(url)
    models.Base.metadata.create_all(engine)
    with transaction(make_session_factory(engine)) as session:
        branch = models.Organization(code="B01", name="第一党支部", type="党支部", group_chat_id=-1001)
        session.add(branch)
        session.flush()
        for n in range(members):
            member = models.Member(member_no=f"M{n:04d}", name=f"党员{n}", org_id=branch.id, category="正式党员")
            session.add(member)
            session.flush()
            session.add(models.TelegramBinding(member_id=member.id, telegram_user_id=FIRST_USER + n,
                                               private_chat_id=FIRST_USER + n))
        warm_up = models.Activity(occurrence_key="bench:0", org_id=branch.id, title="集中学习日", starts_at=START)
        session.add(warm_up)
        session.flush()
        measured = []
        for n in range(rounds):
            measured.append(models.Activity(occurrence_key=f"bench:{n + 1}", org_id=branch.id, title="主题党日",
                                            starts_at=START))
            session.add(measured[-1])
            session.flush()
        tomorrow = models.Activity(occurrence_key="bench:tomorrow", org_id=branch.id, title="支部党员大会",
                                   starts_at=START + timedelta(days=1))
        session.add(tomorrow)
        session.flush()
        ids = warm_up.id, measured[0].id, tomorrow.id
    engine.dispose()
    return ids


def build_app(server: "Members", concurrency: int, request: BaseRequest | None = None) -> Application:
    """An Application on the loopback server; `request` is the transport of its handlers' calls (PTB's default
    httpx one when not given), each press's handler runs `concurrency` at a time."""
    request = request or HTTPXRequest(connection_pool_size=concurrency + 4)
    return (ApplicationBuilder().token(server.token).base_url(server.base_url).base_file_url(server.base_file_url)
            .request(request).concurrent_updates(concurrency).build())


class Members:
    """The loopback server and the members' thumbs: presses paced over `spread` seconds, answers timed.

    Runs in this process or, by default, in a child process of its own: Telegram's servers are not
    inside the bot's process, and sharing one interpreter lock would charge the server's work to the bot.
    """

    def __init__(self, members: int) -> None:
        self.server = BotApiServer().start_in_thread()
        self.token, self.base_url, self.base_file_url = (
            self.server.token, self.server.base_url, self.server.base_file_url)
        for n in range(members):
            self.server.add_user(FIRST_USER + n, f"党员{n}", started=True)
        self.answered: dict[str, float] = {}
        self.edits = 0
        self.server.subscribe(self._on_event)

    def _on_event(self, event: dict) -> None:
        if event["type"] == "callback_answer":
            self.answered[event["callback_query_id"]] = time.perf_counter()
        elif event["type"] == "edit":
            self.edits += 1

    def press(self, presses: list[tuple[int, int, str]], spread: float, edited: int, timeout: float = 60) -> dict:
        """Each (user, message id, data) is pressed in the user's private chat; returns the timings once every
        press is answered and `edited` messages are edited (the edit follows the answer: CPU figures include it;
        a refused press is only answered)."""
        pressed: dict[str, float] = {}
        edits = self.edits
        first = time.perf_counter()
        for index, (user, message_id, data) in enumerate(presses):
            delay = first + spread * index / len(presses) - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            at = time.perf_counter()
            pressed[self.server.user_presses(user, user, message_id, data)] = at
        press_seconds = time.perf_counter() - first
        deadline = time.perf_counter() + timeout
        while any(q not in self.answered for q in pressed):
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{sum(q in self.answered for q in pressed)} of {len(pressed)} presses answered")
            time.sleep(0.005)
        latencies = sorted(self.answered[q] - pressed[q] for q in pressed)
        elapsed = max(self.answered[q] for q in pressed) - first
        while self.edits - edits < edited and time.perf_counter() < deadline:
            time.sleep(0.005)
        return {
            "answered": len(pressed),
            "press_seconds": press_seconds,
            "seconds": elapsed,
            "updates_per_s": len(presses) / elapsed,
            "p50_s": statistics.median(latencies),
            "p99_s": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        }

    def stop(self) -> None:
        self.server.stop_thread()


def _members_process(conn: Connection, members: int) -> None:
    """The child process: serves the Bot API and presses on request from the bench."""
    world = Members(members)
    conn.send((world.token, world.base_url, world.base_file_url))
    while True:
        command, argument = conn.recv()
        if command == "press":
            conn.send(world.press(*argument))
        else:
            world.stop()
            conn.send(None)
            return


class RemoteMembers:
    """`Members` in a child process, driven through a pipe."""

    def __init__(self, members: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_members_process, args=(child, members), daemon=True)
        self._process.start()
        self.token, self.base_url, self.base_file_url = self._conn.recv()

    def press(self, presses: list[tuple[int, int, str]], spread: float, edited: int) -> dict:
        self._conn.send(("press", (presses, spread, edited)))
        return self._conn.recv()

    def stop(self) -> None:
        self._conn.send(("stop", None))
        self._conn.recv()
        self._process.join(timeout=10)


async def press_all(world: Members | RemoteMembers, app: Application, users: list[int], markup,  # noqa: ANN001
                    spread: float, profile: Path | None = None, *, early: Collection[int] = (),
                    early_markup=None, edited: int | None = None) -> dict:  # noqa: ANN001
    """Sends each user a reminder, then every user presses ✅ 签到 within `spread` seconds; with `profile`, the
    event loop's thread is sampled by pyinstrument while the presses are handled and the report written there.
    The `early` users are sent `early_markup` (tomorrow's meeting) instead; `edited` presses (default: all) edit
    their message once answered."""
    presses = []
    for user in users:
        shown = early_markup if user in early else markup
        sent = await app.bot.send_message(user, "⏰ 活动提醒：主题党日", reply_markup=shown)
        presses.append((user, sent.message_id, shown.inline_keyboard[0][0].callback_data))
    # CPU this process spent while the presses were handled: steadier than throughput on a shared machine.
    profiler = None
    if profile is not None:
        from pyinstrument import Profiler  # noqa: PLC0415 - a bench-only dependency (extra "bench")

        profiler = Profiler(interval=0.0002, async_mode="disabled")
        profiler.start()
    full_collections = FullCollections()
    cpu = time.process_time()
    with full_collections:
        timings = await asyncio.to_thread(world.press, presses, spread, len(presses) if edited is None else edited)
    timings["cpu_ms_per_update"] = (time.process_time() - cpu) * 1000 / len(presses)
    timings["full_collection_ms"] = full_collections.longest_ms
    if profiler is not None:
        profiler.stop()
        profile.write_text(profiler.output_text(unicode=True, show_all=False, timeline=False))
    return timings


class FullCollections:
    """The longest full (generation 2) garbage collection while in use, in ms of CPU (gc.callbacks)."""

    def __init__(self) -> None:
        self.longest_ms = 0.0
        self._began = 0.0

    def _heard(self, phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._began = time.process_time()
        else:
            self.longest_ms = max(self.longest_ms, (time.process_time() - self._began) * 1000)

    def __enter__(self) -> "FullCollections":
        gc.callbacks.append(self._heard)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self._heard)


async def polling(app: Application, work: Callable[[], Awaitable[dict]]) -> dict:
    """`work` while `app` (initialized and started) polls: one poller at a time, as Telegram allows."""
    await app.updater.start_polling(poll_interval=0)
    try:
        return await work()
    finally:
        await app.updater.stop()


def canned(db: Callable[..., Awaitable]) -> Callable[..., Awaitable]:
    """`ChatContext.db` answering every call with the first call's answer: ours without the database (and its
    threads), to see what the rest of the handler costs against bare."""
    first: list = []

    async def answer(work, **kwargs):  # noqa: ANN001, ANN003, ANN202
        if not first:
            first.append(await db(work, **kwargs))
        return first[0]

    return answer


async def bare_handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The baseline: the same two Telegram calls, no database and no checks."""
    query = update.callback_query
    await query.answer("✅ 签到成功")
    await query.edit_message_text(f"{query.message.text}\n\n✅ 已签到")


class StatementCounter:
    """SQL statements and commits the engine sends while `counting` (round trips per press, besides pings)."""

    def __init__(self, engine: Engine) -> None:
        self.counting = False
        self.statements = 0
        self.commits = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, *_args) -> None:  # noqa: ANN002
        self.statements += self.counting

    def _commit(self, *_args) -> None:  # noqa: ANN002
        self.commits += self.counting


def summary(rounds: list[dict]) -> dict:
    """One side's figures over its rounds: CPU per press as the least any round took (the machine is shared,
    and interference only ever adds) and the median; wall-clock figures as medians."""
    cpu = [r["cpu_ms_per_update"] for r in rounds]
    return {
        "cpu_ms_per_update": min(cpu),
        "cpu_ms_per_update_median": statistics.median(cpu),
        "cpu_ms_per_round": [round(value, 3) for value in cpu],
        **{key: statistics.median(r[key] for r in rounds)
           for key in ("updates_per_s", "p50_s", "p99_s", "press_seconds")},
        "answered": sum(r["answered"] for r in rounds),
        "full_collection_ms": max(r["full_collection_ms"] for r in rounds),
    }


async def run(args: argparse.Namespace, url: str) -> None:
    serving_interpreter()  # the thread switching `branchbot run` uses, for every side alike
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)
    if args.concurrency is None:  # as `branchbot run` takes it: by the database
        args.concurrency = Settings(database_url=url).chat_updates_at_once
    warm_up_id, first_id, tomorrow_id = seed(url, args.members, args.rounds)
    activity_ids = [first_id + n for n in range(args.rounds)]
    engine = make_engine(url, pool_size=args.concurrency + 2) if not is_sqlite(url) else make_engine(url)
    counter = StatementCounter(engine)
    # A worker's sessions, as `branchbot run` makes them: a check-in's commit then notifies nobody (only the
    # command line's tallies go to the leader: storage.changes).
    factory = make_session_factory(engine, origin="bench-worker")
    server = Members(args.members) if args.in_process else RemoteMembers(args.members)
    try:
        users = [FIRST_USER + n for n in range(args.members)]
        signer = CallbackSigner.from_token(server.token)

        # The bot's own transport, as `bot.runtime.app.build_application` gives it; the bare handler keeps PTB's.
        app = build_app(server, args.concurrency,
                        AiohttpRequest(connection_pool_size=max(16, args.concurrency * 2), pool_timeout=10.0))
        chat = ChatContext(session_factory=factory, clock=ManualClock(START), zone=ZONE, signer=signer,
                           db_in_thread=args.db_thread)
        register(app, chat, schedule_jobs=False)
        if args.canned_db:
            chat.db = canned(chat.db)
        warm = users[:WARM_UP]
        # Refused presses, spread evenly through the burst: members pressing tomorrow's reminder too early.
        early = {user for n, user in enumerate(users)
                 if int((n + 1) * args.refused_share) > int(n * args.refused_share)}
        early_markup = keyboards.reminder(signer, tomorrow_id)

        # The baseline is a bare PTB handler using the bot's own transport (what our checks and
        # transaction cost on top of the same two Telegram calls); PTB's default httpx transport is shown too.
        sides: dict[str, Application] = {}
        if args.only != "bare-same":
            sides["ours"] = app
        if args.only is None:
            sides["bare"] = build_app(server, args.concurrency)
        if args.only != "ours":
            sides["bare_same"] = build_app(server, args.concurrency, AiohttpRequest(
                connection_pool_size=max(16, args.concurrency * 2), pool_timeout=10.0))
        for name, side in sides.items():
            if name != "ours":
                side.add_handler(CallbackQueryHandler(bare_handler))
        rounds: dict[str, list[dict]] = {name: [] for name in sides}
        for side in sides.values():
            await side.initialize()
            await side.start()
        if not args.no_freeze:
            freeze_start_up_objects()  # as `branchbot run` does once started: for every side alike
        try:
            for name, side in sides.items():
                await polling(side, lambda side=side: press_all(server, side, warm, keyboards.reminder(
                    signer, warm_up_id), 0.0))
            # The sides take turns round by round, in a rotating order, so a busy moment of the machine falls on
            # all of them rather than on whichever ran then.
            order = list(sides)
            for n, activity_id in enumerate(activity_ids):
                for name in order[n % len(order):] + order[:n % len(order)]:
                    counter.counting = name == "ours"
                    rounds[name].append(await polling(sides[name], lambda name=name: press_all(
                        server, sides[name], users, keyboards.reminder(signer, activity_id), args.spread,
                        args.profile if name == "ours" and n == 0 else None, early=early, early_markup=early_markup,
                        edited=len(users) - len(early) if name == "ours" else None)))
                    counter.counting = False
                    if name == "ours":
                        # The groups' cards are refreshed a moment later: on ours' account, not the next side's.
                        await asyncio.sleep(chat.group_edit_delay + 0.5)
        finally:
            for side in sides.values():
                await side.stop()
                await side.shutdown()
        # With --only, the side not run reads as the one that was (its ratios 1.0).
        ours = rounds.get("ours") or rounds["bare_same"]
        bare = rounds.get("bare") or ours
        bare_same_transport = rounds.get("bare_same") or ours
    finally:
        server.stop()
    with transaction(factory) as session:
        recorded = session.scalar(select(func.count()).select_from(models.Attendance).where(
            models.Attendance.activity_id.in_(activity_ids)))
        too_early = session.scalar(select(func.count()).select_from(models.Attendance).where(
            models.Attendance.activity_id == tomorrow_id))
    engine.dispose()
    presses = args.members * args.rounds
    accepted = (args.members - len(early)) * args.rounds
    assert (recorded, too_early) == (accepted, 0) or args.only == "bare-same" or args.canned_db, (
        f"{recorded} check-ins recorded for {accepted} accepted presses, {too_early} for presses too early")
    ours_s, bare_s, same_s = summary(ours), summary(bare), summary(bare_same_transport)
    report(
        "checkin",
        database=engine.dialect.name,
        members=args.members,
        rounds=args.rounds,
        spread_s=args.spread,
        concurrency=args.concurrency,
        server="in-process" if args.in_process else "child process",
        db_in_thread=chat.db_in_thread,
        answered=ours_s["answered"],
        refused=len(early) * args.rounds,
        presses_took_s=ours_s["press_seconds"],
        recorded=recorded,
        # Primary: CPU of this process per press (the event loop, PTB, the database threads).
        cpu_ms_per_update=ours_s["cpu_ms_per_update"],
        cpu_ms_per_update_median=ours_s["cpu_ms_per_update_median"],
        cpu_ms_per_round=ours_s["cpu_ms_per_round"],
        full_collection_ms=ours_s["full_collection_ms"],
        canned_db=args.canned_db,
        bare_same_transport_cpu_ms_per_round=same_s["cpu_ms_per_round"],
        bare_same_transport_cpu_ms_per_update=same_s["cpu_ms_per_update"],
        bare_same_transport_cpu_ms_per_update_median=same_s["cpu_ms_per_update_median"],
        # How many presses ours handles per CPU-second against the bare handler (1.0: as cheap as bare).
        cpu_ratio_to_bare_same_transport=same_s["cpu_ms_per_update"] / ours_s["cpu_ms_per_update"],
        bare_cpu_ms_per_update=bare_s["cpu_ms_per_update"],
        sql_statements_per_update=counter.statements / presses,
        commits_per_update=counter.commits / presses,
        # Secondary: wall clock (medians over the rounds), at the mercy of whatever else the machine runs.
        updates_per_s=ours_s["updates_per_s"],
        p50_s=ours_s["p50_s"],
        p99_s=ours_s["p99_s"],
        bare_updates_per_s=bare_s["updates_per_s"],
        bare_p99_s=bare_s["p99_s"],
        ratio_to_bare=ours_s["updates_per_s"] / bare_s["updates_per_s"],
        bare_same_transport_updates_per_s=same_s["updates_per_s"],
        ratio_to_bare_same_transport=ours_s["updates_per_s"] / same_s["updates_per_s"],
    )


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=300)
    parser.add_argument("--spread", type=float, default=0.0,
                        help="seconds over which the presses arrive (0: all at once, the harder case)")
    parser.add_argument("--concurrency", type=int, default=None,
                        help="PTB concurrent_updates (default: branchbot run's, Settings.chat_updates_at_once)")
    parser.add_argument("--postgres", action="store_true",
                        help="run on a throw-away PostgreSQL database (default: a temporary SQLite file)")
    parser.add_argument("--db-thread", dest="db_thread", action="store_true", default=None,
                        help="force database work into worker threads (default: threads for PostgreSQL only)")
    parser.add_argument("--db-inline", dest="db_thread", action="store_false",
                        help="force database work onto the event loop")
    parser.add_argument("--in-process", action="store_true",
                        help="run the loopback server in this process (it then shares the interpreter lock)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="measured rounds of the burst per side (CPU: the least; wall clock: the median)")
    parser.add_argument("--profile", type=Path, default=None,
                        help="write a pyinstrument report of the measured round (ours) to this file; with "
                             "--db-inline it covers the database work too (pip install -e '.[bench]')")
    parser.add_argument("--refused-share", type=float, default=0.0,
                        help="share of the members (0 to 1) who press tomorrow's reminder instead, too early: "
                             "refused, spread evenly through the burst")
    parser.add_argument("--no-freeze", action="store_true",
                        help="leave the start-up objects to the garbage collector (branchbot run freezes them)")
    parser.add_argument("--canned-db", action="store_true",
                        help="ours with the database replaced by the first press's answer (what the rest costs)")
    parser.add_argument("--switch-interval", type=float, default=None,
                        help="seconds of the interpreter's switch interval instead of branchbot run's")
    parser.add_argument("--only", choices=("ours", "bare-same"), default=None,
                        help="run one side alone, to profile it (the ratios then read 1.0)")
    args = parser.parse_args(argv)
    if args.postgres:
        with scratch_postgres("bench_checkin") as url:
            asyncio.run(run(args, url))
        return
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(args, f"sqlite:///{Path(folder) / 'bench.db'}"))


if __name__ == "__main__":
    run_main(main)
