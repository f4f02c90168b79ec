"""The report benchmark's generated data is what the reports expect (a tiny shape; timing is never checked)."""

from __future__ import annotations

from bench.bench_reports import MEMBERS_PER_BRANCH, Shape, branch_year_report, generate_sqlite, org_quarter_completion
from storage.db import make_engine, make_session_factory, transaction


def test_generated_ledger_is_readable_by_the_report_queries(tmp_path):
    path = tmp_path / "bench.sqlite"
    rows = generate_sqlite(path, Shape(branches=3, years=(2024,)))
    engine = make_engine(f"sqlite:///{path}")
    try:
        with transaction(make_session_factory(engine)) as session:
            report, cells = branch_year_report(session, "B0001", 2024)
            verdicts = org_quarter_completion(session, "ROOT", 2024, 2)
    finally:
        engine.dispose()
    assert 1500 * 3 < rows < 1900 * 3  # about 1,800 attendance rows per branch-year, minus meetings not held
    assert len(report.ledger.matrix_member_ids(report.ledger.by_code["B0001"])) == MEMBERS_PER_BRANCH
    assert cells == MEMBERS_PER_BRANCH * len(report.ledger.meetings(report.ledger.by_code["B0001"]))
    # Per branch and quarter: 3 committee + 3 theme days + 1 assembly + 1 lecture + the year's 组织生活会,
    # and 3 group meetings per 党小组 (2 groups).
    assert verdicts == 3 * (3 + 3 + 1 + 1 + 1 + 2 * 3)
