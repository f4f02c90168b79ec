"""The one guard against formula injection: every spreadsheet cell and CSV field we write from text goes through it.

A spreadsheet reads a cell that begins with `=`, `+`, `-` or `@` (and, after a leading tab or carriage return,
the same) as a formula: a member named `=HYPERLINK("http://evil.example/x","点我")` would become a live link in
the 台账, and a CSV field `=1+1` is computed when Excel opens the file. OWASP's remedy is to prefix such a
value with a single quote, which spreadsheets show as text. The rule, in full:

- `guard(text)` puts one `'` in front of a text that begins with `= + - @`, a tab, a carriage return, or `'`
  itself. A plain number (`-1001234567890`, `+5`, `-2.5`) is not a formula and is written as it is, so a
  group chat id stays readable.
- `unguard(text)` removes that one `'` again: a text that begins with `'` followed by one of those characters
  (or another `'`) loses its first character; anything else is returned unchanged. Guarding the quote too is
  what makes `unguard(guard(x)) == x` for every text, so a roster exported and imported again is the same.

Writers call `guard` (CSV fields, `cell_value` for openpyxl cells); only the roster importer calls `unguard`,
because the roster is the one file we both write and read.
"""

from __future__ import annotations

import re
from typing import Any

QUOTE = "'"
# OWASP "CSV Injection": = + - @ and the tab (0x09) and carriage return (0x0D) that hide them.
FORMULA_STARTS = frozenset("=+-@\t\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")


def needs_guard(text: str) -> bool:
    """Whether `text` would be read as a formula (or begins with the guard itself) when written as it is."""
    if not text:
        return False
    if text[0] == QUOTE:
        return True
    return text[0] in FORMULA_STARTS and not _PLAIN_NUMBER.fullmatch(text)


def guard(text: str) -> str:
    """`text` as a spreadsheet shows it as text: one `'` in front when it would otherwise be a formula."""
    return QUOTE + text if needs_guard(text) else text


def unguard(text: str) -> str:
    """The inverse of `guard`: the text as it was before `guard` (for text `guard` did not write, itself)."""
    if len(text) >= 2 and text[0] == QUOTE and needs_guard(text[1:]):
        return text[1:]
    return text


def cell_value(value: Any) -> Any:
    """A value for an openpyxl cell: text guarded, numbers, dates and None as they are."""
    return guard(value) if isinstance(value, str) else value
