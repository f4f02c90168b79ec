"""Refusals of the storage layer (its use cases and the text rule below them): a Chinese sentence and log details."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session


class ServiceError(Exception):
    """A refused or impossible request; `message` is shown to the user, `details` go to the log."""

    code = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        # Writes that must survive the rollback of the refused request (audit rows, failed attempts).
        self.on_refusal: list[Callable[[Session], None]] = []

    def keep(self, write: Callable[[Session], None]) -> "ServiceError":
        self.on_refusal.append(write)
        return self

    def __str__(self) -> str:
        return f"{self.code}: {self.message} {self.details or ''}".rstrip()


class NotBound(ServiceError):
    code = "not_bound"


class NotFound(ServiceError):
    code = "not_found"


class PermissionDenied(ServiceError):
    code = "permission_denied"


class OutsideWindow(ServiceError):
    code = "outside_window"


class AlreadyHandled(ServiceError):
    """A one-shot action was already taken (a replayed button, a second confirmation)."""

    code = "already_handled"


class InvalidInput(ServiceError):
    code = "invalid_input"


class Throttled(ServiceError):
    code = "throttled"
