"""The branch group's card follows every change of its activity's tally, through the one after-commit path: each
answer kind in chat, the command line's (heard by the leader's listener on PostgreSQL; on SQLite, one process,
shown at the next answer), and nothing else (a plan's new activities, a follower's own commit, a notice naming no
tally)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from types import SimpleNamespace

import pytest

from bot.cli import main
from bot import texts
from bot.handlers import AfterCommit, group_cards
from bot.handlers.common import ChatContext
from bot.runtime.notify import OutboxListener
from schedules.roster import Category, Member, Roster
from sqlalchemy import select
from storage import changes, models
from storage.changes import MAX_NOTIFIED_IDS, Changes, Notice
from storage.db import is_sqlite, make_session_factory, transaction
from storage.repositories.roster import load_roster
from storage.roster_io import import_roster
from storage.services import attendance as attendance_svc
from tests.chat.dialog import Dialog, press, running_bot
from tests.chat.replies import party_day_card
from tests.chat.world import MEETING_START
from tests.cli_runner import cli_world  # noqa: F401  (a fixture)
from tests.runtime.waiting import until

T = MEETING_START


async def delivered_card(chat: Dialog) -> dict:
    """The card as the dispatcher delivers it a day ahead (recorded in the outbox with its message id)."""
    chat.set_now(T - timedelta(days=1))
    assert chat.sweep() >= 1
    [shown] = [m for m in await chat.dispatch_group() if m["text"].startswith("📣 主题党日")]
    assert shown["text"] == party_day_card(0, 0, 6)
    chat.set_now(T)
    return shown


async def card_reads(chat: Dialog, shown: dict, expected: str) -> None:
    edited = await chat.expect(expected)
    assert (edited.method, edited.params["chat_id"], edited.params["message_id"]) == (
        "editMessageText", chat.group_chat(), shown["message_id"])


async def test_each_answer_kind_refreshes_the_card(session_factory, world):
    async with running_bot(session_factory, world, T, started=("alice", "bob", "secretary", "deputy")) as chat:
        shown = await delivered_card(chat)
        await chat.remind("alice", "party_day")
        chat.act("alice", press("✅ 签到"))
        await card_reads(chat, shown, party_day_card(1, 0, 5))  # check-in

        await chat.remind("bob", "party_day")
        await chat.step("bob", press("📝 请假"), "📝 您要为「主题党日」请假。请直接回复一句话说明原因：")
        chat.act("bob", "出差在外")
        await card_reads(chat, shown, party_day_card(1, 1, 4))  # leave request

        await chat.dispatch("leave_request", to="secretary")
        chat.act("secretary", press("同意"))
        await card_reads(chat, shown, party_day_card(1, 1, 4))  # its decision (the figures stay; the card is read again)

        await chat.deliver("roll_summary", "party_day", to="secretary")
        await chat.step("secretary", press("代签"), (
            "👥 「主题党日」未答复（4）：王书记、李副书记、赵老（无法联系）、郑新（无法联系）\n"
            "下列党员可由您代签或登记（记为由您登记，并留痕）。\n确认召开时，仍未答复的记为缺席。"))
        chat.act("secretary", press("代签 赵老"))
        await card_reads(chat, shown, party_day_card(2, 1, 3))  # 代签

        chat.act("secretary", press("缺席 郑新"))
        await card_reads(chat, shown, party_day_card(2, 1, 3))  # 缺席 (not an answer: the live tally counts it unanswered)


@asynccontextmanager
async def leading(engine, db_url: str, world) -> AsyncIterator[tuple[Dialog, dict]]:  # noqa: ANN001
    """The PostgreSQL leader's bot with its card delivered and its listener hearing what other processes commit
    (the bot's own commits are not the command line's: its factory names its origin)."""
    leader = make_session_factory(engine, origin="leader-1")
    async with running_bot(leader, world, T, started=("alice",)) as chat:
        shown = await delivered_card(chat)
        listener = OutboxListener(db_url, chat.app.bot_data["after_commit"].heard, own_origin="leader-1")
        listener.start()
        try:
            await until(lambda: listener.listening, "the leader's LISTEN")
            yield chat, shown
        finally:
            await listener.stop()


async def test_a_command_line_change_edits_the_card_through_the_leader_s_listener(
        engine, db_url, cli_world):  # noqa: F811
    if is_sqlite(engine):
        pytest.skip("NOTIFY is PostgreSQL's (SQLite: test_on_sqlite_a_command_line_change_shows_at_the_next_answer)")
    async with leading(engine, db_url, cli_world) as (chat, shown):
        proxy = ["activity", "proxy", str(cli_world.activities["party_day"]), "P005", "--as", "P001",
                 "--now", T.isoformat()]
        assert await asyncio.to_thread(main, proxy) == 0
        await card_reads(chat, shown, party_day_card(1, 0, 5))


async def test_on_sqlite_a_command_line_change_shows_at_the_next_answer(
        engine, session_factory, cli_world):  # noqa: F811
    if not is_sqlite(engine):
        pytest.skip("PostgreSQL's leader hears the command line at once: see the listener's test above")
    async with running_bot(session_factory, cli_world, T, started=("alice",)) as chat:
        shown = await delivered_card(chat)
        assert main(["activity", "proxy", str(cli_world.activities["party_day"]), "P005", "--as", "P001",
                     "--now", T.isoformat()]) == 0
        # One process, no NOTIFY: nothing in the bot hears the command line's commit (the documented limit) …
        await chat.remind("alice", "party_day")
        chat.act("alice", press("✅ 签到"))
        await card_reads(chat, shown, party_day_card(2, 0, 4))  # … until the next answer reads the tally again


DELAY = timedelta(seconds=3)  # the group edit delay of both "processes" below; it passes only as the test moves the clock


def card_now(chat: Dialog) -> str:
    """The card as the database's tally reads now."""
    with transaction(chat.factory) as session:
        view, tally = attendance_svc.announcement_state(session, chat.world.activities["party_day"])
    return texts.group_announcement(view, tally, chat.chat.zone)


