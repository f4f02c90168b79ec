"""The four seed plans and a held-out-style plan: every obligation found with its item number, no false key,
whether the plan arrives as text (UTF-8 or GB18030), Word or PDF."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.deployment import load_catalog, load_lexicon
from schedules.proposal.documents import document_text
from schedules.proposal.match import propose
from schedules.proposal.model import Proposal
from tests.proposal.plans import (
    EXPECTED, EXPECTED_ACTIVITIES, EXPECTED_TIMING, PLANS, SEED_FILES, SHARED_SEEDS, docx_bytes, pdf_bytes, plan_text,
)

CONFIG = Path(__file__).resolve().parents[2] / "config"
CATALOG = load_catalog(CONFIG)
LEXICON = load_lexicon(CONFIG, CATALOG)


def proposal_of(text: str) -> Proposal:
    return propose(text, CATALOG.obligations, LEXICON)


def found_pairs(proposal: Proposal) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    catalog = {(o.key, section) for o in proposal.obligations for section in o.sections}
    new = {(n.key, e.section) for n in proposal.new for e in n.evidence}
    return catalog, new


def expected_pairs(plan: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    catalog, new = EXPECTED[plan]
    return ({(k, s) for k, sections in catalog.items() for s in sections},
            {(k, s) for k, sections in new.items() for s in sections})


def precision_recall(found: set, expected: set) -> tuple[float, float]:
    hits = len(found & expected)
    return (hits / len(found) if found else 1.0), (hits / len(expected) if expected else 1.0)


def _documents(plan: str) -> dict[str, tuple[bytes, str]]:
    text = plan_text(plan)
    return {
        "txt": (text.encode("utf-8"), "plan.txt"),
        "gb18030": (text.encode("gb18030"), "plan.txt"),
        "md": (text.encode("utf-8-sig"), "plan.md"),
        "docx": (docx_bytes(text), "plan.docx"),
    }


@pytest.mark.parametrize("plan", list(EXPECTED))
def test_every_obligation_is_found_with_its_item_and_no_false_key(plan: str) -> None:
    proposal = proposal_of(plan_text(plan))
    found_catalog, found_new = found_pairs(proposal)
    want_catalog, want_new = expected_pairs(plan)
    assert (sorted(found_catalog - want_catalog), sorted(want_catalog - found_catalog)) == ([], []), \
        "(false (key, item) pairs, missed pairs)"
    assert (sorted(found_new - want_new), sorted(want_new - found_new)) == ([], [])
    assert {o.key for o in proposal.obligations} == set(EXPECTED[plan][0])


@pytest.mark.parametrize("plan", list(EXPECTED))
def test_precision_and_recall_per_plan(plan: str) -> None:
    """The figures bench/bench_propose.py prints: by key, and by (key, item)."""
    proposal = proposal_of(plan_text(plan))
    found_catalog, _ = found_pairs(proposal)
    want_catalog, _ = expected_pairs(plan)
    by_key = precision_recall({k for k, _ in found_catalog}, {k for k, _ in want_catalog})
    by_item = precision_recall(found_catalog, want_catalog)
    assert (by_key, by_item) == ((1.0, 1.0), (1.0, 1.0))


@pytest.mark.parametrize("plan", list(EXPECTED))
def test_what_the_plan_says_about_timing_and_whether_the_catalog_agrees(plan: str) -> None:
    proposal = proposal_of(plan_text(plan))
    said = {o.key: (o.timing.said, o.agrees) for o in proposal.obligations if o.timing is not None}
    assert said == EXPECTED_TIMING[plan]


@pytest.mark.parametrize("plan", list(EXPECTED))
def test_one_off_dated_tasks_become_activities(plan: str) -> None:
    proposal = proposal_of(plan_text(plan))
    assert [(a.when, a.title, a.evidence[0].section) for a in proposal.activities] == EXPECTED_ACTIVITIES[plan]


@pytest.mark.parametrize("plan", list(EXPECTED))
@pytest.mark.parametrize("form", ["txt", "gb18030", "md", "docx"])
def test_the_same_plan_as_any_document_gives_the_same_proposal(plan: str, form: str) -> None:
    data, filename = _documents(plan)[form]
    from_document = proposal_of(document_text(data, filename))
    assert from_document == proposal_of(plan_text(plan))


@pytest.mark.parametrize("plan", ["000", "003", "municipal_2025"])
def test_a_pdf_with_wrapped_lines_gives_the_same_items(plan: str) -> None:
    """A PDF's text layer breaks paragraphs into lines; the items and their evidence come back whole."""
    from_pdf = proposal_of(document_text(pdf_bytes(plan_text(plan)), "plan.pdf"))
    from_text = proposal_of(plan_text(plan))
    assert found_pairs(from_pdf) == found_pairs(from_text)
    assert [o.evidence for o in from_pdf.obligations] == [o.evidence for o in from_text.obligations]


def test_every_proposed_entry_carries_its_evidence() -> None:
    for plan in EXPECTED:
        proposal = proposal_of(plan_text(plan))
        for entry in [*proposal.obligations, *proposal.new, *proposal.activities]:
            assert entry.evidence and all(e.quote for e in entry.evidence), (plan, entry)


def test_new_entries_come_disabled_with_a_cadence_and_audience() -> None:
    proposal = proposal_of(plan_text("municipal_2025"))
    assert [(n.key, n.name, n.cadence, n.audience, n.enabled) for n in proposal.new] == [
        ("first_topic", "“第一议题”学习", "monthly", "upper_committee", False),
        ("central_group_study", "理论学习中心组学习", "monthly", "upper_committee", False),
        ("plan_8c50a78b", "分析研判意识形态形势", "semiannual", "all_members", False),
        ("integrity_home_visit", "廉政家访", "yearly", "secretary", False),
    ]


@pytest.mark.parametrize("name", list(SEED_FILES.values()))
def test_the_seed_copies_match_the_shared_seeds(name: str) -> None:
    shared = SHARED_SEEDS / name
    if not shared.exists():
        pytest.skip("shared/ is not beside this checkout; the tests use tests/fixtures/plans/seeds/")
    assert (PLANS / "seeds" / name).read_bytes() == shared.read_bytes()
