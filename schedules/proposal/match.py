"""Reads a plan's sentences against the lexicon: which obligations it asks for, when, and with what evidence.

Every rule here is one a secretary can check by reading the quoted sentence:

- a sentence that says a term of the lexicon is evidence for that term's entry; a term inside a longer
  term of another entry ("七一"主题党日 is not the monthly 主题党日) yields to the longer one, and a term
  inside a checklist item of an entry the sentence names ("开展一次谈心谈话" in the 政治生日 "五个一") is
  that entry's, not an entry of its own;
- a time expression belongs to the term it overlaps ("七一"), or the next term after it in the same clause
  ("每季度对“学习强国”进行一次通报"), or else the last one before it in the clause; never to a term of
  another clause ("按时交纳党费，每年开展一次……专项检查" says nothing about when dues are paid);
- a clause with 每周/每月/每季度/每半年 and an action, that names nothing in the catalog and follows no
  term of the sentence, is a new entry;
- a clause with a date ("7月", "年底前") and an action, that names no recurring entry, is an activity.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from schedules.catalog import CALENDAR_CADENCES, Obligation
from schedules.proposal.lexicon import Lexicon
from schedules.proposal.model import ActivityProposal, Evidence, NewEntry, ObligationProposal, Proposal, Timing
from schedules.proposal.segment import Sentence, split_sentences
from schedules.roster import OrgType
from schedules.timeparse.numerals import parse_number

_CLAUSE_END = re.compile(r"[，,：:；;。！？!?]")
_QUOTE_LIMIT = 240
_NEW_PREFIX = "new:"
_ACTIVITY_MONTHS = {"年底前": 12, "年末前": 12, "上半年": 6, "下半年": 12}


@dataclass(frozen=True)
class _Hit:
    owner: str
    start: int
    end: int


def _clause_bounds(text: str) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for match in _CLAUSE_END.finditer(text):
        bounds.append((start, match.end()))
        start = match.end()
    if start < len(text):
        bounds.append((start, len(text)))
    return bounds


def _clause_of(bounds: list[tuple[int, int]], position: int) -> tuple[int, int]:
    for start, end in bounds:
        if start <= position < end:
            return start, end
    return bounds[-1]


def _hits(text: str, lexicon: Lexicon) -> list[_Hit]:
    found = [
        _Hit(term.owner, match.start(), match.end())
        for term in lexicon.terms for match in term.pattern.finditer(text) if match.end() > match.start()
    ]
    named = {hit.owner for hit in found}
    claimed = [
        (key, match.start(), match.end())
        for key, phrases in lexicon.claims.items() if key in named
        for phrase in phrases for match in phrase.finditer(text)
    ]

    def yields(hit: _Hit) -> bool:
        for other in found:
            if other.owner != hit.owner and other.start <= hit.start and hit.end <= other.end \
                    and (other.end - other.start) > (hit.end - hit.start):
                return True
        return any(key != hit.owner and start <= hit.start and hit.end <= end for key, start, end in claimed)

    kept = {(hit.owner, hit.start, hit.end): hit for hit in found if not yields(hit)}
    return sorted(kept.values(), key=lambda hit: (hit.start, hit.owner))


def _cadences(text: str, lexicon: Lexicon) -> list[tuple[int, int, Timing]]:
    """Time expressions in the sentence; where two overlap, the one listed first in the lexicon wins."""
    taken: list[tuple[int, int, Timing]] = []
    for term in lexicon.cadences:
        for match in term.pattern.finditer(text):
            if any(match.start() < end and start < match.end() for start, end, _ in taken):
                continue
            taken.append((match.start(), match.end(),
                          Timing(said=match.group(0), cadence=term.cadence, month=term.month_of(match),
                                 day=term.day_of(match))))
    return sorted(taken, key=lambda item: item[0])


def _attach_timings(text: str, hits: list[_Hit], timings: list[tuple[int, int, Timing]]) -> dict[tuple[int, int], Timing]:
    """Which span each time expression describes (see the module docstring)."""
    bounds = _clause_bounds(text)
    spans = sorted({(hit.start, hit.end) for hit in hits})
    attached: dict[tuple[int, int], Timing] = {}
    for start, end, timing in timings:
        clause = _clause_of(bounds, start)
        inside = [s for s in spans if clause[0] <= s[0] < clause[1]]
        target = next((s for s in inside if s[0] < end and start < s[1]), None)  # overlapping: "重要节日前…廉政提醒"
        target = target or next((s for s in inside if s[0] >= end), None)
        target = target or next((s for s in reversed(inside) if s[1] <= start), None)
        if target is None:
            continue
        earlier = attached.get(target)
        if earlier is None:
            attached[target] = timing
        elif earlier.cadence == timing.cadence == "yearly" and earlier.month is None and timing.month is not None:
            # "每年6月": the month completes the year.
            attached[target] = Timing(said=f"{earlier.said}{timing.said}", cadence="yearly", month=timing.month)
    return attached


def _agrees(timing: Timing | None, entry: Obligation) -> bool | None:
    if timing is None or entry.cadence not in CALENDAR_CADENCES + ("holidays",):
        return None
    if timing.cadence != entry.cadence:
        return False
    month = entry.when.month if isinstance(entry.when.month, int) else None
    if entry.cadence == "yearly" and timing.month is not None and month is not None:
        return timing.month == month
    if entry.cadence == "monthly" and timing.day is not None:
        return entry.when.day == timing.day
    return True


def _quote(sentence: Sentence) -> Evidence:
    text = sentence.text if len(sentence.text) <= _QUOTE_LIMIT else sentence.text[: _QUOTE_LIMIT - 1] + "…"
    return Evidence(section=sentence.section, quote=text)


_LEADING_NOISE = re.compile(r"^(?:要|将|并|再|都|均|至少|坚持|定期|按时|认真|扎实|组织|开展|召开|举办|进行|举行|一次|1次|的|，|、|\s)+")


def _clean_title(text: str) -> str:
    text = _CLAUSE_END.sub("", text).strip()
    return text.strip("“”\"「」 ")


def _new_from_clause(clause: str, lexicon: Lexicon) -> tuple[str, re.Match[str]] | None:
    """A generic recurring item: "每月召开一次党建工作例会" → 党建工作例会 (None if the clause is not one)."""
    cadence = lexicon.recurring_cadence.search(clause)
    if cadence is None:
        return None
    rest = clause[cadence.end():]
    verb = lexicon.recurring_verbs.search(rest)
    if verb is None:
        return None
    name = _clean_title(_LEADING_NOISE.sub("", rest[verb.start():]))
    name = re.sub(r"^(?:开展|召开|组织|举办|进行|举行)", "", name) or name
    name = re.sub(r"(?:至少)?(?:一次|1次)", "", name)
    if len(re.findall(r"[\u4e00-\u9fff]", name)) < 3 or len(name) > 30:
        return None
    return name, cadence


def propose(
    text: str, entries: Mapping[str, Obligation], lexicon: Lexicon, *, source: str | None = None,
    org: str | None = None,
) -> Proposal:
    """The proposal for a plan's text, read against the organisation's catalog entries (`Catalog.for_org`)."""
    sentences = split_sentences(text)
    title = next((s.text for s in sentences), "")
    evidence: dict[str, list[Evidence]] = {}
    timing_of: dict[str, Timing] = {}
    new_evidence: dict[str, list[Evidence]] = {}
    new_names: dict[str, str] = {}
    activities: list[ActivityProposal] = []
    for sentence in sentences:
        body = sentence.text
        named = lexicon.any_term.search(body) is not None
        if not (named or lexicon.activity_dates.search(body) or lexicon.recurring_cadence.search(body)):
            continue
        hits = _hits(body, lexicon) if named else []
        attached = _attach_timings(body, hits, _cadences(body, lexicon)) if hits else {}
        quote = _quote(sentence)
        for hit in hits:
            is_new = hit.owner.startswith(_NEW_PREFIX)
            if not is_new and hit.owner not in entries:  # a key this organisation's catalog does not have
                continue
            quotes = (new_evidence if is_new else evidence).setdefault(hit.owner.removeprefix(_NEW_PREFIX), [])
            if quote not in quotes:
                quotes.append(quote)
            said = attached.get((hit.start, hit.end))
            if said is not None and hit.owner not in timing_of:
                timing_of[hit.owner] = said
        for start, end in _clause_bounds(body):
            clause = body[start:end]
            in_clause = [h for h in hits if start <= h.start < end]
            # A clause that names nothing but follows a term may go on about it ("发挥中心组示范作用，每季度开展
            # 一次专题研讨"): not a new item of its own.
            follows_term = any(h.end <= start for h in hits)
            generic = None if in_clause or follows_term else _new_from_clause(clause, lexicon)
            if generic is not None:
                name, _ = generic
                key = "plan_" + format(zlib.crc32(name.encode()), "08x")
                new_names[key] = name
                quotes = new_evidence.setdefault(key, [])
                if quote not in quotes:
                    quotes.append(quote)
                if f"{_NEW_PREFIX}{key}" not in timing_of:
                    spans = _cadences(clause, lexicon)
                    if spans:
                        timing_of[f"{_NEW_PREFIX}{key}"] = spans[0][2]
                continue
            activity = _activity(clause, in_clause, entries, lexicon, quote)
            if activity is not None:
                activities.append(activity)
    obligations = [
        _obligation(key, entries[key], evidence[key], timing_of.get(key))
        for key in entries if key in evidence
    ]
    new = [_new_entry(key, quotes, lexicon, new_names.get(key), timing_of.get(f"{_NEW_PREFIX}{key}"))
           for key, quotes in new_evidence.items()]
    return Proposal(title=title, source=source, org=org, obligations=obligations, new=new, activities=activities)


def offered_to(proposal: Proposal, org_type: OrgType) -> Proposal:
    """The entries that can apply to an organisation of `org_type` or to those below it (its override
    applies to them too): a branch is not offered the 党委's 每季一督导 or 理论学习中心组学习."""
    levels = list(OrgType)
    below = {t.value for t in levels[levels.index(org_type):]}
    return proposal.model_copy(update={
        "obligations": [o for o in proposal.obligations if below & set(o.applies_to)],
        "new": [n for n in proposal.new if below & set(n.applies_to)],
    })


