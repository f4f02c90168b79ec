"""Group commit: presses that arrive together share one transaction, and each gets the answer it would get alone."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, delete, event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from bot.callbacks import CallbackSigner
from bot.clock import ManualClock
from bot.handlers.common import ChatContext
from bot.handlers.group_commit import GroupCommit
from storage import changes, models
from storage.changes import Changes
from storage.db import make_session_factory, transaction, writes_on
from storage.errors import PermissionDenied
from storage.repositories import attendance as attendance_repo
from storage.services import attendance as svc
from storage.services.actors import actor_for_telegram
from storage.services.runner import Outcome, ReadAhead, run_together
from tests.chat.world import MEETING_START, actor

T = MEETING_START


@pytest.fixture
def commits(engine) -> list[int]:
    """One entry per transaction the engine commits."""
    seen: list[int] = []
    event.listen(engine, "commit", lambda _conn: seen.append(1))
    return seen


def press(world, who: str, activity: str = "party_day"):  # noqa: ANN001, ANN201
    def work(session):  # noqa: ANN001, ANN202
        member = actor(session, world, who)
        return svc.check_in(session, member, world.activities[activity], T)
    return work


def refused_after_writing(world):  # noqa: ANN001, ANN201
    """A use-case that writes, then is refused, keeping an audit row: its write must go, its record stay."""
    def work(session):  # noqa: ANN001, ANN202
        session.add(models.Attendance(activity_id=world.activities["party_day"], member_id=world.members["deputy"],
                                      status="present", recorded_at=T))
        session.flush()
        raise PermissionDenied("不行。").keep(
            lambda s: attendance_repo.add_audit(s, now=T, action="refused", entity="callback", entity_id=None))
    return work


def refused_keeping_a_record(_world):  # noqa: ANN001, ANN201
    """Refused before writing anything, keeping an audit row."""
    def work(session):  # noqa: ANN001, ANN202
        raise PermissionDenied("不行。").keep(
            lambda s: attendance_repo.add_audit(s, now=T, action="refused", entity="callback", entity_id=None))
    return work


def stranger(_world):  # noqa: ANN001, ANN201
    """A press from a Telegram account bound to nobody."""
    def work(session):  # noqa: ANN001, ANN202
        return svc.check_in(session, actor_for_telegram(session, 999_999), _world.activities["party_day"], T)
    return work


def moving(world):  # noqa: ANN001, ANN201
    """A use-case that changes an activity (recorded in the commit's Changes)."""
    def work(session):  # noqa: ANN001, ANN202
        session.get(models.Activity, world.activities["party_day"]).place = "五楼会议室"
        session.flush()
        return "moved"
    return work


def refused_after_changing(world):  # noqa: ANN001, ANN201
    """Refused after changing an activity and counting an outbox row: the commit must carry neither."""
    def work(session):  # noqa: ANN001, ANN202
        session.get(models.Activity, world.activities["group_meeting"]).place = "不该留下"
        session.flush()
        changes.outbox_queued(session, 1)
        raise PermissionDenied("不行。")
    return work


def refused_after_touching(world):  # noqa: ANN001, ANN201
    """Refused after setting an activity's place to the one it has and flushing: no statement wrote anything."""
    def work(session):  # noqa: ANN001, ANN202
        activity = session.get(models.Activity, world.activities["party_day"])
        activity.place = activity.place
        session.flush()
        raise PermissionDenied("不行。")
    return work


def refused_after_marking(world):  # noqa: ANN001, ANN201
    """Refused after writing an attendance row of another meeting: the commit must not name its tally."""
    def work(session):  # noqa: ANN001, ANN202
        session.add(models.Attendance(activity_id=world.activities["group_meeting"], member_id=world.members["bob"],
                                      status="absent", via="secretary"))
        session.flush()
        raise PermissionDenied("不行。")
    return work


def lost_connection(_session):  # noqa: ANN001, ANN202
    raise OperationalError("SELECT 1", {}, Exception("server closed the connection"), connection_invalidated=True)


def answer(outcome) -> str:  # noqa: ANN001
    if outcome.error is not None:
        return type(outcome.error).__name__
    if isinstance(outcome.value, str):
        return outcome.value
    return "already" if outcome.value.already else "present"


def queued_behind_a_busy_thread(session_factory, submit) -> list[str]:  # noqa: ANN001
    """One database thread, held busy while `submit(group)` queues its presses, then let go: each press's answer."""
    busy, release = threading.Event(), threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        group = GroupCommit(session_factory, lambda: pool, max_running=1)

        async def burst() -> list[str]:
            pool.submit(lambda: (busy.set(), release.wait()))
            busy.wait()
            futures = submit(group)
            release.set()
            return [answer(outcome) for outcome in await asyncio.gather(*futures)]

        return asyncio.run(burst())


def as_alone(outcome: Outcome) -> object:
    """What a press heard, whole: the value, or the refusal's kind and sentence."""
    if outcome.error is not None:
        return type(outcome.error), getattr(outcome.error, "message", str(outcome.error))
    return outcome.value


def present(session_factory, world) -> list[str]:  # noqa: ANN001
    names = {member_id: who for who, member_id in world.members.items()}
    with transaction(session_factory) as session:
        return sorted(names[m] for m in session.scalars(select(models.Attendance.member_id)))


@pytest.mark.parametrize(("group", "answers", "recorded", "transactions"), [
    pytest.param(["alice", "bob", "secretary"], ["present", "present", "present"], ["alice", "bob", "secretary"], 1,
                 id="three-presses-one-commit"),
    pytest.param(["alice", "alice"], ["present", "already"], ["alice"], 1, id="same-member-twice-in-one-group"),
    pytest.param(["alice", "bug", "bob"], ["present", "ZeroDivisionError", "present"], ["alice", "bob"], 2,
                 id="a-failure-sends-each-back-to-its-own-transaction"),
    pytest.param(["alice", "other_member", "bug"], ["present", "PermissionDenied", "ZeroDivisionError"], ["alice"], 1,
                 id="a-failure-after-a-refusal-sends-each-back-to-its-own-transaction"),
    pytest.param(["alice", "lost", "bob"], ["OperationalError"] * 3, [], 0, id="a-lost-connection-is-everyones"),
    pytest.param(["alice", "other_member", "lost"], ["OperationalError"] * 3, [], 0,
                 id="a-lost-connection-after-a-refusal-is-everyones"),
    pytest.param(["bob"], ["present"], ["bob"], 1, id="a-group-of-one-is-a-plain-transaction"),
])
def test_presses_together(session_factory, world, commits, group, answers, recorded, transactions):
    """A failure that is not a refusal (a bug) rolls back the group: each runs again alone."""
    works = {"bug": lambda _session: 1 / 0, "lost": lost_connection}
    commits.clear()
    outcomes = run_together(session_factory, [works.get(who) or press(world, who) for who in group])
    assert len(commits) == transactions
    assert [answer(o) for o in outcomes] == answers
    assert present(session_factory, world) == recorded


WORKS = {
    "alice": lambda world: press(world, "alice"),
    "bob": lambda world: press(world, "bob"),
    "bob-too-early": lambda world: press(world, "bob", "group_meeting"),
    "other_member": lambda world: press(world, "other_member"),
    "stranger": stranger,
    "refused_after_writing": refused_after_writing,
    "refused_keeping_a_record": refused_keeping_a_record,
    "bug": lambda _world: lambda _session: 1 / 0,
}


def ledger(session_factory, world) -> tuple[list[str], list[str]]:  # noqa: ANN001
    """Who is recorded present, and the audit log's actions."""
    with transaction(session_factory) as session:
        return present(session_factory, world), list(session.scalars(select(models.AuditEntry.action)))


def forget_presses(session_factory) -> None:  # noqa: ANN001
    with transaction(session_factory) as session:
        session.execute(delete(models.Attendance))
        session.execute(delete(models.AuditEntry))


@pytest.mark.parametrize(("group", "answers", "recorded", "audit"), [
    pytest.param(["alice", "other_member", "bob"], ["present", "PermissionDenied", "present"], ["alice", "bob"], [],
                 id="not-in-the-audience-in-the-middle"),
    pytest.param(["alice", "bob-too-early", "secretary"], ["present", "OutsideWindow", "present"],
                 ["alice", "secretary"], [], id="too-early-in-the-middle"),
    pytest.param(["alice", "refused_after_writing", "bob"], ["present", "PermissionDenied", "present"],
                 ["alice", "bob"], ["refused"], id="refused-after-writing-keeps-its-record-and-drops-its-write"),
    pytest.param(["alice", "refused_keeping_a_record", "bob"], ["present", "PermissionDenied", "present"],
                 ["alice", "bob"], ["refused"], id="refused-before-writing-keeps-its-record"),
    pytest.param(["stranger", "alice"], ["NotBound", "present"], ["alice"], [], id="refused-first"),
    pytest.param(["alice", "other_member", "alice"], ["present", "PermissionDenied", "already"], ["alice"], [],
                 id="one-member-twice-around-a-refusal"),
    pytest.param(["other_member", "refused_after_writing", "stranger"],
                 ["PermissionDenied", "PermissionDenied", "NotBound"], [], ["refused"], id="every-one-refused"),
])
def test_a_refusal_in_a_group_costs_only_itself(session_factory, world, commits, group, answers, recorded, audit):
    """The others commit together, in one transaction, with the refusal's records; every press hears what it
    would have heard alone, and the database ends as if each had run alone."""
    works = [WORKS.get(who, lambda world, who=who: press(world, who))(world) for who in group]
    commits.clear()
    together = run_together(session_factory, works)
    assert (len(commits), [answer(o) for o in together]) == (1, answers)
    assert ledger(session_factory, world) == (recorded, audit)
    forget_presses(session_factory)
    alone = [run_together(session_factory, [work])[0] for work in works]
    assert [as_alone(o) for o in together] == [as_alone(o) for o in alone]
    assert ledger(session_factory, world) == (recorded, audit)


@pytest.mark.parametrize(("group", "committed"), [
    pytest.param([moving, refused_after_changing, press],
                 [Changes(activity_ids={"party_day"}, tallies={"party_day"}), None, None],
                 id="a-change-then-a-refused-change"),
    pytest.param([refused_after_changing, moving], [None, Changes(activity_ids={"party_day"})],
                 id="the-first-to-succeed-carries-the-commit"),
    pytest.param([refused_after_changing, press], [None, Changes(tallies={"party_day"})],
                 id="a-refused-change-leaves-nothing-to-follow-but-the-press-s-tally"),
    pytest.param([refused_after_touching, press], [None, Changes(tallies={"party_day"})],
                 id="a-refused-non-change-leaves-nothing-to-follow-but-the-press-s-tally"),
    pytest.param([press, refused_after_marking], [Changes(tallies={"party_day"}), None],
                 id="a-refused-mark-leaves-no-tally"),
])
def test_a_refused_savepoint_leaves_nothing_in_what_the_commit_changed(session_factory, world, group, committed):
    works = [make(world, "alice") if make is press else make(world) for make in group]
    outcomes = run_together(session_factory, works)
    ids = {key: world.activities[key] for key in ("party_day", "group_meeting")}
    assert [o.committed for o in outcomes] == [
        None if c is None else Changes(c.outbox_queued, {ids[key] for key in c.activity_ids},
                                       {ids[key] for key in c.tallies}) for c in committed]
    with transaction(session_factory) as session:
        assert [session.get(models.Activity, ids[key]).place for key in ("group_meeting", "party_day")] == [
            None, "五楼会议室" if moving in group else "三楼会议室"]


def test_presses_queued_while_the_threads_are_busy_go_together(session_factory, world, commits):
    """One database thread, held busy: three presses queue behind it and then run as one group."""
    commits.clear()
    presses = ("alice", "bob", "alice")
    answers = queued_behind_a_busy_thread(session_factory, lambda group: [
        group.submit(press(world, who)) for who in presses])
    assert answers == ["present", "present", "already"]
    assert len(commits) == 1
    assert present(session_factory, world) == ["alice", "bob"]


def checking_in(world, who: str, activity: str = "party_day") -> ReadAhead:  # noqa: ANN001
    """What the chat's press gives group commit to read ahead (bot.handlers.buttons.press_checkin)."""
    return ReadAhead(svc.read_check_ins_ahead, (world.telegram[who], world.activities[activity]))


@pytest.mark.parametrize(("group", "answers", "statements_run", "seats_read"), [
    # Alone, a press reads its seats, its activity and its reminders, then inserts: 4 statements.
    pytest.param(["alice", "bob", "secretary"], ["present"] * 3, 3 + 3, 1, id="three-reads-for-the-group"),
    pytest.param(["alice", "other_member", "bob"], ["present", "PermissionDenied", "present"], 3 + 2, 1,
                 id="a-refused-one-reads-nothing-more"),
    # Run again in savepoints after a refusal that wrote: alice and bob each read their seats again, as alone.
    pytest.param(["alice", "refused_after_writing", "bob"], ["present", "PermissionDenied", "present"], None, 1 + 2,
                 id="run-again-reads-the-database"),
])
def test_a_group_reads_ahead_what_its_presses_read(session_factory, world, engine, group, answers, statements_run,
                                                     seats_read):
    works = [WORKS[who](world) if who in WORKS else press(world, who) for who in group]
    ahead = [checking_in(world, who) if who in world.telegram else None for who in group]
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_rest: seen.append(statement))
    outcomes = run_together(session_factory, works, ahead)
    assert [answer(o) for o in outcomes] == answers
    # The rows' statements: not the commit's NOTIFY of the tallies (PostgreSQL), nor BEGIN, COMMIT or SAVEPOINT.
    statements = [s for s in seen if s.lstrip()[:6].upper() in ("SELECT", "INSERT", "UPDATE") and "pg_notify" not in s]
    if statements_run is not None:
        assert len(statements) == statements_run, "\n".join(s[:100] for s in statements)
    assert sum(s.lstrip().startswith("SELECT members.id") for s in statements) == seats_read
    assert present(session_factory, world) == sorted(who for who, said in zip(group, answers) if said == "present")


