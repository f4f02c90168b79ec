"""#18 fuzz: the roster reader and the callback decoder answer anything with their typed refusal, never a crash.

Bounded budgets (a few hundred examples each, no deadline) keep the whole file to a few seconds in CI.
"""

from __future__ import annotations

import csv
import io
import re
import string
import tempfile
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.callbacks import Action, Callback, CallbackSigner, ForgedCallback
from storage.roster_io import RosterError, export_roster, read_roster
from storage.roster_io.columns import MEMBERS, ORGANIZATIONS
from storage.roster_io.parse import EARLIEST_DATE
from storage.text import CONTROLS
from tests.storage.roster_files import BASIC, basic_rows

TODAY = date(2026, 12, 1)
BUDGET = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SIGNER = CallbackSigner.from_token("123456:FUZZ-TOKEN")
LINE = re.compile(r"(organizations|members)\.csv(:[1-9]\d*)?: \S.*")
ORGS_CSV = (BASIC / "organizations.csv").read_bytes()
MEMBERS_CSV = (BASIC / "members.csv").read_bytes()

# Cells as hostile people write them: controls, bidi, formulas, huge and odd numbers, odd dates, CJK.
HOSTILE_TEXT = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from("0123456789-/年月日 ."), max_size=14),
    st.sampled_from([
        "\x00", "\x1b[31m红\x1b[0m", "\u202e", "\u2066x\u2069", "\x85", "=1+1", "'=1+1", "9" * 5000,
        "0001-01-01", "9999-12-31", "1921-06-30", "2025-02-29", "America", "../etc", "-9223372036854775809",
        "书记、" * 400, "D01:委员;" * 200, "王" * 101, "@x", "\ud800",
    ]),
)


def _read(orgs: bytes, members: bytes):  # noqa: ANN202
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "organizations.csv").write_bytes(orgs)
        Path(folder, "members.csv").write_bytes(members)
        return read_roster(Path(folder), today=TODAY)


def _assert_listed(error: RosterError) -> None:
    """The error list format holds: one printable `file[:row]: …` line per problem, nothing raw."""
    assert error.problems
    for problem in error.problems:
        line = str(problem)
        assert LINE.fullmatch(line), line
        assert CONTROLS.search(line) is None, line
        assert len(line) < 400, line


def _assert_storable(roster) -> None:  # noqa: ANN001
    """What is accepted fits the database on both backends: lengths, no controls, plausible dates."""
    for spec, rows in ((ORGANIZATIONS, roster.organizations), (MEMBERS, roster.members)):
        limits = {column.key: column.max_length for column in spec.columns}
        for row in rows:
            for key, limit in limits.items():
                value = getattr(row, key, None)
                if isinstance(value, str):
                    assert len(value) <= limit and CONTROLS.search(value) is None, (key, value)
                if isinstance(value, date):
                    assert EARLIEST_DATE <= value <= TODAY, (key, value)


def _answer(orgs: bytes, members: bytes) -> None:
    try:
        roster = _read(orgs, members)
    except RosterError as error:
        _assert_listed(error)
    else:
        _assert_storable(roster)


@BUDGET
@given(st.binary(max_size=2000))
def test_any_bytes_as_the_members_file_are_read_or_listed(raw):
    _answer(ORGS_CSV, raw)


@BUDGET
@given(st.binary(max_size=400), st.binary(max_size=400))
def test_bytes_spliced_into_the_basic_roster_are_read_or_listed(prefix, suffix):
    _answer(ORGS_CSV[:120] + prefix + ORGS_CSV[120:], MEMBERS_CSV[:200] + suffix + MEMBERS_CSV[200:])


def _csv(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(list(rows[0]))
    writer.writerows([list(row.values()) for row in rows])
    return buffer.getvalue().encode("utf-8", "surrogatepass")


@BUDGET
@given(
    st.sampled_from([c.key for c in ORGANIZATIONS.columns if c.key != "timezone"]), HOSTILE_TEXT,
    st.sampled_from([c.key for c in MEMBERS.columns]), HOSTILE_TEXT, st.integers(0, 7),
)
def test_hostile_cells_in_a_valid_roster_are_read_or_listed(org_key, org_text, member_key, member_text, row):
    orgs, members = basic_rows()
    orgs[row % len(orgs)][org_key] = org_text
    members[row][member_key] = member_text
    _answer(_csv(orgs), _csv(members))


def _basic_xlsx() -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "roster.xlsx")
        export_roster(read_roster(BASIC, today=TODAY), path)
        return path.read_bytes()


XLSX = _basic_xlsx()


def _answer_xlsx(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "roster.xlsx")
        path.write_bytes(raw)
        try:
            roster = read_roster(path, today=TODAY)
        except RosterError as error:
            assert error.problems and all(str(p).startswith("roster.xlsx") for p in error.problems)
            assert not any(CONTROLS.search(str(p)) for p in error.problems)
        else:
            _assert_storable(roster)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=500), st.builds(
    lambda at, chunk: XLSX[:at] + chunk + XLSX[at + len(chunk):], st.integers(0, len(XLSX)), st.binary(max_size=64),
)))
def test_any_bytes_as_an_xlsx_roster_are_read_or_listed(raw):
    _answer_xlsx(raw)


# --- callback data ---------------------------------------------------------------------------------

CALLBACKS = st.builds(
    Callback, st.sampled_from(list(Action)), st.integers(0, 2_147_483_647), st.integers(0, 2_147_483_647),
)


@BUDGET
@given(st.one_of(st.text(), st.binary(), st.text(alphabet=string.ascii_letters + string.digits + ":._-"),
                 st.none(), st.integers()))
def test_anything_that_is_not_our_button_is_refused_with_forged_callback(data):
    with pytest.raises(ForgedCallback):
        SIGNER.decode(data)


@BUDGET
@given(CALLBACKS)
def test_an_encoded_callback_round_trips(callback):
    data = SIGNER.encode(callback)
    assert len(data.encode()) <= 64 and SIGNER.decode(data) == callback


@BUDGET
@given(CALLBACKS, st.data())
def test_any_single_character_change_is_refused(callback, data):
    encoded = SIGNER.encode(callback)
    position = data.draw(st.integers(0, len(encoded) - 1), label="position")
    replacement = data.draw(st.characters().filter(lambda c: c != encoded[position]), label="replacement")
    changed = encoded[:position] + replacement + encoded[position + 1:]
    with pytest.raises(ForgedCallback):
        SIGNER.decode(changed)


@pytest.mark.parametrize("callback", [
    pytest.param(Callback(Action.CHECKIN, 7), id="check-in"),
    pytest.param(Callback(Action.PROPOSAL_ACCEPT, 2_147_483_647, 99), id="largest"),
])
def test_every_position_changed_to_every_url_safe_character_is_refused(callback):
    encoded = SIGNER.encode(callback)
    for position, original in enumerate(encoded):
        for replacement in string.ascii_letters + string.digits + ":._-=":
            if replacement == original:
                continue
            changed = encoded[:position] + replacement + encoded[position + 1:]
            with pytest.raises(ForgedCallback):
                SIGNER.decode(changed)
