"""Accepting a proposal: the changes to an organisation's override entries (pure; the edge writes the file)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from schedules.catalog import Obligation
from schedules.proposal.model import Evidence, NewEntry, ObligationProposal, Proposal

# Where a new entry falls in its period until someone says otherwise (the note says so too).
_DEFAULT_WHEN: dict[str, dict[str, Any]] = {
    "weekly": {"weekday": "friday"},
    "monthly": {"day": 15},
    "quarterly": {"month": "last", "day": 15},
    "semiannual": {"month": "last", "day": 15},
    "yearly": {"month": 12, "day": 15},
    "holidays": {"workdays_before": 2},
}
_DEFAULT_TIME = {"meeting": "15:00", "task": "09:00", "notice": "09:00"}


def entry_keys(proposal: Proposal) -> list[str]:
    """Every acceptable entry of the proposal, in the order the cards show them: catalog keys, then new ones."""
    return [o.key for o in proposal.obligations] + [n.key for n in proposal.new]


def source_text(title: str, evidence: Collection[Evidence]) -> str:
    sections = list(dict.fromkeys(e.section or "开头" for e in evidence))
    # Sections contain 、 themselves ("二、一是"), so they are listed with ；.
    return f"{title}（{'；'.join(sections)}）" if title else "；".join(sections)


def _new_entry_fields(entry: NewEntry, title: str) -> dict[str, Any]:
    when = dict(_DEFAULT_WHEN[entry.cadence])
    if entry.cadence == "yearly" and entry.timing is not None and entry.timing.month is not None:
        when["month"] = entry.timing.month
    return {
        "name": entry.name,
        "kind": entry.kind,
        "enabled": True,
        "cadence": entry.cadence,
        "when": when,
        "time": _DEFAULT_TIME[entry.kind],
        "applies_to": list(entry.applies_to),
        "audience": entry.audience,
        "requires_confirmation": entry.kind != "notice",
        "note": "由年度计划提出并经接受；日期和时刻为默认值，请按实际修改",
        "source": source_text(title, entry.evidence),
    }


def _plan_when(obligation: ObligationProposal, entry: Obligation) -> dict[str, Any] | None:
    """The plan's own day where it names one the catalog's cadence can take: "每月10日" for a monthly
    entry, "10月" for a yearly one. Anything else it says about timing is shown, not written."""
    timing = obligation.timing
    if obligation.agrees is not False or timing is None or timing.cadence != entry.cadence:
        return None
    if entry.cadence == "monthly" and timing.day is not None:
        return {"day": timing.day}
    if entry.cadence == "yearly" and timing.month is not None:
        return {**entry.when.model_dump(exclude_none=True), "month": timing.month}
    return None


def override_changes(
    proposal: Proposal, entries: Mapping[str, Obligation], current: Mapping[str, Mapping[str, Any]], *,
    keys: Collection[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """The fields to set in the organisation's override for the accepted entries (`keys`; default all).

    A catalog entry is enabled if the organisation has it off, takes the plan's day where the plan names
    one (`_plan_when`), and records the plan's items as its `source`; a new entry is written whole (enabled) unless the override has it already, in which case
    only `enabled` and `source` are set, so a secretary's later edits survive accepting again. Fields
    already as wanted are left out: accepting the same proposal twice changes nothing.
    """
    wanted = set(entry_keys(proposal)) if keys is None else set(keys)
    changes: dict[str, dict[str, Any]] = {}
    for obligation in proposal.obligations:
        if obligation.key not in wanted or obligation.key not in entries:
            continue
        fields: dict[str, Any] = {} if entries[obligation.key].enabled else {"enabled": True}
        when = _plan_when(obligation, entries[obligation.key])
        if when is not None:
            fields["when"] = when
        fields["source"] = source_text(proposal.title, obligation.evidence)
        changes[obligation.key] = fields
    for entry in proposal.new:
        if entry.key not in wanted:
            continue
        if entry.key in current:
            changes[entry.key] = {"enabled": True, "source": source_text(proposal.title, entry.evidence)}
        else:
            changes[entry.key] = _new_entry_fields(entry, proposal.title)
    return {
        key: {name: value for name, value in fields.items() if (current.get(key) or {}).get(name) != value}
        for key, fields in changes.items()
        if any((current.get(key) or {}).get(name) != value for name, value in fields.items())
    }
