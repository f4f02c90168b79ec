"""Group commit: presses that arrive together share one transaction, and each gets the answer it would get alone."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from bot.handlers.group_commit import GroupCommit
from storage import models
from storage.db import transaction
from storage.errors import PermissionDenied
from storage.repositories import attendance as attendance_repo
from storage.services import attendance as svc
from storage.services.actors import actor_for_telegram
from storage.services.runner import run_together
from tests.chat.world import MEETING_START

T = MEETING_START


@pytest.fixture
def commits(engine) -> list[int]:
    """One entry per transaction the engine commits."""
    seen: list[int] = []
    event.listen(engine, "commit", lambda _conn: seen.append(1))
    return seen


def press(world, who: str, activity: str = "party_day"):  # noqa: ANN001, ANN201
    def work(session):  # noqa: ANN001, ANN202
        actor = actor_for_telegram(session, world.telegram[who])
        return svc.check_in(session, actor, world.activities[activity], T)
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


def lost_connection(_session):  # noqa: ANN001, ANN202
    raise OperationalError("SELECT 1", {}, Exception("server closed the connection"), connection_invalidated=True)


def answer(outcome) -> str:  # noqa: ANN001
    if outcome.error is not None:
        return type(outcome.error).__name__
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


def present(session_factory, world) -> list[str]:  # noqa: ANN001
    names = {member_id: who for who, member_id in world.members.items()}
    with transaction(session_factory) as session:
        return sorted(names[m] for m in session.scalars(select(models.Attendance.member_id)))


@pytest.mark.parametrize(("group", "answers", "recorded", "transactions"), [
    pytest.param(["alice", "bob", "secretary"], ["present", "present", "present"], ["alice", "bob", "secretary"], 1,
                 id="three-presses-one-commit"),
    pytest.param(["alice", "alice"], ["present", "already"], ["alice"], 1, id="same-member-twice-in-one-group"),
    pytest.param(["alice", "other_member", "bob"], ["present", "PermissionDenied", "present"], ["alice", "bob"], 2,
                 id="a-refusal-sends-each-back-to-its-own-transaction"),
    pytest.param(["alice", "bug", "bob"], ["present", "ZeroDivisionError", "present"], ["alice", "bob"], 2,
                 id="a-failure-sends-each-back-to-its-own-transaction"),
    pytest.param(["alice", "lost", "bob"], ["OperationalError"] * 3, [], 0, id="a-lost-connection-is-everyones"),
    pytest.param(["bob"], ["present"], ["bob"], 1, id="a-group-of-one-is-a-plain-transaction"),
])
def test_presses_together(session_factory, world, commits, group, answers, recorded, transactions):
    works = {"bug": lambda _session: 1 / 0, "lost": lost_connection}
    commits.clear()
    outcomes = run_together(session_factory, [works.get(who) or press(world, who) for who in group])
    assert len(commits) == transactions
    assert [answer(o) for o in outcomes] == answers
    assert present(session_factory, world) == recorded


def test_a_refusal_in_a_group_keeps_its_record_and_drops_its_writes(session_factory, world):
    outcomes = run_together(session_factory, [press(world, "alice"), refused_after_writing(world)])
    assert [answer(o) for o in outcomes] == ["present", "PermissionDenied"]
    assert present(session_factory, world) == ["alice"]
    with transaction(session_factory) as session:
        assert session.scalars(select(models.AuditEntry.action)).all() == ["refused"]


def test_presses_queued_while_the_threads_are_busy_go_together(session_factory, world, commits):
    """One database thread, held busy: three presses queue behind it and then run as one group."""
    commits.clear()
    presses = ("alice", "bob", "alice")
    answers = queued_behind_a_busy_thread(session_factory, lambda group: [
        group.submit(press(world, who)) for who in presses])
    assert answers == ["present", "present", "already"]
    assert len(commits) == 1
    assert present(session_factory, world) == ["alice", "bob"]


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
