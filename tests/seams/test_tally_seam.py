"""Seam between the services and the after-commit path: every answer that writes attendance (check-in, leave, its
decision, 代签, 登记请假, 缺席, the confirmation's absentees) names its activity's tally in what the commit changed,
from whichever use case wrote it; what does not touch attendance (new activities, a read, a refusal) names none."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from storage.errors import OutsideWindow
from storage.models import AttendanceStatus
from storage.services import attendance as svc
from storage.services.runner import run_together
from tests.chat.world import MEETING_START, World, actor, add_activity, build_world

T = MEETING_START
Step = Callable[[Session, World], object]


def check_in(session: Session, world: World) -> object:
    return svc.check_in(session, actor(session, world, "alice"), world.activities["party_day"], T)


def ask_leave(session: Session, world: World) -> object:
    return svc.begin_leave(session, actor(session, world, "bob"), world.activities["party_day"], T)


def give_reason(session: Session, world: World) -> object:
    return svc.submit_pending_text(session, actor(session, world, "bob"), "出差在外", T)


def approve(session: Session, world: World) -> object:
    return svc.decide_leave(session, actor(session, world, "secretary"), world.activities["party_day"],
                            world.members["bob"], True, T)


def mark(status: AttendanceStatus, reason: str | None = None) -> Step:
    def marked(session: Session, world: World) -> object:
        return svc.mark_attendance(session, actor(session, world, "secretary"), world.activities["party_day"],
                                   world.members["offline"], status, T, reason=reason)
    return marked


def confirm_held(session: Session, world: World) -> object:
    return svc.confirm_activity(session, actor(session, world, "secretary"), world.activities["party_day"], True,
                                T + timedelta(hours=3))


def check_in_a_day_early(session: Session, world: World) -> object:
    return svc.check_in(session, actor(session, world, "alice"), world.activities["party_day"], T - timedelta(days=1))


def new_activities(session: Session, world: World) -> object:
    for day in range(3):
        add_activity(session, world, f"new_{day}", "B01", "党课", T + timedelta(days=20 + day))
    return None


def read_roll(session: Session, world: World) -> object:
    return svc.roll_for(session, actor(session, world, "secretary"), world.activities["party_day"], T)


@dataclass(frozen=True)
class Case:
    before: tuple[Step, ...]  # committed first, each in its own transaction
    answer: Step  # the transaction whose commit is looked at
    names_tally: bool
    refused: type[Exception] | None = None  # the answer's refusal; None: it succeeds


CASES = {
    "check-in": Case((), check_in, True),
    "checked-in-again-changes-nothing": Case((check_in,), check_in, False),
    "asking-for-leave-is-no-answer-yet": Case((), ask_leave, False),
    "leave-request": Case((ask_leave,), give_reason, True),
    "leave-decision": Case((ask_leave, give_reason), approve, True),
    "proxy-sign": Case((), mark(AttendanceStatus.PROXY), True),
    "leave-recorded-by-the-secretary": Case((), mark(AttendanceStatus.LEAVE, "住院"), True),
    "absent": Case((), mark(AttendanceStatus.ABSENT), True),
    "confirmed-held-with-the-rest-absent": Case((check_in,), confirm_held, True),
    "refused-check-in": Case((), check_in_a_day_early, False, refused=OutsideWindow),
    "new-activities": Case((), new_activities, False),
    "a-read": Case((), read_roll, False),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_which_commits_name_a_tally(session_factory, case: Case) -> None:
    with session_factory.begin() as session:
        world = build_world(session)
    for step in case.before:
        [done] = run_together(session_factory, [lambda session, step=step: step(session, world)])
        assert done.error is None
    [outcome] = run_together(session_factory, [lambda session: case.answer(session, world)])
    assert type(outcome.error) is case.refused if case.refused else outcome.error is None, outcome.error
    tallies = outcome.committed.tallies if outcome.committed is not None else set()
    assert tallies == ({world.activities["party_day"]} if case.names_tally else set())