def test_a_refusal_reaches_only_its_own_press(session_factory, world):
    async def burst() -> list[str]:
        with ThreadPoolExecutor(max_workers=2) as pool:
            group = GroupCommit(session_factory, lambda: pool)
            futures = [group.submit(press(world, who)) for who in ("alice", "other_member", "bob")]
            return [answer(outcome) for outcome in await asyncio.gather(*futures)]

    assert asyncio.run(burst()) == ["present", "PermissionDenied", "present"]


def test_a_group_runs_its_presses_in_the_pressers_order_and_answers_each_its_own(session_factory, world):
    """Rows two groups share (one member's repeated press) are then taken in one order by both: one group waits
    for the other instead of both deadlocking. Each press still hears its own answer."""
    ran: list[str] = []

    def recorded(who: str):  # noqa: ANN202
        work = press(world, who)

        def run(session):  # noqa: ANN001, ANN202
            ran.append(who)
            return work(session)
        return run

    presses = ("bob", "alice", "bob")
    answers = queued_behind_a_busy_thread(session_factory, lambda group: [
        group.submit(recorded(who), order_key=world.telegram[who]) for who in presses])
    assert answers == ["present", "present", "already"]
    by_telegram_id = sorted(("bob", "alice", "bob"), key=lambda who: world.telegram[who])
    assert ran == by_telegram_id


