"""The proposal lexicon: catalog names and synonyms (config/proposal_lexicon.yaml) compiled into matchers."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from schedules.catalog import (
    AudienceKey,
    Catalog,
    CatalogError,
    Kind,
    OrgTypeName,
    describe_validation_error,
    read_yaml,
)
from schedules.timeparse.numerals import parse_number

LEXICON_FILE = "proposal_lexicon.yaml"

ProposedCadence = Literal["weekly", "monthly", "quarterly", "semiannual", "yearly", "holidays"]

# Quotes plans put around names ("三会一课", 「四有」): a `"` in a literal term matches any of them, or none.
_QUOTES = "“”\"「」『』‘’'《》"
_OPTIONAL_QUOTE = f"[{re.escape(_QUOTES)}]?"
_PARENTHESES = re.compile(r"[（(]([^）)]*)[）)]")


def compile_term(term: str) -> re.Pattern[str]:
    """A lexicon term as a pattern: `re:` + a regular expression, or literal text where `"` is an optional quote."""
    if term.startswith("re:"):
        return re.compile(term[3:])
    parts = []
    for char in term:
        if char.isspace():
            continue
        parts.append(_OPTIONAL_QUOTE if char in _QUOTES else re.escape(char))
    return re.compile("".join(parts))


def name_terms(name: str) -> list[str]:
    """The ways a catalog name is written: 支部委员会会议（支委会） → 支部委员会会议, 支委会."""
    inside = [part.strip() for part in _PARENTHESES.findall(name) if part.strip()]
    outside = _PARENTHESES.sub("", name).strip()
    return [term for term in [outside, *inside] if len(term) >= 2]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class NewItemSpec(_Strict):
    """A recurring practice plans ask for that the catalog has no entry for (proposed disabled)."""

    key: str
    name: str
    terms: list[str]
    cadence: ProposedCadence
    audience: AudienceKey
    applies_to: list[OrgTypeName]
    kind: Kind = "meeting"

    @field_validator("key")
    @classmethod
    def _key_shape(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
            raise ValueError("key 应为小写英文、数字和下划线")
        return value


class CadenceSpec(_Strict):
    say: str
    cadence: ProposedCadence
    month: int | Literal["$1"] | None = None  # a month number, or "$1": the numeral the pattern's first group caught
    day: Literal["$1"] | None = None  # "$1": the day of the month the first group caught


class RecurringWords(_Strict):
    cadence: list[str]
    verbs: list[str]


class LexiconFile(_Strict):
    version: int = 1
    obligations: dict[str, list[str]]
    new: list[NewItemSpec] = []
    cadences: list[CadenceSpec]
    recurring_words: RecurringWords
    activity_dates: list[str]
    activity_verbs: list[str]


@dataclass(frozen=True)
class Term:
    """One way of saying one thing: `owner` is a catalog key, or `new:<key>` for a new item."""

    owner: str
    text: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class CadenceTerm:
    text: str
    pattern: re.Pattern[str]
    cadence: str
    month: int | str | None
    day: str | None = None

    @staticmethod
    def _caught(match: re.Match[str], upper: int) -> int | None:
        try:
            value = parse_number(match.group(1))
        except (ValueError, IndexError):
            return None
        return value if 1 <= value <= upper else None

    def month_of(self, match: re.Match[str]) -> int | None:
        if self.month == "$1":
            return self._caught(match, 12)
        return self.month if isinstance(self.month, int) else None

    def day_of(self, match: re.Match[str]) -> int | None:
        return self._caught(match, 31) if self.day == "$1" else None


@dataclass(frozen=True)
class Lexicon:
    """Everything the matcher looks for, compiled once per catalog and lexicon file."""

    terms: tuple[Term, ...]
    claims: Mapping[str, tuple[re.Pattern[str], ...]]  # key → its checklist phrases (see `claims` in match)
    new_items: Mapping[str, NewItemSpec]
    cadences: tuple[CadenceTerm, ...]
    recurring_cadence: re.Pattern[str]
    recurring_verbs: re.Pattern[str]
    activity_dates: re.Pattern[str]
    activity_verbs: re.Pattern[str]
    any_term: re.Pattern[str]  # a cheap pre-filter: does a sentence mention anything at all?


def _alternation(patterns: Sequence[re.Pattern[str]]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p.pattern})" for p in patterns))


def _compile(terms: Sequence[str], where: str, problems: list[str]) -> list[tuple[str, re.Pattern[str]]]:
    compiled = []
    for term in terms:
        try:
            compiled.append((term, compile_term(term)))
        except re.error as exc:
            problems.append(f"{where}：说法 {term!r} 不是有效的正则表达式（{exc}）")
    return compiled


def build_lexicon(catalog: Catalog, data: str | Mapping[str, Any], source_name: str) -> Lexicon:
    """The compiled lexicon: catalog names plus the file's synonyms; an unknown key or bad pattern is refused."""
    if isinstance(data, str):
        data = read_yaml(data, source_name)
    try:
        spec = LexiconFile.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(describe_validation_error(exc, source_name, "（词表）")) from None
    problems: list[str] = []
    terms: list[Term] = []
    for key in spec.obligations:
        if key not in catalog:
            problems.append(f"{source_name}，条目 {key}：目录中没有这个事项（可用：{'、'.join(catalog.keys)}）")
    for key in catalog.keys:
        said = [*name_terms(catalog[key].name), *spec.obligations.get(key, [])]
        for text, pattern in _compile(dict.fromkeys(said), f"{source_name}，条目 {key}", problems):
            terms.append(Term(key, text, pattern))
    new_items: dict[str, NewItemSpec] = {}
    for item in spec.new:
        if item.key in catalog:
            problems.append(f"{source_name}，new 条目 {item.key}：目录中已有这个事项，请写在 obligations 下")
        new_items[item.key] = item
        for text, pattern in _compile(item.terms, f"{source_name}，new 条目 {item.key}", problems):
            terms.append(Term(f"new:{item.key}", text, pattern))
    cadences = [CadenceTerm(c.say, pattern, c.cadence, c.month, c.day)
                for c in spec.cadences for _, pattern in _compile([c.say], f"{source_name}，cadences", problems)]
    dates = _compile(spec.activity_dates, f"{source_name}，activity_dates", problems)
    if problems:
        raise CatalogError(problems)
    claims = {
        key: tuple(compile_term(item) for item in catalog[key].checklist)
        for key in catalog.keys if catalog[key].checklist
    }
    return Lexicon(
        terms=tuple(terms),
        claims=claims,
        new_items=new_items,
        cadences=tuple(cadences),
        recurring_cadence=_alternation([compile_term(w) for w in spec.recurring_words.cadence]),
        recurring_verbs=_alternation([compile_term(w) for w in spec.recurring_words.verbs]),
        activity_dates=_alternation([p for _, p in dates]),
        activity_verbs=_alternation([compile_term(w) for w in spec.activity_verbs]),
        any_term=_alternation([t.pattern for t in terms]),
    )
