"""Runs one use-case in one transaction, keeping the refusal records a refused request asks for."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

from storage.db import transaction
from storage.services.errors import ServiceError

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
