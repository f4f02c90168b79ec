"""Every row of shared/reference/time-expressions.tsv resolves exactly as the file says."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from schedules.timeparse import TimeParseError, parse_time
from tests.reference import reference_file

REFERENCE = reference_file("time-expressions.tsv")
SHANGHAI = ZoneInfo("Asia/Shanghai")
REFERENCE_NOW = datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI)  # a Monday, as the file's header says


def _rows() -> list[pytest.param]:
    rows = []
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        expression, expected = line.split("\t")
        rows.append(pytest.param(expression, expected, id=f"{expression} -> {expected}"))
    return rows


def test_the_reference_file_is_read() -> None:
    assert len(_rows()) >= 37


@pytest.mark.parametrize(("expression", "expected"), _rows())
def test_reference_expression(expression: str, expected: str) -> None:
    if expected == "ERROR":
        with pytest.raises(TimeParseError) as raised:
            parse_time(expression, REFERENCE_NOW, SHANGHAI)
        assert raised.value.message and raised.value.examples
    else:
        parsed = parse_time(expression, REFERENCE_NOW, SHANGHAI)
        assert parsed.at.isoformat() == expected
        assert parsed.at.tzinfo is SHANGHAI