def _sections(quotes: Iterable[Evidence]) -> list[str]:
    return list(dict.fromkeys(q.section for q in quotes))


def _obligation(key: str, entry: Obligation, quotes: list[Evidence], timing: Timing | None) -> ObligationProposal:
    month = entry.when.month if isinstance(entry.when.month, int) and entry.cadence == "yearly" else None
    return ObligationProposal(
        key=key, name=entry.name, sections=_sections(quotes), evidence=quotes, timing=timing,
        default_cadence=entry.cadence, default_month=month, agrees=_agrees(timing, entry), enabled=entry.enabled,
        applies_to=list(entry.applies_to),
    )


def _new_entry(key: str, quotes: list[Evidence], lexicon: Lexicon, generic_name: str | None,
               timing: Timing | None) -> NewEntry:
    spec = lexicon.new_items.get(key)
    if spec is not None:
        return NewEntry(key=key, name=spec.name, cadence=timing.cadence if timing else spec.cadence, timing=timing,
                        audience=spec.audience, applies_to=list(spec.applies_to), kind=spec.kind, evidence=quotes)
    return NewEntry(key=key, name=generic_name or key, cadence=timing.cadence if timing else "yearly", timing=timing,
                    audience="all_members", applies_to=["党支部"], kind="meeting", evidence=quotes)


