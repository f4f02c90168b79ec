"""The layers point one way: below the use cases (storage.services), storage never reaches up into them or the bot."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # from storage import services
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


BELOW_THE_SERVICES = sorted(path for path in (ROOT / "storage").rglob("*.py")
                            if (ROOT / "storage" / "services") not in path.parents)


@pytest.mark.parametrize("path", BELOW_THE_SERVICES, ids=lambda p: str(p.relative_to(ROOT)))
def test_storage_below_the_services_imports_no_service_and_no_bot(path):
    """Models, text rules, repositories, roster files and migrations: what they need of a refusal is
    storage.errors, never a use case."""
    upward = sorted(name for name in _imported(path) if name.startswith(("storage.services", "bot.")) or name == "bot")
    assert upward == [], f"{path.relative_to(ROOT)} imports {upward}"


@pytest.mark.parametrize("path", sorted((ROOT / "schedules").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_schedules_import_neither_storage_nor_bot(path):
    upward = sorted(name for name in _imported(path) if name.split(".")[0] in ("storage", "bot"))
    assert upward == [], f"{path.relative_to(ROOT)} imports {upward}"
