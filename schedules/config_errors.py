"""Chinese wording of pydantic validation errors, shared by the config files people edit (catalog, holidays)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def zh_problem(err: Mapping[str, Any]) -> str:
    """What is wrong with one value, in Chinese, from one entry of `ValidationError.errors()`."""
    kind: str = err["type"]
    given = err.get("input")
    if kind == "missing":
        return "缺少此项"
    if kind == "extra_forbidden":
        return f"不认识的字段（值 {given!r}）；请检查拼写"
    if kind == "literal_error":
        expected = str(err.get("ctx", {}).get("expected", "")).replace(" or ", ", ")
        return f"取值 {given!r} 无效，应为 {expected}"
    if kind in ("bool_type", "bool_parsing"):
        return f"应为 true 或 false，而不是 {given!r}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"应为整数，而不是 {given!r}"
    if kind.startswith("date"):
        return f"应为日期（如 2027-10-01），而不是 {given!r}"
    if kind == "string_type":
        return f"应为文字，而不是 {given!r}"
    if kind == "list_type":
        return f"应为列表（写在方括号 [ ] 里，或逐行以“- ”开头），而不是 {given!r}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"应为键值对，而不是 {given!r}"
    if kind == "value_error":
        return str(err.get("ctx", {}).get("error", err["msg"])).removeprefix("Value error, ")
    if kind == "frozen_instance":
        return "不可修改"
    return f"{err['msg']}（输入 {given!r}）"
