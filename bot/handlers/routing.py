"""Which handler answers each kind of button: a router built once per Application when the handlers are wired."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.callbacks import Action

if TYPE_CHECKING:
    from telegram import Update
    from telegram.ext import ContextTypes

    from bot.callbacks import Callback
    from bot.handlers.common import ChatContext

    ButtonHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, ChatContext, Callback], Awaitable[None]]
else:
    ButtonHandler = Callable[..., Awaitable[None]]


class ButtonRouter:
    """Action -> handler. Each module adds its buttons when `bot.handlers.register` wires it; one action has
    one handler (adding a second, different one is a wiring mistake and refused)."""

    def __init__(self) -> None:
        self._handlers: dict[Action, ButtonHandler] = {}

    def add(self, action: Action, handler: ButtonHandler) -> None:
        existing = self._handlers.get(action)
        if existing is not None and existing is not handler:
            raise ValueError(f"button {action.name} already answered by {getattr(existing, '__name__', existing)}")
        self._handlers[action] = handler

    def handler_for(self, action: Action) -> ButtonHandler:
        """The handler of `action` (KeyError: a button nobody answers, treated as forged)."""
        return self._handlers[action]

    def actions(self) -> set[Action]:
        return set(self._handlers)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"ButtonRouter({sorted(a.name for a in self._handlers)})"


__all__: list[Any] = ["ButtonHandler", "ButtonRouter"]
