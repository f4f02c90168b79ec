"""Runs one use-case in one transaction, keeping the refusal records a refused request asks for; or several
use-cases that arrived together in one transaction (group commit), each with the outcome it would have alone."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from storage import changes
from storage.changes import Changes
from storage.db import transaction
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


def run_together(factory: sessionmaker[Session], works: Sequence[Callable[[Session], Any]]) -> list[Outcome]:
    """Runs `works` in order in one transaction: one checkout, BEGIN and COMMIT for all of them.

    All or nothing: when any of them raises (a refusal included) or the commit fails, the whole transaction
    is rolled back and each runs again, in order, in its own transaction (`run_in_transaction`), so every
    outcome, refusal records included, is the one it would have had alone. Only a lost connection is
    everyone's outcome at once. Meant for short use-cases that touch nothing but the session (they may run
    twice); the first outcome's `committed` covers the whole group.
    """
    if len(works) == 1:
        return [_alone(factory, works[0])]
    try:
        with transaction(factory) as session:
            values = [work(session) for work in works]
    except Exception as error:  # noqa: BLE001 - rolled back; sorted out one by one below
        if _lost_connection(error):
            return [Outcome(error=error) for _ in works]
        return [_alone(factory, work) for work in works]
    return [Outcome(value=values[0], committed=changes.of(session)), *(Outcome(value=v) for v in values[1:])]
