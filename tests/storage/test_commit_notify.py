"""A transaction that queued outbox rows or changed activities notifies `branchbot_outbox` only when it commits; one
that changed only attendance (a tally) notifies only from the command line (a bot process shows its own)."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator

import psycopg
import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from bot.runtime.notify import libpq_url
from storage import changes, models
from storage.db import is_sqlite, make_session_factory, transaction
from storage.repositories import attendance as attendance_repo
from storage.repositories import outbox
from tests.runtime.factories import at, make_activity, make_branch

MARKER = "end-of-case"


@pytest.fixture
def pg_engine(engine: Engine) -> Engine:
    if is_sqlite(engine):
        pytest.skip("NOTIFY is PostgreSQL's; SQLite deployments poll (docs/ARCHITECTURE.md, #12.14)")
    return engine


@pytest.fixture
def listener(pg_engine: Engine) -> Iterator[psycopg.Connection]:
    with psycopg.connect(libpq_url(pg_engine.url.render_as_string(hide_password=False)), autocommit=True) as conn:
        conn.execute(f"LISTEN {changes.CHANNEL}")
        yield conn


def heard(listener: psycopg.Connection, pg_engine: Engine) -> list[dict]:
    """Every payload notified before a marker sent now (notifications arrive in commit order, so no waiting
    on time decides that nothing came)."""
    with pg_engine.begin() as conn:
        conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": changes.CHANNEL, "p": MARKER})
    payloads = []
    for notify in listener.notifies(timeout=10):
        if notify.payload == MARKER:
            return payloads
        payloads.append(json.loads(notify.payload))
    raise AssertionError("the marker notification never arrived")


def _seed(factory: sessionmaker[Session]) -> int:
    with transaction(factory) as session:
        org = make_branch(session, members=1)
        return make_activity(session, org, at("2026-12-10 14:00")).id


def queue_one(session: Session, activity_id: int) -> None:
    outbox.enqueue(session, [outbox.NewMessage(dedup_key="test:1", recipient="member:1",
                                               due_at=at("2026-12-09 09:00"), activity_id=activity_id)])


def move_it(session: Session, activity_id: int) -> None:
    session.get(models.Activity, activity_id).title = "主题党日（改）"


def checked_in(session: Session, activity_id: int) -> None:
    """A check-in's own statement (a Core INSERT the session does not flush)."""
    member = session.scalars(select(models.Member)).first()
    attendance_repo.insert_attendance_if_absent(
        session, activity_id=activity_id, member_id=member.id, status="present", recorded_at=at("2026-12-10 14:00"),
        recorded_by_member_id=member.id, via="private")


def marked_absent(session: Session, activity_id: int) -> None:
    """An attendance row the session flushes (代签, 缺席, leave …)."""
    member = session.scalars(select(models.Member)).first()
    session.add(models.Attendance(activity_id=activity_id, member_id=member.id, status="absent",
                                  recorded_at=at("2026-12-10 16:00"), via="secretary"))


def read_only(session: Session, activity_id: int) -> None:
    session.get(models.Activity, activity_id)


def in_savepoint(work: Callable[[Session, int], None], *, released: bool,
                 then: Callable[[Session, int], None] | None = None) -> Callable[[Session, int], None]:
    """`work` inside a SAVEPOINT, released or rolled back; then, outside it, `then`."""
    def run(session: Session, activity_id: int) -> None:
        savepoint = session.begin_nested()
        work(session, activity_id)
        savepoint.commit() if released else savepoint.rollback()
        if then is not None:
            then(session, activity_id)
    return run


def queue_and_move(session: Session, activity_id: int) -> None:
    queue_one(session, activity_id)
    move_it(session, activity_id)


class Boom(Exception):
    pass


ORG = object()  # the seed's branch, whose id the case learns once seeded
BOT, CLI = "proc-A", None  # a bot process's worker id; the command line names none


def said(origin: str | None, outbox: int = 0, activities: list[int] = (), tallies: list[int] = (),
         roster: list[int] = ()) -> dict:
    return {"from": origin, "outbox": outbox, "activities": list(activities), "tallies": list(tallies),
            "roster": list(roster)}


def moved_a_member(session: Session, activity_id: int) -> None:
    """A member moved through the session (the roster import's bulk statements say so themselves)."""
    member = session.scalars(select(models.Member)).first()
    member.category = "预备党员"


def renamed_a_member(session: Session, activity_id: int) -> None:
    member = session.scalars(select(models.Member)).first()
    member.name = "改名"


