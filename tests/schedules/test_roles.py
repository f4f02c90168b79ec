"""schedules.roles: the seat predicates every layer asks (here: who sits on an upper committee)."""

from __future__ import annotations

import pytest

from schedules import roles
from schedules.roles import Role, Seat


@pytest.mark.parametrize(("seats", "org", "expected"), [
    pytest.param({Seat("D01", Role.COMMITTEE_MEMBER, True)}, "D01", True, id="upper-committee-member"),
    pytest.param({Seat("D01", Role.SECRETARY, True)}, "D01", True, id="upper-secretary"),
    pytest.param({Seat("D01", Role.COMMITTEE_MEMBER, True)}, "D02", False, id="another-upper-org"),
    pytest.param({Seat("B01", Role.SECRETARY)}, "B01", False, id="branch-secretary-is-not-upper"),
    pytest.param({Seat("D01", Role.COMMITTEE_MEMBER)}, "D01", False, id="a-seat-not-marked-upper"),
    pytest.param({Seat("D01", Role.GROUP_LEADER, True)}, "D01", False, id="group-leader-is-no-committee-seat"),
    pytest.param(set(), "D01", False, id="no-seats"),
])
def test_on_upper_committee(seats, org, expected):
    assert roles.on_upper_committee(seats, org) is expected
    # An upper committee seat is a seat on that organisation's committee (sits_on_committee says so too).
    assert not expected or roles.sits_on_committee(seats, org)
