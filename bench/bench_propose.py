"""Benchmark: a 50-page plan (.txt and .docx) proposed against the catalog; the target is under 2 s.

The plan is the four seed plans (tests/fixtures/plans/seeds) repeated, renumbered chapter by chapter, to
about 50 A4 pages (1,000 characters a page). The proposal's content is checked by the tests; this prints
how long it takes, and how many entries came back (so a run that found nothing is visible).
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

from bench.harness import measure, report, run_main
from bot.deployment import load_catalog, load_lexicon
from schedules.proposal.documents import document_text
from schedules.proposal.match import propose

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config"
SEEDS = ROOT / "tests" / "fixtures" / "plans" / "seeds"
CHARS_PER_PAGE = 1000
CHAPTERS = "一二三四五六七八九十"


def long_plan(pages: int) -> str:
    """The seeds' bodies one after another as chapters of one plan, until it is `pages` pages long."""
    bodies = [path.read_text(encoding="utf-8").split("\n", 1)[1] for path in sorted(SEEDS.glob("*.txt"))]
    lines = ["某市直机关2025年党建工作要点（汇编）"]
    part = 0
    while sum(len(line) for line in lines) < pages * CHARS_PER_PAGE:
        part += 1
        lines.append(f"第{CHAPTERS[(part - 1) % 10]}部分")
        lines.extend(bodies[(part - 1) % len(bodies)].splitlines())
    return "\n".join(lines)


def as_docx(text: str) -> bytes:
    import docx

    document = docx.Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    stream = io.BytesIO()
    document.save(stream)
    return stream.getvalue()


def as_pdf(text: str) -> bytes:
    """A PDF with a text layer (fpdf2 and the CJK font the charts use; both come with the test extras)."""
    import mplfonts
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.add_font("plan", fname=str(Path(mplfonts.__file__).parent / "fonts" / "SimHei.ttf"))
    pdf.set_font("plan", size=14)  # about 1,000 characters a page, as a plan printed in 小四 has
    pdf.add_page()
    for line in text.splitlines():
        pdf.multi_cell(0, 9, line or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs after one traced run; the best counts")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    catalog = load_catalog(CONFIG)
    lexicon = load_lexicon(CONFIG, catalog)
    setup = time.perf_counter() - started
    text = long_plan(args.pages)
    documents = {"txt": text.encode("utf-8"), "docx": as_docx(text), "pdf": as_pdf(text)}
    for form, data in documents.items():
        def work(data: bytes = data, form: str = form):  # noqa: ANN202
            return propose(document_text(data, f"plan.{form}"), catalog.obligations, lexicon)

        with measure() as traced:
            proposal = work()
        best = float("inf")
        for _ in range(args.repeats):
            began = time.perf_counter()
            work()
            best = min(best, time.perf_counter() - began)
        report(
            "propose", form=form, pages=args.pages, document_pages=_pages(form, documents[form]), characters=len(text), seconds=best,
            target_seconds=2.0, under_target=best < 2.0, catalog_and_lexicon_seconds=setup,
            peak_python_mb=traced.peak_python_mb, obligations=len(proposal.obligations), new=len(proposal.new),
            evidence=sum(len(o.evidence) for o in proposal.obligations),
        )


def _pages(form: str, data: bytes) -> int | None:
    if form != "pdf":
        return None
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)


if __name__ == "__main__":
    run_main(main)
