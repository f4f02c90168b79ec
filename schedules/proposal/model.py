"""What a plan proposes: catalog entries, new entries and one-off activities, each with its evidence.

The JSON form (`model_dump(mode="json")`) is the contract of `branchbot catalog propose --format json`
and what `branchbot catalog accept` reads back; docs/ARCHITECTURE.md (#15) lists the keys.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Evidence(_Model):
    """A sentence of the plan and the item it sits in, as the plan numbers it ("14.", "一、（三）", "二、一是")."""

    section: str
    quote: str


class Timing(_Model):
    """What the plan says about when: its words, and the cadence (and month) they mean."""

    said: str
    cadence: str  # weekly | monthly | quarterly | semiannual | yearly | holidays
    month: int | None = None
    day: int | None = None  # "每月10日"


class ObligationProposal(_Model):
    """A catalog entry the plan asks for."""

    key: str
    name: str
    sections: list[str]
    evidence: list[Evidence]
    timing: Timing | None = None  # the first thing the plan says about when, if anything
    default_cadence: str  # the catalog's cadence for the organisation
    default_month: int | None = None
    agrees: bool | None = None  # None: the plan says nothing about timing, or the catalog plans by records
    enabled: bool  # whether the organisation has it enabled now
    applies_to: list[str]


class NewEntry(_Model):
    """A recurring item the catalog lacks; proposed disabled until someone accepts it."""

    key: str
    name: str
    cadence: str
    timing: Timing | None = None
    audience: str
    applies_to: list[str]
    kind: str
    evidence: list[Evidence]
    enabled: bool = False


class ActivityProposal(_Model):
    """A one-off dated task ("7月开展……", "年底前完成……")."""

    title: str
    when: str
    month: int | None = None
    evidence: list[Evidence]


class Proposal(_Model):
    title: str  # the plan's first line
    source: str | None = None  # the file it came from
    org: str | None = None
    obligations: list[ObligationProposal]
    new: list[NewEntry] = []
    activities: list[ActivityProposal] = []
