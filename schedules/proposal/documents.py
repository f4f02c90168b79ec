"""A plan document's text from its bytes: .docx (python-docx), .pdf (its text layer, pypdf), .txt and .md."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

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
    lines = [paragraph.text for paragraph in document.paragraphs]
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
