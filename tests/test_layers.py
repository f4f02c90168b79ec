"""The layers point one way: repositories read rows and never reach up into services or the bot."""

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
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "storage" / "repositories").glob("*.py")), ids=lambda p: p.stem)
def test_a_repository_imports_no_service_and_no_bot(path):
    upward = sorted(name for name in _imported(path)
                    if name.startswith(("storage.services", "bot")) or name in ("storage.services", "bot"))
    assert upward == [], f"{path.relative_to(ROOT)} imports {upward}"


@pytest.mark.parametrize("path", sorted((ROOT / "schedules").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_schedules_import_neither_storage_nor_bot(path):
    upward = sorted(name for name in _imported(path) if name.split(".")[0] in ("storage", "bot"))
    assert upward == [], f"{path.relative_to(ROOT)} imports {upward}"
