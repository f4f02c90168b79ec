"""The chat's proposal service on both databases: decisions are kept per card, each card once, only by its owner."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.deployment import deployment_at, load_catalog
from storage.db import transaction
from storage.errors import AlreadyHandled, PermissionDenied
from storage.services import proposals
from storage.services.actors import actor_for_telegram
from tests.chat.world import build_world

CONFIG = Path(__file__).resolve().parents[2] / "config"
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PLAN = "支部计划\n1.坚持每周一次常态化政治理论学习制度。\n2.党员按月交纳党费。\n3.扎实开展廉政家访活动。\n".encode()


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG, target, ignore=shutil.ignore_patterns("demo"))
    return target


def run(factory, telegram_id: int, work):  # noqa: ANN001, ANN201
    with transaction(factory) as session:
        return work(session, actor_for_telegram(session, telegram_id))


def test_each_card_is_decided_once_and_every_accepted_one_is_kept(session_factory, config_dir) -> None:  # noqa: ANN001
    with transaction(session_factory) as session:
        build_world(session)
    pending = run(session_factory, 1001, lambda s, a: proposals.start_proposal(s, a, NOW, deployment_at(config_dir), PLAN, "p.txt"))
    assert (pending.org_code, [o.key for o in pending.proposal.obligations], [n.key for n in pending.proposal.new]) == (
        "B01", ["weekly_study", "dues"], ["integrity_home_visit"])
    for index, accept in ((0, True), (1, False), (2, True)):
        run(session_factory, 1001, lambda s, a: proposals.decide(s, a, pending.pending_id, index, accept, NOW, lambda: deployment_at(config_dir)))
    with pytest.raises(AlreadyHandled):
        run(session_factory, 1001, lambda s, a: proposals.decide(s, a, pending.pending_id, 0, True, NOW, lambda: deployment_at(config_dir)))
    entries = load_catalog(config_dir).overrides["B01"].entries
    assert sorted(entries) == ["integrity_home_visit", "weekly_study"]


def test_another_persons_or_an_expired_proposal_cannot_be_decided(session_factory, config_dir) -> None:  # noqa: ANN001
    with transaction(session_factory) as session:
        build_world(session)
    pending = run(session_factory, 1001, lambda s, a: proposals.start_proposal(s, a, NOW, deployment_at(config_dir), PLAN, "p.txt"))
    with pytest.raises(AlreadyHandled):  # the deputy has no pending proposal of this id
        run(session_factory, 1002, lambda s, a: proposals.decide(s, a, pending.pending_id, 0, True, NOW, lambda: deployment_at(config_dir)))
    later = NOW + proposals.PROPOSAL_TTL + timedelta(minutes=1)
    with pytest.raises(AlreadyHandled):
        run(session_factory, 1001, lambda s, a: proposals.decide(s, a, pending.pending_id, 0, True, later, lambda: deployment_at(config_dir)))
    with pytest.raises(PermissionDenied):
        run(session_factory, 1003, lambda s, a: proposals.start_proposal(s, a, NOW, deployment_at(config_dir), PLAN, "p.txt"))
    assert not (config_dir / "overrides" / "B01.yaml").exists()
