"""One registry of outbox kinds: every kind has a renderer, nothing else is queued, a gap refuses to start."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.handlers.rectify import NoticeViews
from bot.runtime.app import build_application
from bot.runtime.render import MissingRenderers, OutboxRenderers
from bot.clock import ManualClock
from bot.settings import Settings
from storage import models
from storage.outbox_kinds import OutboxKind
from storage.repositories import outbox
from tests.runtime.factories import at, renderers

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for folder in ("bot", "storage", "schedules") for p in (ROOT / folder).rglob("*.py"))


def test_the_bots_wiring_has_a_renderer_for_every_kind():
    wired = renderers()
    assert isinstance(wired, OutboxRenderers)  # built: complete by construction


@pytest.mark.parametrize("kind", list(OutboxKind), ids=lambda kind: kind.value)
def test_a_kind_without_a_renderer_is_refused(kind):
    complete = {k: (lambda *args: ("", None)) for k in OutboxKind}
    del complete[kind]
    with pytest.raises(MissingRenderers) as refused:
        OutboxRenderers(complete)
    assert refused.value.kinds == [kind]


def test_the_bot_refuses_to_start_when_a_kind_has_no_renderer(monkeypatch, session_factory):
    original = NoticeViews.renderers

    def without_talks(self):  # noqa: ANN001, ANN202
        found = original(self)
        del found[OutboxKind.TALK_OWED]
        return found

    monkeypatch.setattr(NoticeViews, "renderers", without_talks)
    settings = Settings(telegram_token="1:TEST", telegram_api_base_url="http://127.0.0.1:9/bot")
    with pytest.raises(MissingRenderers, match="talk_owed"):
        build_application(settings, ManualClock(at("2025-03-01 09:00")), session_factory=session_factory,
                          schedule_chat_jobs=False)


@pytest.mark.parametrize("write", ["new_message", "model"])
def test_a_kind_that_is_not_in_the_enum_is_refused_on_write(write):
    with pytest.raises(ValueError, match="unknown outbox kind 'notice'"):
        if write == "new_message":
            outbox.NewMessage(dedup_key="x", recipient="member:1", due_at=at("2025-03-01 09:00"), kind="notice")
        else:
            models.OutboxMessage(dedup_key="x", recipient="member:1", due_at=at("2025-03-01 09:00"), kind="notice")


def _kind_arguments() -> list[tuple[str, int, ast.expr]]:
    """Every `kind=` given to a NewMessage (or an OutboxMessage) in the code, with where it is."""
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in {"NewMessage", "OutboxMessage"}:
                continue
            for keyword in node.keywords:
                if keyword.arg == "kind":
                    found.append((str(path.relative_to(ROOT)), node.lineno, keyword.value))
    return found


def test_every_enqueued_kind_in_the_code_is_in_the_enum():
    arguments = _kind_arguments()
    assert len(arguments) >= 10  # the scan sees the code that queues messages
    wrong = []
    for where, line, value in arguments:
        if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) and value.value.id == "OutboxKind":
            if value.attr not in OutboxKind.__members__:
                wrong.append(f"{where}:{line}: OutboxKind.{value.attr} is not a kind")
        elif isinstance(value, ast.Name):
            continue  # a variable: a parameter typed OutboxKind (checked on write by NewMessage)
        else:
            wrong.append(f"{where}:{line}: kind={ast.unparse(value)} (use an OutboxKind member)")
    assert wrong == []


def test_no_module_defines_a_kind_of_its_own():
    """A string constant whose value is a kind lives only in the enum."""
    values = {kind.value for kind in OutboxKind}
    own = []
    for path in SOURCES:
        if path.name == "outbox_kinds.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and node.value.value in values:
                own.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert own == []
