"""Reads ahead (storage.direct.KeyedRead): a group's answers, read in one statement, are what each read would
have read itself, each given once, in its own session only; on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from storage import models
from storage.db import transaction
from storage.direct import KeyedRead
from storage.outbox_kinds import OutboxKind
from storage.repositories import attendance as attendance_repo
from storage.repositories import bindings as binding_repo
from storage.repositories import outbox
from storage.services import attendance as attendance_svc
from tests.chat.world import MEETING_START
from tests.runtime.factories import add_reminder

STRANGER = 4242


@pytest.fixture
def statements(engine) -> list[str]:  # noqa: ANN001
    """Every statement the engine runs from now on."""
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, statement, *_rest: seen.append(statement))
    return seen


@pytest.fixture
def reminded(session_factory, world):  # noqa: ANN001, ANN201
    """alice and bob each have two delivered reminders of the 主题党日 in their private chat (and alice one more
    that was never delivered), the secretary none."""
    with transaction(session_factory) as session:
        for who, lead in (("alice", 1440), ("alice", 60), ("bob", 1440), ("bob", 60)):
            add_reminder(session, world.activities["party_day"], world.members[who], lead,
                         MEETING_START - timedelta(minutes=lead), chat_id=world.telegram[who], state="sent",
                         telegram_message_id=5000 + lead + world.members[who], claimed_at=MEETING_START - timedelta(days=2),
                         sent_at=MEETING_START - timedelta(days=2))
        add_reminder(session, world.activities["party_day"], world.members["alice"], 15,
                     MEETING_START - timedelta(minutes=15), chat_id=world.telegram["alice"])
    return world


def the_reads(session, world, who: str, activity: str):  # noqa: ANN001, ANN201
    """What a ✅ 签到 press reads, as each read gives it."""
    user = world.telegram.get(who, STRANGER)
    seats = binding_repo.member_seats_for_telegram(session, user)
    read = attendance_repo.activity_for_checkin(session, world.activities[activity])
    delivered = outbox.delivered_in_chat(session, world.activities[activity], OutboxKind.REMINDER,
                                         outbox.member_recipient(world.members[who]), user) if seats else None
    return seats, read, delivered


PRESSES = [
    pytest.param([("alice", "party_day")], id="one press"),
    pytest.param([("alice", "party_day"), ("bob", "party_day"), ("secretary", "party_day")],
                 id="three pressers, one with no reminder"),
    pytest.param([("alice", "party_day"), ("alice", "party_day")], id="one member pressing twice"),
    pytest.param([("alice", "party_day"), ("bob", "group_meeting"), ("alice", "cancelled")],
                 id="several activities"),
    pytest.param([("stranger", "party_day"), ("bob", "party_day")], id="a stranger among them"),
]


@pytest.mark.parametrize("presses", PRESSES)
def test_what_is_read_ahead_is_what_each_read_reads(session_factory, reminded, statements, presses):
    world = reminded
    with transaction(session_factory) as session:
        alone = [the_reads(session, world, who, activity) for who, activity in presses]
    with transaction(session_factory) as session:
        attendance_svc.read_check_ins_ahead(session, [(world.telegram.get(who, STRANGER), world.activities[activity])
                                                      for who, activity in presses])
        statements.clear()
        ahead = [the_reads(session, world, who, activity) for who, activity in presses]
        assert statements == [], "every read was answered from what was read ahead"
    assert ahead == alone
    if ("alice", "party_day") in presses:  # not an empty comparison: her two delivered reminders, oldest first
        assert [message.row.lead_minutes for message in alone[presses.index(("alice", "party_day"))][2]] == [1440, 60]


def test_an_answer_is_given_once(session_factory, world, statements):
    with transaction(session_factory) as session:
        attendance_repo.read_activities_ahead(session, [world.activities["party_day"]])
        statements.clear()
        first = attendance_repo.activity_for_checkin(session, world.activities["party_day"])
        assert statements == []
        again = attendance_repo.activity_for_checkin(session, world.activities["party_day"])
        assert len(statements) == 1 and again == first


def test_answers_stay_in_their_session(session_factory, world, statements):
    with transaction(session_factory) as session:
        binding_repo.read_member_seats_ahead(session, [world.telegram["alice"]])
    statements.clear()
    with transaction(session_factory) as session:
        binding_repo.member_seats_for_telegram(session, world.telegram["alice"])
    assert len(statements) == 1


def test_a_read_with_other_fixed_values_reads_the_database(session_factory, reminded, statements):
    world = reminded
    key = (world.activities["party_day"], outbox.member_recipient(world.members["alice"]), world.telegram["alice"])
    with transaction(session_factory) as session:
        outbox.read_delivered_ahead(session, OutboxKind.REMINDER, [key])
        statements.clear()
        assert outbox.delivered_in_chat(session, key[0], OutboxKind.GROUP_ANNOUNCEMENT, key[1], key[2]) == []
        assert len(statements) == 1
        assert len(outbox.delivered_in_chat(session, key[0], OutboxKind.REMINDER, key[1], key[2])) == 2
        assert len(statements) == 1


def test_more_keys_than_one_statement_holds(session_factory, world, statements):
    """Past `KeyedRead.WIDTH` keys, another statement; keys that match nothing are answered too (no rows)."""
    users = [world.telegram["alice"], *range(90_000, 90_000 + KeyedRead.WIDTH + 2)]
    with transaction(session_factory) as session:
        statements.clear()
        found = binding_repo.read_member_seats_ahead(session, users)
        assert len(statements) == 2
        assert [user for user, rows in found.items() if rows] == [world.telegram["alice"]]
        statements.clear()
        assert [binding_repo.member_seats_for_telegram(session, user) for user in users[1:]] == [[]] * (len(users) - 1)
        assert binding_repo.member_seats_for_telegram(session, users[0])[0][1] == "P003"
        assert statements == []


def test_a_key_of_another_type_than_its_column_is_refused(session_factory, world):
    """Matched in Python, "5" would find no row where the database finds activity 5: refused, not answered "none"."""
    with transaction(session_factory) as session, pytest.raises(TypeError):
        attendance_repo.read_activities_ahead(session, [str(world.activities["party_day"])])


def test_an_answer_flushes_what_the_session_holds_as_the_read_would(session_factory, world):
    """A press that turned a leave into presence left an update pending: the next read, answered or not, sends it
    (group commit then sees a clean session when a later press is refused before writing)."""
    with transaction(session_factory) as session:
        attendance_repo.read_activities_ahead(session, [world.activities["party_day"]])
        party_day = session.get(models.Activity, world.activities["party_day"])
        party_day.place = "五楼会议室"
        assert session.dirty
        attendance_repo.activity_for_checkin(session, world.activities["party_day"])
        assert not session.dirty