async def test_two_processes_edit_a_card_once_per_delay_then_with_the_final_tally(
        monkeypatch, session_factory, world):
    claims: list[tuple[object, bool]] = []  # each refresh's claim: its time, and whether it found the card held

    def claim(session, activity_id, now, every):  # noqa: ANN001, ANN202
        claimed = claim_group_cards(session, activity_id, now, every)
        claims.append((now, bool(claimed.held)))
        return claimed

    claim_group_cards = attendance_svc.claim_group_cards
    monkeypatch.setattr(attendance_svc, "claim_group_cards", claim)

    async with running_bot(session_factory, world, T, started=("alice", "bob"),
                           group_edit_delay=DELAY.total_seconds()) as chat:
        shown = await delivered_card(chat)
        activity = world.activities["party_day"]
        first = chat.chat
        # A second `branchbot run` on the same database, answering through the same bot, waiting on the same clock.
        waits: list[float] = []  # the seconds the second process's refreshes wait, each on the clock

        async def sleep(seconds: float) -> None:
            waits.append(seconds)
            await chat.clock.sleep(seconds)

        second = ChatContext(session_factory=session_factory, clock=chat.clock, zone=first.zone, signer=first.signer,
                             config=first.config, group_edit_delay=DELAY.total_seconds(), sleep=sleep)
        edits = lambda: [call.params["text"] for call in chat.server.calls("editMessageText")  # noqa: E731
                         if (call.params["chat_id"], call.params["message_id"]) == (chat.group_chat(), shown["message_id"])]

        async def answered(who: str, tally: str) -> None:
            """`who` checks in through the first process, whose refresh is then waiting for the clock."""
            await chat.remind(who, "party_day")
            chat.act(who, press("✅ 签到"))
            await until(lambda: card_now(chat) == tally and activity in first._card_refreshes, f"{who}'s check-in")

        async def claimed(count: int) -> None:
            await until(lambda: len(claims) >= count, f"{count} claims")
            assert len(claims) == count

        try:
            await answered("alice", party_day_card(1, 0, 5))  # at T: the first process refreshes at T + delay …
            chat.set_now(T + DELAY / 2)
            group_cards.refresh_tallies(chat.app.bot, second, {activity})  # … the second at T + 1.5 delays
            await until(lambda: waits == [DELAY.total_seconds()], "the second's refresh waiting")
            assert claims == [] and edits() == []  # nobody refreshes before the clock says so

            chat.set_now(T + DELAY)
            await card_reads(chat, shown, party_day_card(1, 0, 5))
            assert claims == [(T + DELAY, False)]

            await answered("bob", party_day_card(2, 0, 4))  # the first process refreshes again at T + 2 delays
            chat.set_now(T + DELAY * 3 / 2)
            await claimed(2)
            assert claims[1] == (T + DELAY * 3 / 2, True)  # the second's: edited by the first half a delay ago
            # … so it comes back when the card is free, half a delay later
            await until(lambda: waits == [DELAY.total_seconds(), DELAY.total_seconds() / 2], "the second's return")
            assert second._card_refreshes[activity].due == T + DELAY * 2
            assert edits() == [party_day_card(1, 0, 5)]

            chat.set_now(T + DELAY * 2)  # both come back; one edits the final tally, the other finds it just edited
            await card_reads(chat, shown, party_day_card(2, 0, 4))
            await claimed(4)
            assert sorted(claims[2:], key=lambda c: c[1]) == [(T + DELAY * 2, False), (T + DELAY * 2, True)]
            await until(lambda: [activity in c._card_refreshes for c in (first, second)].count(True) == 1,
                        "the held one's return")
            assert edits() == [party_day_card(1, 0, 5), party_day_card(2, 0, 4)]
        finally:
            # The one that found it just edited waits for the clock, which stays here: not this test's.
            for context in (first, second):
                for waiting in list(context._card_refreshes.values()):
                    waiting.task.cancel()


