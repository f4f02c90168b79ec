"""Typed roster problems: every bad cell becomes one `file:row: column: message` line, safe to print."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Bidirectional marks, embeddings, overrides and isolates: they reorder what a terminal or a chat shows.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# C0 and C1 controls and DEL (Cc), lone surrogates (Cs), line and paragraph separators (Zl, Zp).
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
SHOWN_CHARACTERS = 40  # an echoed value longer than this is cut: the row and column already say where it is


def is_control(char: str) -> bool:
    """Characters no roster cell may hold: invisible, and able to move or recolour what a terminal shows."""
    return char in BIDI_CONTROLS or unicodedata.category(char) in _HIDDEN_CATEGORIES


def escaped(text: str) -> str:
    """`text` with every control character written as an escape (`\\x1b`, `\\u202e`), like repr() does."""
    if not any(is_control(char) for char in text):
        return text
    return "".join(_escape(char) if is_control(char) else char for char in text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(value: str) -> str:
    """A cell's value as a message echoes it: control characters escaped, a long value cut with its length."""
    if len(value) <= SHOWN_CHARACTERS:
        return escaped(value)
    return f"{escaped(value[:SHOWN_CHARACTERS])}…（共 {len(value)} 个字符）"


@dataclass(frozen=True, order=True)
class RosterProblem:
    """One problem a user can find in their spreadsheet: row 1 is the header, 0 means the whole file."""

    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        # File, sheet and header names come from the user too: nothing raw reaches the terminal.
        file, column, message = escaped(self.file), shown(self.column), escaped(self.message)
        if self.row == 0 and not column:
            return f"{file}: {message}"
        if not column:
            return f"{file}:{self.row}: {message}"
        return f"{file}:{self.row}: {column}: {message}"


class RosterError(ValueError):
    """The roster cannot be imported; `problems` lists every reason, in file and row order."""

    def __init__(self, problems: list[RosterProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))
