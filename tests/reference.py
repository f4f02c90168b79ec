"""The shared reference files the tests check against: a copy kept in tests/fixtures, the shared one when beside us."""

from __future__ import annotations

from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SHARED_REFERENCE = PROJECT.parent / "shared" / "reference"
COPIED_REFERENCE = PROJECT / "tests" / "fixtures" / "reference"
REFERENCE_FILES = ("time-expressions.tsv", "obligations.md")


def reference_file(name: str) -> Path:
    """The shared file when this checkout sits beside shared/ (the source of truth), else our copy."""
    shared = SHARED_REFERENCE / name
    return shared if shared.exists() else COPIED_REFERENCE / name
