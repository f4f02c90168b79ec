"""Two processes migrating one database at the same moment (two replicas' first boot, `init` beside `run`)."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from typing import Any

import pytest

from bot.sandbox.app import Sandbox, SandboxOptions
from bot.settings import Settings
from storage import migrate
from storage.db import is_sqlite
from tests.conftest import emptied

RACERS = 2
SECONDS = 60  # only a hung racer ever waits this long
HEAD = migrate.head()


def _racer(urls: Any, barrier: Any, results: Any) -> None:
    """One process: for each database sent, wait for the other racer, then ensure its schema."""
    for url in iter(urls.get, None):
        barrier.wait(SECONDS)
        try:
            change = migrate.ensure_schema(url)
            results.put((change.before, change.after))
        except Exception as error:  # noqa: BLE001 - the test shows what failed
            results.put(f"{type(error).__name__}: {str(error).splitlines()[0]}")


@dataclass
class Racers:
    """Two spawned processes released together by a barrier, kept for the module (spawning costs ~1 s)."""

    inboxes: list[Any]
    results: Any
    processes: list[SpawnProcess]

    def race(self, url: str) -> list[object]:
        """What each racer's `ensure_schema(url)` answered: (before, after), or its error."""
        for inbox in self.inboxes:
            inbox.put(url)
        return sorted((self.results.get(timeout=SECONDS) for _ in self.processes), key=repr)


@pytest.fixture(scope="module")
def racers() -> Iterator[Racers]:
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(RACERS), context.Queue()
    inboxes = [context.Queue() for _ in range(RACERS)]
    processes = [context.Process(target=_racer, args=(inbox, barrier, results), daemon=True) for inbox in inboxes]
    for process in processes:
        process.start()
    try:
        yield Racers(inboxes, results, processes)
    finally:
        for inbox in inboxes:
            inbox.put(None)
        for process in processes:
            process.join(SECONDS)


def fresh(db_url: str, tmp_path) -> str:
    """An empty database of `db_url`'s kind (a new SQLite file; the PostgreSQL test database emptied)."""
    return f"sqlite:///{tmp_path / 'racing.db'}" if is_sqlite(db_url) else emptied(db_url)


# (id, the revision both racers find: None for an empty database). Empty three times: one try can miss a race.
CASES = [
    ("empty-database-1", None),
    ("empty-database-2", None),
    ("empty-database-3", None),
    ("two-revisions-behind", "0003_cal"),
]


@pytest.mark.parametrize("found", [found for _, found in CASES], ids=[name for name, _ in CASES])
def test_two_processes_migrating_at_once_both_succeed_and_one_finds_it_done(racers, db_url, tmp_path, found):
    url = fresh(db_url, tmp_path)
    if found is not None:
        migrate.upgrade(url)
        migrate.downgrade(url, found)
        assert migrate.current(url) == found

    answers = racers.race(url)

    head = migrate.head()
    # One migrated; the other waited for the schema lock and found the newest revision already there.
    assert answers == sorted([(found, head), (head, head)], key=repr)
    assert migrate.current(url) == head
    assert migrate.schema_differences(url) == []


def _answer(work: Any) -> object:
    """What `work()` came to: the revision it left, or the name of its error."""
    try:
        return work().after
    except Exception as error:  # noqa: BLE001 - the test shows what failed
        return type(error).__name__


@pytest.mark.parametrize(("stopped", "answer", "left"), [
    pytest.param(True, "SchemaWaitStopped", None, id="stopped-while-waiting-changes-nothing"),
    pytest.param(False, HEAD, HEAD, id="not-stopped-migrates-once-the-other-is-done"),
])
def test_a_stop_ends_the_wait_for_another_process_s_schema_change(db_url, tmp_path, stopped, answer, left):
    """A waiting `branchbot run` (SIGTERM, Ctrl-C) stops at once, not when another process's migration ends."""
    url, stop, answers = fresh(db_url, tmp_path), threading.Event(), []
    waiter = threading.Thread(target=lambda: answers.append(_answer(lambda: migrate.ensure_schema(url, stop))))
    with migrate.schema_lock(url):  # another process changing the schema, for as long as the test likes
        waiter.start()
        if stopped:
            stop.set()
            waiter.join(SECONDS)  # only a waiter deaf to the stop waits this long
            assert (waiter.is_alive(), migrate.current(url)) == (False, None)
    waiter.join(SECONDS)
    assert (answers, migrate.current(url)) == ([answer], left)
    assert migrate.ensure_schema(url).after == HEAD  # the stopped wait left no lock behind


async def test_the_bot_s_start_gives_up_waiting_for_the_schema_when_stopped(db_url, tmp_path, monkeypatch):
    from bot.runtime.app import _schema_when_reachable

    url, stop = fresh(db_url, tmp_path), asyncio.Event()
    waiting, take = threading.Event(), migrate._take
    monkeypatch.setattr(migrate, "_take", lambda *args: (waiting.set(), take(*args))[1])
    with migrate.schema_lock(url):
        starting = asyncio.create_task(_schema_when_reachable(url, stop))
        # Stopped only once it waits for the lock: a stop before the start began would prove nothing.
        await asyncio.wait_for(asyncio.to_thread(waiting.wait, SECONDS), SECONDS + 1)
        assert waiting.is_set()
        stop.set()
        await asyncio.wait_for(starting, SECONDS)  # only a start deaf to the stop waits this long
        assert migrate.current(url) is None


async def test_the_sandbox_s_start_gives_up_waiting_for_the_schema_when_stopped(tmp_path):
    """Ctrl-C in `branchbot sandbox` while another process migrates its (SQLite) database: the same stoppable wait."""
    url, stop = f"sqlite:///{tmp_path / 'sandbox.db'}", asyncio.Event()
    sandbox = Sandbox(Settings.from_env({"BRANCHBOT_DATABASE_URL": url}), SandboxOptions(port=0))
    with migrate.schema_lock(url):
        starting = asyncio.create_task(sandbox.start(stop))
        stop.set()
        page = await asyncio.wait_for(starting, SECONDS)  # only a start deaf to the stop waits this long
        assert (page, migrate.current(url), sandbox.server, sandbox.bot) == (None, None, None, None)