def _activity(clause: str, hits: list[_Hit], entries: Mapping[str, Obligation], lexicon: Lexicon,
              quote: Evidence) -> ActivityProposal | None:
    date = lexicon.activity_dates.search(clause)
    if date is None or lexicon.activity_verbs.search(clause, date.end()) is None:
        return None
    if lexicon.recurring_cadence.search(clause):
        return None
    # A date next to a recurring entry is that entry's timing ("7月开展“七一”主题党日"), not a task of its own.
    for hit in hits:
        entry = entries.get(hit.owner)
        if hit.owner.startswith(_NEW_PREFIX) or (entry is not None and entry.cadence in CALENDAR_CADENCES + ("holidays",)):
            return None
    said = date.group(0)
    title = _clean_title(clause[date.end():].lstrip("前以之份，, "))
    if len(title) < 2:
        return None
    return ActivityProposal(title=title, when=said, month=_month(said), evidence=[quote])


def _month(said: str) -> int | None:
    if said in _ACTIVITY_MONTHS:
        return _ACTIVITY_MONTHS[said]
    quarter = re.fullmatch(r"第([一二三四1-4])季度", said)
    if quarter:
        return 3 * parse_number(quarter.group(1))
    month = re.match(r"(\d{1,2}|[一二三四五六七八九十]{1,3})月", said)
    if month:
        try:
            value = parse_number(month.group(1))
        except ValueError:
            return None
        return value if 1 <= value <= 12 else None
    return None