@pytest.mark.parametrize(("group", "runs"), [
    pytest.param(["alice", "other_member", "bob"], [1, 1, 1], id="refused-before-writing-nothing-runs-again"),
    pytest.param(["alice", "refused_after_writing", "bob", "refused_keeping_a_record"], [2, 2, 1, 1],
                 id="refused-after-writing-the-group-runs-again-savepoints-from-it-on"),
    pytest.param(["alice", "bug", "bob"], [2, 2, 1], id="a-failure-each-runs-again-alone"),
])
def test_what_a_refusal_makes_run_again(session_factory, world, group, runs):
    """A refusal before any write leaves nothing to roll back; after a write, the group runs again once."""
    ran: list[str] = []

    def counted(who: str):  # noqa: ANN202
        work = WORKS.get(who, lambda world, who=who: press(world, who))(world)

        def run(session):  # noqa: ANN001, ANN202
            ran.append(who)
            return work(session)
        return run

    run_together(session_factory, [counted(who) for who in group])
    assert [ran.count(who) for who in group] == runs


def test_a_savepoint_released_before_a_failure_commits_nothing(session_factory, world):
    """Alice's press is refused after writing the first time only: the group runs again with her press in a
    savepoint, released; then a failure sends each back alone, and she is checked in by her own transaction
    (SQLite too: its SAVEPOINT outside a transaction would have committed at RELEASE)."""
    calls: list[int] = []

    def refused_once_after_writing(session):  # noqa: ANN001, ANN202
        checked = press(world, "alice")(session)
        calls.append(1)
        if len(calls) == 1:
            raise PermissionDenied("先不行。")
        return checked

    outcomes = run_together(session_factory, [refused_once_after_writing, lambda _session: 1 / 0])
    assert ([answer(o) for o in outcomes], len(calls)) == (["present", "ZeroDivisionError"], 3)
    assert present(session_factory, world) == ["alice"]


