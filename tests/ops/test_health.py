"""/healthz and /metrics over HTTP: what an operator sees for a leader, a follower, and an unreachable database."""

from __future__ import annotations

import json
from types import SimpleNamespace

import aiohttp
import pytest

from bot.clock import ManualClock
from bot.runtime.health import ServiceMetrics, ServiceState, start_health_server
from storage.db import make_engine, make_session_factory
from storage.migrate import head, upgrade
from tests.runtime.factories import at
from tests.runtime.test_dispatcher import seed


@pytest.fixture
def migrated(db_url):
    upgrade(db_url)
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


async def get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}{path}") as answer:
        return answer.status, await answer.text()


async def serve(state, sessions, clock):
    metrics = ServiceMetrics(state, sessions, clock)
    runner = await start_health_server(("127.0.0.1", 0), state, sessions, metrics)
    port = runner.addresses[0][1]
    return runner, port, metrics


async def test_a_leader_reports_its_term_schema_and_the_oldest_due_row(migrated):
    seed(migrated, starts="2025-03-15 10:00", now="2025-03-12 09:00", leads="4320")  # 3 reminders due 10:00
    clock = ManualClock(at("2025-03-12 10:30"))
    state = ServiceState(mode="webhook", holder="host:1:abcd")
    state.became_leader(7)
    runner, port, metrics = await serve(state, migrated, clock)
    try:
        metrics.update_latency.observe(0.02)
        status, body = await get(port, "/healthz")
        report = json.loads(body)
        assert status == 200
        assert {k: report[k] for k in ("status", "mode", "role", "term")} == {
            "status": "ok", "mode": "webhook", "role": "leader", "term": 7}
        assert report["database"] == {"reachable": True, "schema": head(), "expected_schema": head()}
        assert report["oldest_due_outbox_age_seconds"] == 1800.0
        status, text = await get(port, "/metrics")
        assert status == 200
        lines = set(text.splitlines())
        assert 'branchbot_outbox_rows{kind="reminder",state="pending"} 3.0' in lines
        assert "branchbot_dispatcher_lag_seconds 1800.0" in lines
        assert "branchbot_leader 1.0" in lines
        assert "branchbot_leadership_changes_total 1.0" in lines
        assert "branchbot_database_up 1.0" in lines
        assert "branchbot_update_handling_seconds_count 1.0" in lines
    finally:
        await runner.cleanup()


async def test_an_unreachable_database_answers_503_and_database_up_0(tmp_path):
    engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    sessions = make_session_factory(engine)
    state = ServiceState(mode="polling", holder="host:2:ef01")
    runner, port, _ = await serve(state, sessions, ManualClock(at("2025-03-12 10:30")))
    try:
        status, body = await get(port, "/healthz")
        report = json.loads(body)
        assert status == 503 and report["status"] == "database unreachable"
        assert report["database"]["reachable"] is False and report["role"] == "starting"
        _, text = await get(port, "/metrics")
        assert "branchbot_database_up 0.0" in text.splitlines()
    finally:
        await runner.cleanup()
        engine.dispose()


@pytest.mark.parametrize(("listener", "shown"), [
    pytest.param(None, None, id="no-listener-sqlite-or-follower"),
    pytest.param(SimpleNamespace(listening=True), True, id="listening"),
    pytest.param(SimpleNamespace(listening=False), False, id="reconnecting-the-dispatcher-polls"),
])
async def test_healthz_says_whether_the_leader_hears_other_processes_commits(migrated, listener, shown):
    """The leader's LISTEN connection (bot.runtime.notify) is not fatal when down, so it is shown, not a 503."""
    state = ServiceState(mode="polling", holder="host:1:abcd")
    state.became_leader(3)
    state.listener = listener
    runner, port, _ = await serve(state, migrated, ManualClock(at("2025-03-12 10:30")))
    try:
        status, body = await get(port, "/healthz")
    finally:
        await runner.cleanup()
    assert (status, json.loads(body)["notify_listening"]) == (200, shown)
