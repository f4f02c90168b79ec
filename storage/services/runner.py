"""Runs one use-case in one transaction, keeping the refusal records a refused request asks for; or several
use-cases that arrived together in one transaction (group commit), each with the outcome it would have alone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from storage import changes
from storage.changes import Changes
from storage.db import transaction, writes_on
from storage.errors import ServiceError

T = TypeVar("T")


def run_in_transaction(factory: sessionmaker[Session], work: Callable[[Session], T]) -> T:
    """Commits `work` on success; on a ServiceError rolls it back, then commits only its refusal records."""
    try:
        with transaction(factory) as session:
            return work(session)
    except ServiceError as refused:
        if refused.on_refusal:
            with transaction(factory) as session:
                for write in refused.on_refusal:
                    write(session)
        raise


@dataclass(frozen=True, slots=True)
class ReadAhead:
    """What one use-case of a group will read, by `key`, and how to read it for the whole group at once:
    `read(session, keys)` runs first in the group's transaction with the keys of every use-case that gives the
    same `read` (storage.direct.KeyedRead keeps the answers for their reads)."""

    read: Callable[[Session, list[Any]], None]
    key: Any


def _read_ahead(session: Session, ahead: Sequence[ReadAhead | None]) -> None:
    by_read: dict[Callable[[Session, list[Any]], None], list[Any]] = {}
    for each in ahead:
        if each is not None:
            by_read.setdefault(each.read, []).append(each.key)
    for read, keys in by_read.items():
        read(session, keys)


@dataclass(slots=True)
class Outcome:
    """What one use-case of a group came to: its value or its error, and what its commit changed (None: it
    committed nothing, or shared the commit of an earlier one of the group, whose `committed` covers it)."""

    value: Any = None
    error: Exception | None = None
    committed: Changes | None = None


def _lost_connection(error: Exception) -> bool:
    """The database went away under the group (not something one use-case did): running each again alone
    would only wait for it once per use-case."""
    return (isinstance(error, (PoolTimeoutError, DisconnectionError))
            or (isinstance(error, DBAPIError) and error.connection_invalidated))


def _alone(factory: sessionmaker[Session], work: Callable[[Session], Any]) -> Outcome:
    sessions: list[Session] = []

    def run(session: Session) -> Any:
        sessions.append(session)
        return work(session)

    try:
        value = run_in_transaction(factory, run)
    except Exception as error:  # noqa: BLE001 - handed to whoever asked, as if raised in their own call
        return Outcome(error=error)
    return Outcome(value=value, committed=changes.of(sessions[0]))


class _RefusedAfterWriting(Exception):
    """Raised out of the group's transaction to roll it back: a use-case was refused after it wrote (or left
    something pending), so its refusal cannot simply take its place in the group's commit."""


def _in_place(session: Session, connection: Connection, work: Callable[[Session], Any]) -> Outcome:
    """`work` straight in the group's transaction. Refused before it wrote anything (it ran nothing but SELECTs
    on `connection` and left nothing pending in the session), there is nothing to roll back: its refusal records
    are written in its place, into the group's commit. That covers what `storage.changes` records too: each
    change it records follows a statement that wrote (the outbox's INSERT, an activity's or attendance row's
    flush, the check-in's INSERT), or a success (a pressed card, recorded once the check-in returned). Refused after
    writing, or with anything pending (an earlier one's too: counted as its own), it is `_RefusedAfterWriting`."""
    writes = writes_on(connection)
    try:
        return Outcome(value=work(session))
    except ServiceError as refused:
        if writes_on(connection) != writes or session.new or session.dirty or session.deleted:
            raise _RefusedAfterWriting from refused
        for write in refused.on_refusal:
            write(session)
        return Outcome(error=refused)


def _in_savepoint(session: Session, work: Callable[[Session], Any]) -> Outcome:
    """`work` inside a SAVEPOINT of the group's transaction: refused, it is rolled back to it (what it recorded
    in `storage.changes` too) and its refusal records are written in its place, into the group's commit.
    Anything else it raises, or its last flush raises at RELEASE, goes up to the group."""
    savepoint = session.begin_nested()
    try:
        value = work(session)
    except ServiceError as refused:
        savepoint.rollback()
        for write in refused.on_refusal:
            write(session)
        return Outcome(error=refused)
    savepoint.commit()
    return Outcome(value=value)


def _from_savepoints(factory: sessionmaker[Session], works: Sequence[Callable[[Session], Any]],
                     plain: int) -> list[Outcome]:
    """The group again in one transaction: the first `plain` as they are (they ran without a refusal after
    writing a moment ago), each of the rest in a SAVEPOINT. Anything else raised (one of the first `plain` refused
    after writing now) sends each back alone."""
    try:
        with transaction(factory, savepoints=True) as session:
            connection = session.connection()
            outcomes = [_in_place(session, connection, work) for work in works[:plain]]
            outcomes += [_in_savepoint(session, work) for work in works[plain:]]
    except Exception as error:  # noqa: BLE001 - rolled back; sorted out one by one below
        if _lost_connection(error):
            return [Outcome(error=error) for _ in works]
        return [_alone(factory, work) for work in works]
    return _committed_on_first(outcomes, session)


def run_together(factory: sessionmaker[Session], works: Sequence[Callable[[Session], Any]],
                 ahead: Sequence[ReadAhead | None] = ()) -> list[Outcome]:
    """Runs `works` in order in one transaction: one checkout, BEGIN and COMMIT for all of them.

    A use-case refused (a ServiceError: a press too early, or from outside the audience) before it wrote
    anything leaves nothing to roll back: its refusal records are written into the shared transaction, committed
    as `run_in_transaction` would commit them alone, and the others go on (`_in_place`). One refused after
    writing rolls the transaction back, and the group runs again in one transaction, that use-case and those
    after it each in a SAVEPOINT: a refused one is rolled back to its savepoint, its refusal records written in
    its place. Savepoints only then: each costs two round trips (SAVEPOINT, RELEASE), which measurably raised
    every press's CPU when nothing is refused (docs/ARCHITECTURE.md, "Group commit"). Anything else (a failure,
    or the commit failing) rolls the group back and each runs again, in order, in its own transaction. So every
    outcome is the one it would have had alone; only a lost connection is everyone's outcome at once. Meant for
    short use-cases that touch nothing but the session (they may run more than once). The first outcome that
    has a value carries the group's `committed`.

    `ahead` (by use-case, None where one reads nothing ahead): what the group reads at once before its first
    run, each use-case then reading its own from the session. Only the first run reads ahead: a run again after
    a refusal or a failure reads the database as the use-case alone would.
    """
    if len(works) == 1:
        return [_alone(factory, works[0])]
    outcomes: list[Outcome] = []
    try:
        with transaction(factory) as session:
            connection = session.connection()
            _read_ahead(session, ahead)
            for work in works:
                outcomes.append(_in_place(session, connection, work))
    except _RefusedAfterWriting:
        # Rolled back: again, those before the refused one as they are, it and the rest each in a SAVEPOINT.
        return _from_savepoints(factory, works, plain=len(outcomes))
    except Exception as error:  # noqa: BLE001 - rolled back; sorted out below
        if _lost_connection(error):
            return [Outcome(error=error) for _ in works]
        return [_alone(factory, work) for work in works]
    return _committed_on_first(outcomes, session)


def _committed_on_first(outcomes: list[Outcome], session: Session) -> list[Outcome]:
    first = next((outcome for outcome in outcomes if outcome.error is None), None)
    if first is not None:
        first.committed = changes.of(session)
    return outcomes
