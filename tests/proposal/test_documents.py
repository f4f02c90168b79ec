"""Plan documents: what text each format yields, and the refusals a secretary reads."""

from __future__ import annotations

import io

import pytest

from schedules.proposal.documents import DocumentError, _chinese_number, document_text


def _docx(build) -> bytes:  # noqa: ANN001
    import docx

    document = docx.Document()
    build(document)
    stream = io.BytesIO()
    document.save(stream)
    return stream.getvalue()


def test_word_list_numbers_come_back_as_the_plan_shows_them() -> None:
    def build(document) -> None:  # noqa: ANN001
        document.add_paragraph("计划")
        document.add_paragraph("一、总体")
        document.add_paragraph("认真落实“三会一课”。", style="List Number")
        document.add_paragraph("开展廉政家访。", style="List Number")

    assert document_text(_docx(build), "计划.docx") == "计划\n一、总体\n1.认真落实“三会一课”。\n2.开展廉政家访。"


def test_word_tables_are_read_row_by_row() -> None:
    def build(document) -> None:  # noqa: ANN001
        document.add_paragraph("任务分工")
        table = document.add_table(rows=2, cols=2)
        table.cell(0, 0).text, table.cell(0, 1).text = "1.", "每月开展主题党日"
        table.cell(1, 0).merge(table.cell(1, 1)).text = "2.节假日廉政提醒"

    assert document_text(_docx(build), "plan.docx") == "任务分工\n1.\n每月开展主题党日\n2.节假日廉政提醒"


@pytest.mark.parametrize("data, name", [
    pytest.param("一、学习".encode("utf-8"), "plan.txt", id="utf-8"),
    pytest.param("一、学习".encode("utf-8-sig"), "plan.md", id="utf-8 with BOM"),
    pytest.param("一、学习".encode("gb18030"), "plan.TXT", id="gb18030, upper-case suffix"),
])
def test_text_in_either_encoding(data: bytes, name: str) -> None:
    assert document_text(data, name) == "一、学习"


@pytest.mark.parametrize("data, name, message", [
    pytest.param(b"\xd0\xcf\x11\xe0", "plan.doc", "不支持旧版 Word（.doc）文件，请在 Word 中“另存为”.docx 后再发送。", id="doc"),
    pytest.param(b"x", "plan.xlsx", "不支持 .xlsx 文件；请使用 .docx、.pdf、.txt 或 .md。", id="xlsx"),
    pytest.param(b"not a zip", "plan.docx", "无法打开这个 .docx 文件（BadZipFile）；请确认它是 Word 文档。", id="broken docx"),
])
def test_unreadable_documents_are_refused_in_chinese(data: bytes, name: str, message: str) -> None:
    with pytest.raises(DocumentError) as refused:
        document_text(data, name)
    assert str(refused.value) == message


def test_a_scanned_pdf_without_text_is_refused() -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 50, 50)
    with pytest.raises(DocumentError) as refused:
        document_text(bytes(pdf.output()), "scan.pdf")
    assert str(refused.value) == "这个 PDF 没有文字层（可能是扫描件），无法读取；请发送 Word 版或带文字的 PDF。"


@pytest.mark.parametrize("value, text", [(1, "一"), (10, "十"), (12, "十二"), (20, "二十"), (23, "二十三")])
def test_chinese_list_numbers(value: int, text: str) -> None:
    assert _chinese_number(value) == text
