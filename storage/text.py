"""What text from people may hold: no control characters, no more than its database column (roster and chat alike)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import String

from storage.errors import InvalidInput

# Bidirectional marks, embeddings, overrides and isolates: they reorder what a terminal or a chat shows.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Characters no stored text may hold, invisible and able to move or recolour what a terminal shows: C0 and C1
# controls and DEL (Unicode category Cc), lone surrogates (Cs), line and paragraph separators (Zl, Zp) and the bidi
# controls. The one spelling of that rule, roster and typed text alike (a test checks it against those categories).
CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029" + "".join(sorted(BIDI_CONTROLS)) + "]")
# A Text column has no length in the database: its limit is the model's `info={"max_length": N}`.
MAX_LENGTH = "max_length"
# A Text column read as one line (`info={"one_line": True}`), like every String column: a leave reason is one line
# of the roll.
ONE_LINE = "one_line"
# A line break of a one-line text, with the blanks around it: one space.
_LINE_BREAK = re.compile("[ \u3000]*\n[ \u3000\n]*")


def escaped(text: str, *, keep: str = "") -> str:
    """`text` with every control character (except those in `keep`) written as an escape (`\\x1b`, `\\u202e`)."""
    return CONTROLS.sub(lambda found: found[0] if found[0] in keep else _escape(found[0]), text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def control_codes(text: str) -> str | None:
    """The control characters in `text` as a message names them (`U+0000、U+001B`), None when there are none."""
    if CONTROLS.search(text) is None:  # the common case: one scan, no list, no set
        return None
    controls = sorted(set(CONTROLS.findall(text)))
    return "、".join(f"U+{ord(char):04X}" for char in controls[:3]) + ("等" if len(controls) > 3 else "")


def stored_length(column: object) -> int:
    """How many characters a model's column holds: a String's length, or a Text column's `info["max_length"]`.

    The one place every text limit comes from (roster cells and what people type in chat or on the command line).
    """
    column = _column(column)
    column_type = column.type
    if isinstance(column_type, String) and column_type.length is not None:
        return column_type.length
    limit = getattr(column, "info", {}).get(MAX_LENGTH)
    if limit is None:
        raise TypeError(f"{column} is neither a String column with a length nor has info[{MAX_LENGTH!r}]")
    return int(limit)


def could_be_stored(text: str, column: object) -> bool:
    """Whether `text` could be a value of `column` at all. A look-up by a text that could not matches nothing,
    and asks nothing of the database: PostgreSQL refuses a NUL byte even in a WHERE clause, SQLite does not."""
    return len(text) <= stored_length(column) and CONTROLS.search(text) is None


def _column(column: object) -> Any:
    """A table's column, given it or a model's attribute (`models.Activity.topic`)."""
    prop = getattr(column, "property", None)
    return prop.columns[0] if prop is not None else column


def _is_single_line(column: object) -> bool:
    column = _column(column)
    return (isinstance(column.type, String) and column.type.length is not None) or bool(
        getattr(column, "info", {}).get(ONE_LINE))


def typed_text(text: str | None, column: object, what: str) -> str:
    """A person's text for `column`, as it will be stored; `InvalidInput` saying what is wrong otherwise.

    Surrounding space goes; a tab is a space; a String column (or a Text column with `info[ONE_LINE]`) is one
    line (a line break, with the blanks around it, becomes one space), a Text column keeps its lines (CR LF and
    CR become LF). Any other control character is refused, not dropped: the person sees what we would not keep. Then the length is checked against the column, so neither a NUL byte
    nor an over-long value reaches the driver (SQLite would store them, PostgreSQL refuses them).
    An empty result is returned as "": each caller words its own "please write …".
    """
    value = (text or "").replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    single_line = _is_single_line(column)
    if single_line:
        value = _LINE_BREAK.sub(" ", value)
    value = value.strip(" \n\u3000")
    codes = control_codes(value if single_line else value.replace("\n", ""))
    if codes is not None:
        raise InvalidInput(f"{what}含有不可见的控制字符 {codes}，请删除后重新输入。", controls=codes)
    limit = stored_length(column)
    if len(value) > limit:
        raise InvalidInput(f"{what}太长了：{len(value)} 个字，最多 {limit} 个字。", length=len(value), limit=limit)
    return value