PLAN = frozenset(range(1, 501))  # a new year's plan: 500 activities created in one transaction (notified as "all")
FEW = frozenset(range(1, MAX_NOTIFIED_IDS + 1))  # as many as a notice names one by one


@pytest.mark.parametrize(("heard", "refreshed"), [
    pytest.param(Notice(None, 1, frozenset({7}), frozenset({7})), [[7]], id="the-command-line-s-tally"),
    pytest.param(Notice("follower-2", 1, frozenset(), frozenset({7})), [], id="a-follower-shows-its-own"),
    pytest.param(Notice(None, 0, None), [], id="a-plan-of-many-activities-names-no-tally"),
    pytest.param(Notice(None, 3, FEW), [], id="new-activities-named-one-by-one-are-no-tally"),
    pytest.param(Notice(None, 0, frozenset(), None), [], id="too-many-tallies-to-name"),
    pytest.param(None, [], id="listening-again-after-an-outage"),
])
def test_what_the_leader_hears_refreshes_only_named_command_line_tallies(monkeypatch, heard, refreshed):
    calls: list[list[int]] = []
    monkeypatch.setattr(group_cards, "refresh_tallies", lambda _bot, _chat, tallies, pressed=(): calls.append(
        sorted(tallies)))
    after = AfterCommit(SimpleNamespace(bot=None, bot_data={}), chat=None, follow_up=False)
    after.heard(heard)
    assert calls == refreshed


@pytest.mark.parametrize(("changes", "refreshed"), [
    pytest.param(Changes(tallies={3}, pressed_cards={(3, -100, 9)}), [([3], [(3, -100, 9)])],
                 id="an-answer-with-the-card-it-was-given-on"),
    pytest.param(Changes(outbox_queued=2, tallies={3, 4}), [([3, 4], [])], id="answers-and-their-notices"),
    pytest.param(Changes(activity_ids=set(PLAN)), [], id="a-plan-of-many-activities"),
    pytest.param(Changes(outbox_queued=5), [], id="notices-only"),
])
def test_what_a_commit_here_refreshes(monkeypatch, changes, refreshed):
    calls: list[tuple[list[int], list[tuple[int, int, int]]]] = []
    monkeypatch.setattr(group_cards, "refresh_tallies", lambda _bot, _chat, tallies, pressed=(): calls.append(
        (sorted(tallies), sorted(pressed))))
    after = AfterCommit(SimpleNamespace(bot=None, bot_data={}), chat=None, follow_up=False)
    after.committed(changes)
    assert calls == refreshed



# --- the roster: a member added, moved or transferred out changes the cards' 应到 ----------------------------------

NEWCOMER = Member("P099", "孙新", "B01", Category.FULL)


def roster_with(session, *, add: tuple[Member, ...] = (), leave: tuple[str, ...] = (), move: dict | None = None):  # noqa: ANN001, ANN201
    """The stored roster with members added, some left out (transferred out by the import) and some moved."""
    stored = load_roster(session)
    members = [replace(m, **(move or {}).get(m.member_no, {})) for m in stored.members if m.member_no not in leave]
    return Roster(stored.organizations, (*members, *add))


async def imported(chat: Dialog, **change) -> None:  # noqa: ANN003
    """A roster import in one of the bot's transactions (as the sandbox imports): through its after-commit path."""
    await chat.chat.db(lambda session, now: import_roster(session, roster_with(session, **change), now=now))