CASES = [
    # (id, who commits, what the transaction does, whether it commits, what the listener hears)
    ("queued-and-committed", BOT, queue_one, True, lambda a: [said(BOT, outbox=1)]),
    ("activity-changed-and-committed", BOT, move_it, True, lambda a: [said(BOT, activities=[a])]),
    ("queued-then-rolled-back", BOT, queue_one, False, lambda a: []),
    ("activity-changed-then-rolled-back", BOT, move_it, False, lambda a: []),
    ("nothing-changed", BOT, read_only, True, lambda a: []),
    ("changed-in-a-savepoint-released", BOT, in_savepoint(queue_and_move, released=True), True,
     lambda a: [said(BOT, outbox=1, activities=[a])]),
    ("changed-in-a-savepoint-rolled-back", BOT, in_savepoint(queue_and_move, released=False), True, lambda a: []),
    ("a-released-savepoint-is-not-the-commit", BOT, in_savepoint(queue_one, released=True, then=move_it), True,
     lambda a: [said(BOT, outbox=1, activities=[a])]),
    ("only-what-outlived-its-savepoint", BOT, in_savepoint(move_it, released=False, then=queue_one), True,
     lambda a: [said(BOT, outbox=1)]),
    ("a-bot-s-check-in-tells-nobody", BOT, checked_in, True, lambda a: []),
    ("a-bot-s-mark-tells-nobody", BOT, marked_absent, True, lambda a: []),
    ("a-bot-s-tally-rides-along-with-its-queue", BOT, in_savepoint(marked_absent, released=True, then=queue_one),
     True, lambda a: [said(BOT, outbox=1, tallies=[a])]),
    ("the-command-line-s-check-in-names-its-tally", CLI, checked_in, True, lambda a: [said(CLI, tallies=[a])]),
    ("the-command-line-s-mark-names-its-tally", CLI, marked_absent, True, lambda a: [said(CLI, tallies=[a])]),
    ("the-command-line-s-mark-rolled-back", CLI, marked_absent, False, lambda a: []),
    ("the-command-line-s-roster-change-names-its-organisation", CLI, moved_a_member, True,
     lambda a: [said(CLI, roster=[ORG])]),
    ("a-bot-s-roster-change-tells-nobody", BOT, moved_a_member, True, lambda a: []),
    ("a-new-name-is-no-roster-change", CLI, renamed_a_member, True, lambda a: []),
    ("a-mark-in-a-savepoint-rolled-back", CLI, in_savepoint(marked_absent, released=False, then=read_only), True,
     lambda a: []),
]


@pytest.mark.parametrize(("origin", "work", "commits", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_notified_only_on_commit(pg_engine: Engine, listener: psycopg.Connection, origin: str | None,
                                 work: Callable[[Session, int], None], commits: bool,
                                 expected: Callable[[int], list[dict]]) -> None:
    factory = make_session_factory(pg_engine, origin=origin)
    activity_id = _seed(factory)
    with transaction(factory) as session:
        org = session.get(models.Activity, activity_id).org_id
    heard(listener, pg_engine)  # the seed's own notification is not this case's
    try:
        with transaction(factory) as session:
            work(session, activity_id)
            if not commits:
                raise Boom
    except Boom:
        pass
    assert heard(listener, pg_engine) == [
        {**payload, "roster": [org if i is ORG else i for i in payload["roster"]]} for payload in expected(activity_id)]


def test_many_activities_are_notified_as_all_and_many_tallies_as_unnamed() -> None:
    many = set(range(changes.MAX_NOTIFIED_IDS + 1))
    cases = [changes.Changes(activity_ids=many), changes.Changes(activity_ids={3, 1}),
             changes.Changes(tallies=many), changes.Changes(tallies={5}),
             changes.Changes(roster_orgs=many), changes.Changes(roster_orgs={2})]
    assert [changes.Notice.parse(changes.Notice.of("x", c).payload()) for c in cases] == [
        changes.Notice("x", 0, None), changes.Notice("x", 0, frozenset({1, 3})),
        changes.Notice("x", 0, frozenset(), None), changes.Notice("x", 0, frozenset(), frozenset({5})),
        changes.Notice("x", 0, frozenset(), frozenset(), None),
        changes.Notice("x", 0, frozenset(), frozenset(), frozenset({2}))]


def test_every_factory_records_its_changes_even_at_a_dropped_ones_address(engine: Engine) -> None:
    """SQLAlchemy remembers a dropped sessionmaker's listeners by its id(); a new factory made at the same address
    must still be wired (it once looked wired already and recorded nothing: no NOTIFY, no follow-up)."""
    activity_id = _seed(make_session_factory(engine))
    recorded, addresses = [], set()
    reused = 0
    for n in range(200):  # until a few factories were made at a dropped one's address (the allocator decides)
        factory = make_session_factory(engine)
        reused += id(factory) in addresses
        addresses.add(id(factory))
        with transaction(factory) as session:
            session.get(models.Activity, activity_id).title = f"主题党日（第{n}次改）"
            session.flush()
            recorded.append(changes.of(session).activity_ids)
        del factory, session
        gc.collect()  # frees the factory now, so the next one may be made at its address
        if reused >= 3:
            break
    assert reused >= 3, "no factory was made at a dropped one's address: nothing tested"
    assert recorded == [{activity_id}] * len(recorded)