def test_a_press_that_timed_out_still_has_its_commit_heard(session_factory, world):
    """The member was told the system is busy, but the work committed a moment later: what it changed (in a
    group, every press's tallies ride on one outcome) is still heard, so the cards still show the tally."""
    async def scenario() -> list[Changes]:
        chat = ChatContext(session_factory=session_factory, clock=ManualClock(T), zone=T.tzinfo,
                           signer=CallbackSigner.from_token("1:test"), db_in_thread=True, db_timeout=0)
        heard: list[Changes] = []
        done = asyncio.Event()
        chat.after_commit = lambda committed: (heard.append(committed), done.set())
        release = threading.Event()

        def slow_press(session, _now):  # noqa: ANN001, ANN202
            release.wait(10)
            return press(world, "alice")(session)

        with pytest.raises(PoolTimeoutError):
            await chat.db(slow_press, together=True)
        release.set()
        await asyncio.wait_for(done.wait(), 10)
        return heard

    heard = asyncio.run(scenario())
    assert [committed.tallies for committed in heard] == [{world.activities["party_day"]}]
    assert present(session_factory, world) == ["alice"]


def test_writes_are_counted_on_every_factorys_engine_and_never_guessed(db_url):
    """Group commit asks whether a refused use-case wrote: an engine made without make_engine counts once a
    session factory is made on it, and one that counts nothing is refused rather than read as 'wrote nothing'."""
    uncounted = create_engine(db_url)
    with uncounted.connect() as connection, pytest.raises(RuntimeError, match="does not count its writes"):
        writes_on(connection)
    factory = make_session_factory(uncounted, origin="test")
    with factory() as session, session.begin():
        connection = session.connection()
        before = writes_on(connection)
        connection.exec_driver_sql("SELECT 1")
        connection.exec_driver_sql("CREATE TEMPORARY TABLE scratch (x INTEGER)")
        assert writes_on(connection) == before + 1
    make_session_factory(uncounted, origin="again")  # a second factory does not count each write twice
    with factory() as session, session.begin():
        connection = session.connection()
        before = writes_on(connection)
        connection.exec_driver_sql("CREATE TEMPORARY TABLE scratch2 (x INTEGER)")
        assert writes_on(connection) == before + 1
    uncounted.dispose()
