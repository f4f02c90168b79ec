"""storage.text.typed_text: what a person's text becomes before it is stored, by the shape of its column."""

from __future__ import annotations

import pytest

from storage import models
from storage.text import typed_text

TITLE = models.Activity.title  # String(200): one line
MINUTES = models.Activity.minutes  # Text: keeps its lines
REASON = models.Attendance.leave_reason  # Text read as one line (info one_line)


@pytest.mark.parametrize(("column", "typed", "stored"), [
    pytest.param(TITLE, "  专题党课\u3000", "专题党课", id="title-surrounding-blanks-go"),
    pytest.param(TITLE, "专题\t党课", "专题 党课", id="title-tab-is-a-space"),
    pytest.param(TITLE, "专题党课\n学习党章", "专题党课 学习党章", id="title-line-break-is-a-space"),
    pytest.param(TITLE, "专题党课 \r\n\r\n 学习党章", "专题党课 学习党章", id="title-blank-lines-are-one-space"),
    pytest.param(TITLE, "专题  党课", "专题  党课", id="title-spaces-within-a-line-kept"),
    pytest.param(REASON, "出差\n在外", "出差 在外", id="reason-is-one-line"),
    pytest.param(REASON, "\n出差\u3000\n\n  在外\r\n", "出差 在外", id="reason-blank-lines-are-one-space"),
    pytest.param(REASON, "出差  在外", "出差  在外", id="reason-spaces-within-a-line-kept"),
    pytest.param(MINUTES, "一、学习\r\n二、讨论\r三、表决\n", "一、学习\n二、讨论\n三、表决", id="minutes-keep-their-lines"),
    pytest.param(MINUTES, "一、学习\n\n  二、讨论", "一、学习\n\n  二、讨论", id="minutes-keep-blank-lines-and-indent"),
    pytest.param(REASON, " \n\u3000 ", "", id="only-blanks-is-empty"),
])
def test_typed_text_by_the_shape_of_its_column(column, typed, stored):
    assert typed_text(typed, column, "文字") == stored
