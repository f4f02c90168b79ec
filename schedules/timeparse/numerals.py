"""Chinese and Arabic numerals as secretaries write them in times: 九, 十二, 二十三, 两, 零五, 二〇二五, 15."""

from __future__ import annotations

from schedules.timeparse.model import GENERAL_EXAMPLES, TimeParseError

CHINESE_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}

# Regex fragment for a number of up to three characters in either script (years have their own).
NUMBER_PATTERN = r"(?:\d{1,3}|[零〇一二两三四五六七八九十]{1,3})"


def parse_number(token: str) -> int:
    """The value of a numeral token; ValueError when it is not a well-formed number below 100 (or a digit string)."""
    token = token.strip()
    if not token:
        raise ValueError("empty numeral")
    if token.isascii() and token.isdigit():
        return int(token)
    if "十" in token:
        tens_part, _, ones_part = token.partition("十")
        if len(tens_part) > 1 or len(ones_part) > 1 or "十" in ones_part:
            raise ValueError(f"not a numeral: {token!r}")
        tens = CHINESE_DIGITS[tens_part] if tens_part else 1
        ones = CHINESE_DIGITS[ones_part] if ones_part else 0
        if tens_part in {"零", "〇"} or ones_part in {"零", "〇"}:
            raise ValueError(f"not a numeral: {token!r}")
        return tens * 10 + ones
    try:
        digits = [CHINESE_DIGITS[char] for char in token]
    except KeyError as exc:
        raise ValueError(f"not a numeral: {token!r}") from exc
    # 两 only stands alone ("两点"); digit-by-digit strings are years (二〇二五) or minutes (零五).
    if "两" in token and len(token) > 1:
        raise ValueError(f"not a numeral: {token!r}")
    if len(digits) > 1 and digits[0] != 0 and len(digits) != 4:
        raise ValueError(f"not a numeral: {token!r}")
    value = 0
    for digit in digits:
        value = value * 10 + digit
    return value


def read_number(token: str | None, examples: tuple[str, ...] = GENERAL_EXAMPLES) -> int:
    """`parse_number` as the parsers refuse: a missing or unreadable numeral is a TimeParseError showing `examples`."""
    if token is None:
        raise TimeParseError("缺少数字", examples)
    try:
        return parse_number(token)
    except ValueError:
        raise TimeParseError(f"看不懂数字“{token}”", examples) from None