async def test_a_roster_import_in_the_bot_refreshes_the_cards_that_count_its_members(session_factory, world):
    async with running_bot(session_factory, world, T, started=("alice",)) as chat:
        shown = await delivered_card(chat)  # 应到 6 (the activist does not count at a 主题党日)
        await imported(chat, add=(NEWCOMER,))
        await card_reads(chat, shown, party_day_card(0, 0, 7))  # a member added to the branch
        await imported(chat, leave=("P004",))
        await card_reads(chat, shown, party_day_card(0, 0, 6))  # one transferred out
        await imported(chat, move={"P099": {"org_code": "B02"}})
        await card_reads(chat, shown, party_day_card(0, 0, 5))  # one moved to another branch
        await imported(chat, move={"P006": {"category": Category.CANDIDATE}})  # 发展对象: not at a 主题党日 either
        await imported(chat, move={"P006": {"category": Category.PROBATIONARY}})
        await card_reads(chat, shown, party_day_card(0, 0, 6))  # an activist admitted


async def test_a_command_line_roster_import_edits_the_card_through_the_leader_s_listener(engine, db_url, cli_world):  # noqa: F811
    if is_sqlite(engine):
        pytest.skip("NOTIFY is PostgreSQL's (SQLite, one process: a card shows the new 应到 at its next answer)")
    async with leading(engine, db_url, cli_world) as (chat, shown):
        def import_from_the_command_line() -> None:  # its factory has no origin, as `branchbot roster import`'s
            command_line = make_session_factory(engine)
            with transaction(command_line) as session:
                import_roster(session, roster_with(session, leave=("P004",)), now=T, actor_label="cli:test")

        await asyncio.to_thread(import_from_the_command_line)
        await card_reads(chat, shown, party_day_card(0, 0, 5))


def org_id(session, code: str) -> int:  # noqa: ANN001
    return session.scalar(select(models.Organization.id).where(models.Organization.code == code))


def test_a_roster_import_records_where_its_members_are_counted(session_factory, world):
    with transaction(session_factory) as session:
        import_roster(session, roster_with(session, add=(replace(NEWCOMER, group_code="B01G1"),), leave=("P007",),
                                           move={"P005": {"name": "赵老师"}}), now=T)  # a new name counts nobody anew
        assert changes.of(session).roster_orgs == {org_id(session, "B01"), org_id(session, "B01G1")}
    with transaction(session_factory) as session:
        import_roster(session, roster_with(session, move={"P005": {"name": "赵老"}}), now=T)
        assert changes.of(session).roster_orgs == set()


def test_a_member_written_through_the_session_records_their_organisations_before_and_after(session_factory, world):
    with transaction(session_factory) as session:
        member = session.get(models.Member, world.members["alice"])
        member.unreachable_since = T  # not what the audience rule reads
        session.flush()
        assert changes.of(session).roster_orgs == set()
        member.org_id, member.group_id = org_id(session, "B02"), None
        session.flush()
        assert changes.of(session).roster_orgs == {org_id(session, code) for code in ("B01", "B01G1", "B02")}


@pytest.mark.parametrize(("heard", "found"), [
    pytest.param(Notice(None, 0, frozenset(), frozenset(), frozenset({4})), [{4}], id="the-command-line-s-roster"),
    pytest.param(Notice(None, 0, frozenset(), frozenset(), None), [None], id="too-many-organisations-to-name"),
    pytest.param(Notice("follower-2", 0, frozenset(), frozenset(), frozenset({4})), [], id="a-follower-shows-its-own"),
    pytest.param(Notice(None, 0, frozenset()), [], id="no-roster-change"),
])
async def test_what_the_leader_hears_of_a_roster_refreshes(monkeypatch, heard, found):
    asked: list[set[int] | None] = []

    async def db(work, *, follow_up=True):  # noqa: ANN001, ANN202
        return work("session", T)

    monkeypatch.setattr(attendance_svc, "cards_counting", lambda _session, orgs, _now: asked.append(orgs) or {9})
    refreshed: list[list[int]] = []
    monkeypatch.setattr(group_cards, "refresh_tallies", lambda _bot, _chat, tallies, pressed=(): refreshed.append(
        sorted(tallies)))
    after = AfterCommit(SimpleNamespace(bot=None, bot_data={}), chat=SimpleNamespace(db=db), follow_up=False)
    after.heard(heard)
    await until(lambda: not after._tasks, "the look-up")
    assert (asked, refreshed) == (found, [[9]] * len(found))
