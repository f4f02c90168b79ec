"""A plan's text cut into its own numbered items ("一、", "（三）", "14.", "一是") and sentences."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

# Numbering at the start of a line, tried in this order. The level is the style's, not the position's:
# a plan that uses only "1." has those at level 2, and section labels stay as the plan writes them.
_LINE_LABELS = (
    (0, re.compile(r"^(第[一二三四五六七八九十百]+(?:部分|章|节))\s*")),
    (3, re.compile(r"^(第[一二三四五六七八九十百]+条)\s*")),
    (1, re.compile(r"^([一二三四五六七八九十]+[、．.])\s*")),
    (2, re.compile(r"^([（(][一二三四五六七八九十]+[）)])\s*")),
    (4, re.compile(r"^(\d{1,2}[.．]\d{1,2})(?![\d%％万亿倍元月日])\s*")),  # 1.1, 2.3 (before "1." below)
    # "3.7月开展……" is item 3 (a date follows); "3.5%" at a line start is not a number of ours.
    (3, re.compile(r"^(\d{1,3}[.．、])(?!\d+(?:[.．]\d|%|％|万|亿|倍|元))\s*")),
    (4, re.compile(r"^([（(]\d{1,3}[）)]|[①-⑳])\s*")),
)
# "一是……二是……" inside a paragraph: after a sentence end, a line start or the start, not inside a word (统一要求).
_INLINE_LABEL = re.compile(r"(?:(?<=^)|(?<=[。；！？：:\n]))\s*([一二三四五六七八九十]{1,2}[是要])(?=[^，。；、\s])")
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])|\n\n")
_CHINESE_DIGIT = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
# A nested "一是" right after a marker that is only a short heading ("二是做好党员教育管理。一是……").
_HEADING_ONLY = 22


@dataclass(frozen=True)
class Sentence:
    """One sentence of the plan and the item it belongs to, as the plan numbers it."""

    labels: tuple[str, ...]  # outermost first: ("二、", "一是")
    text: str
    index: int  # position in the document (for stable ordering)
    section: str = ""  # the label a reader looks for (see `label_sections`)


@dataclass
class _Block:
    labels: tuple[str, ...]
    lines: list[str]  # each line ends with "\n\n" when it ends its paragraph, else "\n"


def _is_cjk(char: str) -> bool:
    return "\u3000" <= char <= "\u9fff" or "\uff00" <= char <= "\uffef"


_SPACE_BY_CHINESE = re.compile(r"(?<=[\u3000-\u9fff\uff00-\uffef“”‘’])\s+|\s+(?=[\u3000-\u9fff\uff00-\uffef“”‘’])")


def _unwrap(text: str) -> str:
    """Lines a PDF wrapped mid-sentence join without a space between Chinese characters (and stray spaces
    next to Chinese text go, so the same plan quotes the same whichever format it came in)."""
    pieces = _SPACE_BY_CHINESE.sub("", text).split("\n")
    out = pieces[0]
    for piece in pieces[1:]:
        if out and piece and not (_is_cjk(out[-1]) or _is_cjk(piece[0])):
            out += " "
        out += piece
    return out


_PARAGRAPH_END = "。！？；：!?;:"


def _full_width(lines: list[str]) -> int:
    """How long a line is when the page wrapped it (a PDF's text layer): most lines are about this long."""
    lengths = sorted(len(line) for line in lines)
    return lengths[int(len(lengths) * 0.9)] if lengths else 0


def _blocks(text: str) -> list[_Block]:
    """Paragraphs grouped under the label that starts them. A line ends its paragraph when it ends with a
    full stop or is clearly shorter than the page is wide: a heading, or a paragraph's last line."""
    lines = [line for line in (raw.replace("\u3000", " ").strip() for raw in text.splitlines()) if line]
    full = _full_width(lines)
    blocks: list[_Block] = []
    stack: dict[int, str] = {}
    current: _Block | None = None
    for line in lines:
        ends = line[-1] in _PARAGRAPH_END or len(line) < full * 0.85
        line += "\n\n" if ends else "\n"
        for level, pattern in _LINE_LABELS:
            match = pattern.match(line)
            if match:
                stack = {lvl: lab for lvl, lab in stack.items() if lvl < level}
                stack[level] = match.group(1)
                # The quote is the plan's sentence; its number is in the section already.
                current = _Block(tuple(stack[lvl] for lvl in sorted(stack)), [line[match.end():]])
                blocks.append(current)
                break
        else:
            if current is None:
                current = _Block((), [line])
                blocks.append(current)
            else:
                current.lines.append(line)
    return blocks


def _block_text(block: _Block) -> str:
    # Soft wraps go before looking for "一是": a PDF may have wrapped the line between 二 and 是.
    return "\n\n".join(_unwrap(paragraph) for paragraph in "".join(block.lines).split("\n\n"))


def _inline_parts(block: _Block) -> list[tuple[tuple[str, ...], str]]:
    """A block split at its "一是/二是" markers, each part with its labels (nested lists get both markers)."""
    text = _block_text(block)
    marks = list(_INLINE_LABEL.finditer(text))
    if not marks:
        return [(block.labels, text)]
    parts = [(block.labels, text[: marks[0].start(1)])]
    outer: str | None = None  # the marker a nested list hangs under
    previous: tuple[str, int] | None = None
    for i, mark in enumerate(marks):
        label = mark.group(1)
        number = _CHINESE_DIGIT.get(label[0], 0) if len(label) == 2 else 0
        end = marks[i + 1].start(1) if i + 1 < len(marks) else len(text)
        if previous is not None and number == 1 and previous[1] >= 1:
            heading = parts[-1][1].strip()
            outer = previous[0] if outer is None and len(heading) <= _HEADING_ONLY else None
        labels = block.labels + ((outer, label) if outer else (label,))
        parts.append((labels, text[mark.start(1):end]))
        previous = (label, number)
    return parts


def split_sentences(text: str) -> list[Sentence]:
    """Every sentence of the plan with its item labels (the title and unnumbered opening get none)."""
    sentences: list[Sentence] = []
    for block in _blocks(text):
        for labels, part in _inline_parts(block):
            for piece in _SENTENCE_END.split(part):
                piece = _unwrap(piece.strip()).strip() if piece else ""
                if piece:
                    sentences.append(Sentence(labels, piece, len(sentences)))
    return label_sections(sentences)


def _joined(labels: tuple[str, ...]) -> str:
    out = ""
    for i, label in enumerate(labels):
        if i and label[-1] in "是要" and labels[i - 1][-1] in "是要":
            out += "·"
        out += label
    return out


def _is_inline(label: str) -> bool:
    return label[-1] in "是要"


def label_sections(sentences: list[Sentence]) -> list[Sentence]:
    """Each sentence's section: its innermost label, with as many outer labels as it takes to name one item
    of the plan; an inline marker always keeps the line label it sits under ("一是" alone means nothing).

    "14." is unique in a plan numbered 1–25 and stays "14."; "（三）" becomes "一、（三）" when other
    chapters have one; "一是" becomes "二、一是" (nested: "二、二是·一是"); "（1）" under item 3 becomes "3.（1）".
    """
    paths = {s.labels for s in sentences if s.labels}
    endings = Counter(path[i:] for path in paths for i in range(len(path)))
    sections: dict[tuple[str, ...], str] = {}
    for path in paths:
        for start in range(len(path) - 1, -1, -1):
            suffix = path[start:]
            if endings[suffix] == 1 and not all(_is_inline(label) for label in suffix):
                break
        sections[path] = _joined(path[start:])
    return [Sentence(s.labels, s.text, s.index, sections.get(s.labels, "")) for s in sentences]
