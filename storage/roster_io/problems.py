"""Typed roster problems: every bad cell becomes one `file:row: column: message` line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class RosterProblem:
    """One problem a user can find in their spreadsheet: row 1 is the header, 0 means the whole file."""

    file: str
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.row == 0 and not self.column:
            return f"{self.file}: {self.message}"
        if not self.column:
            return f"{self.file}:{self.row}: {self.message}"
        return f"{self.file}:{self.row}: {self.column}: {self.message}"


class RosterError(ValueError):
    """The roster cannot be imported; `problems` lists every reason, in file and row order."""

    def __init__(self, problems: list[RosterProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))
