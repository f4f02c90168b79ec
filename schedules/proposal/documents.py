"""A plan document's text from its bytes: .docx (python-docx), .pdf (its text layer, pypdf), .txt and .md."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath
from typing import Any

SUFFIXES = (".docx", ".pdf", ".txt", ".md")


class DocumentError(ValueError):
    """The document cannot be read; the message (Chinese) says why and what would work."""


def document_text(data: bytes, filename: str) -> str:
    """The plan's text, one paragraph a line, whatever the format (decided by the file name's suffix)."""
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".docx":
        return _docx_text(data)
    if suffix == ".pdf":
        return _pdf_text(data)
    if suffix in (".txt", ".md"):
        return decode_text(data)
    if suffix == ".doc":
        raise DocumentError("不支持旧版 Word（.doc）文件，请在 Word 中“另存为”.docx 后再发送。")
    raise DocumentError(f"不支持 {suffix or '无扩展名'} 文件；请使用 .docx、.pdf、.txt 或 .md。")


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (which covers GBK and GB2312)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DocumentError("文本文件既不是 UTF-8 也不是 GB18030 编码，无法读取。")


def _docx_text(data: bytes) -> str:
    import docx  # python-docx; imported here so plain-text plans need nothing more

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"无法打开这个 .docx 文件（{type(exc).__name__}）；请确认它是 Word 文档。") from None
    labels = _ListLabels(document)
    lines = [labels.of(paragraph) + paragraph.text for paragraph in document.paragraphs]
    # Plans often put items in tables (任务分工表): every cell's paragraphs, row by row.
    for table in document.tables:
        for row in table.rows:
            seen: set[int] = set()
            for cell in row.cells:
                if id(cell._tc) in seen:  # merged cells repeat the same cell object
                    continue
                seen.add(id(cell._tc))
                lines.extend(paragraph.text for paragraph in cell.paragraphs)
    return "\n".join(lines)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CHINESE = "〇一二三四五六七八九"


def _chinese_number(value: int) -> str:
    if value < 10:
        return _CHINESE[value]
    tens, ones = divmod(value, 10)
    return ("" if tens == 1 else _CHINESE[tens]) + "十" + (_CHINESE[ones] if ones else "")


_FORMATS = {
    "decimal": str,
    "chineseCounting": _chinese_number,
    "chineseCountingThousand": _chinese_number,
    "ideographTraditional": lambda n: "甲乙丙丁戊己庚辛壬癸"[(n - 1) % 10],
    "decimalEnclosedCircle": lambda n: chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n),
    "decimalEnclosedCircleChinese": lambda n: chr(0x2460 + n - 1) if 1 <= n <= 20 else str(n),
    "lowerLetter": lambda n: chr(ord("a") + (n - 1) % 26),
    "upperLetter": lambda n: chr(ord("A") + (n - 1) % 26),
}


class _ListLabels:
    """The numbers Word draws in front of list paragraphs ("1.", "（一）"), which python-docx's text leaves out.

    Counted per list and level as Word does for plain lists: a level counts up from its start, and the
    levels below it start again. A bullet or a format we do not know gives no label.
    """

    def __init__(self, document: Any) -> None:
        self._levels: dict[tuple[str, int], tuple[str, str, int]] = {}  # (numId, ilvl) → (format, text, start)
        self._counters: dict[str, dict[int, int]] = {}
        self._style_numbering: dict[str | None, Any] = {}
        try:
            numbering = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract = {a.get(f"{_W}abstractNumId"): a for a in numbering.iter(f"{_W}abstractNum")}
        for num in numbering.iter(f"{_W}num"):
            ref = num.find(f"{_W}abstractNumId")
            definition = abstract.get(ref.get(f"{_W}val")) if ref is not None else None
            if definition is None:
                continue
            for level in definition.iter(f"{_W}lvl"):
                fmt, text, start = (level.find(f"{_W}{tag}") for tag in ("numFmt", "lvlText", "start"))
                self._levels[(num.get(f"{_W}numId"), int(level.get(f"{_W}ilvl", "0")))] = (
                    fmt.get(f"{_W}val") if fmt is not None else "decimal",
                    text.get(f"{_W}val") if text is not None else "",
                    int(start.get(f"{_W}val")) if start is not None else 1,
                )

    def _num_pr(self, paragraph: Any) -> Any:
        properties = paragraph._p.pPr
        found = properties.find(f"{_W}numPr") if properties is not None else None
        if found is not None:
            return found
        style_id = properties.pStyle.val if properties is not None and properties.pStyle is not None else None
        if style_id not in self._style_numbering:  # looking a style up is slow: once per style, not per paragraph
            style = paragraph.style
            while found is None and style is not None:
                style_properties = style.element.pPr
                found = style_properties.find(f"{_W}numPr") if style_properties is not None else None
                style = style.base_style
            self._style_numbering[style_id] = found
        return self._style_numbering[style_id]

    def of(self, paragraph: Any) -> str:
        num_pr = self._num_pr(paragraph) if self._levels else None
        if num_pr is None:
            return ""
        num_id_el, level_el = num_pr.find(f"{_W}numId"), num_pr.find(f"{_W}ilvl")
        num_id = num_id_el.get(f"{_W}val") if num_id_el is not None else None
        level = int(level_el.get(f"{_W}val")) if level_el is not None else 0
        if (num_id, level) not in self._levels:
            return ""
        counters = self._counters.setdefault(num_id, {})
        counters[level] = counters.get(level, self._levels[(num_id, level)][2] - 1) + 1
        for deeper in [lvl for lvl in counters if lvl > level]:
            del counters[deeper]
        fmt, text, _ = self._levels[(num_id, level)]
        if fmt not in _FORMATS:
            return ""
        for lvl in range(level + 1):
            spec = self._levels.get((num_id, lvl))
            value = counters.get(lvl, spec[2] if spec else 1)
            render = _FORMATS.get(spec[0], str) if spec else str
            text = text.replace(f"%{lvl + 1}", render(value))
        return text


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError) as exc:
        raise DocumentError(f"无法读取这个 PDF（{type(exc).__name__}）。") from None
    text = "\n".join(pages)
    if not text.strip():
        raise DocumentError("这个 PDF 没有文字层（可能是扫描件），无法读取；请发送 Word 版或带文字的 PDF。")
    return text
