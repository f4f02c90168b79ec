"""Typed roster problems: every bad cell becomes one `file:row: column: message` line, safe to print."""

from __future__ import annotations

from dataclasses import dataclass

from storage.text import escaped

SHOWN_CHARACTERS = 40  # an echoed value longer than this is cut: the row and column already say where it is


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
