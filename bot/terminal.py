"""What the command line prints: people's text reaches the terminal with its control characters escaped, never as markup."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from rich.console import Console

from storage.text import CONTROLS

# Our own layout: line breaks and the tab `rectification list` separates its columns with.
KEPT = "\n\t"


def _escape(found: re.Match[str]) -> str:
    char = found[0]
    # \uXXXX for every one, C1 too: inside a JSON string (`--format json`) that is a valid escape of the same text.
    return char if char in KEPT else f"\\u{ord(char):04x}"


def terminal_safe(text: str) -> str:
    """`text` as a terminal may show it: ESC, bidi overrides, NUL … written as `\\u001b`, `\\u202e`, `\\u0000`."""
    return CONTROLS.sub(_escape, text)


class SafeStream:
    """A text stream that escapes control characters on the way to the terminal (or a file, or a pipe).

    Installed as sys.stdout and sys.stderr for every command, so no printer can forget it: a name, a topic or a
    title typed in chat cannot move the cursor, recolour the terminal or reverse a line. `raw` is the stream
    underneath, for rich's own progress bar, whose cursor controls are ours.
    """

    def __init__(self, raw: IO[str]) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(terminal_safe(text))
        return len(text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, encoding, buffer, fileno …
        return getattr(self.raw, name)


def raw(stream: IO[str]) -> IO[str]:
    """The stream under a SafeStream (for output that is ours alone), or the stream itself."""
    return stream.raw if isinstance(stream, SafeStream) else stream  # type: ignore[return-value]


@contextmanager
def safe_output() -> Iterator[None]:
    """sys.stdout and sys.stderr escape control characters until the command returns."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(raw(sys.stdout)), SafeStream(raw(sys.stderr))  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved


def text_console(file: IO[str], **options: Any) -> Console:
    """A rich console for tables of people's text: `[bold]` in a name is a name, not markup; `:smile:` stays.

    No colours either (`color_system=None`): the console writes through a SafeStream, which would escape them.
    """
    return Console(file=file, markup=False, emoji=False, highlight=False, color_system=None, **options)
