"""A delivered message's edits are claimed in the database, at most once per interval across processes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import models
from storage.db import transaction
from storage.outbox_kinds import OutboxKind
from storage.repositories.outbox import EditClaim, claim_edits
from tests.runtime.factories import at, make_activity, make_branch

NOW = at("2025-03-15 09:00")
EVERY = timedelta(seconds=3)
GROUP = -100123


def card(message_id: int, edited: timedelta | None, state: str = "sent") -> dict:
    """A group announcement delivered as `message_id`, last edited `edited` before NOW (None: never)."""
    return {"message_id": message_id, "edited_at": None if edited is None else NOW - edited, "state": state}


@pytest.mark.parametrize(("cards", "expected"), [
    pytest.param([card(7, None), card(8, None)], EditClaim(claimed=((GROUP, 7), (GROUP, 8))), id="never-edited"),
    pytest.param([card(7, timedelta(seconds=1))], EditClaim(held=((GROUP, 7),), free_at=NOW + timedelta(seconds=2)),
                 id="edited-within-the-interval-is-held-until-it-passes"),
    pytest.param([card(7, EVERY)], EditClaim(claimed=((GROUP, 7),)), id="edited-a-whole-interval-ago"),
    pytest.param([card(7, timedelta(seconds=1)), card(8, None)],
                 EditClaim(claimed=((GROUP, 8),), held=((GROUP, 7),), free_at=NOW + timedelta(seconds=2)),
                 id="a-card-delivered-since-beside-a-held-one"),
    pytest.param([card(7, None, state="pending")], EditClaim(), id="not-delivered-yet"),
])
def test_a_refresh_claims_the_cards_free_to_edit(session_factory, cards, expected):
    with transaction(session_factory) as session:
        activity = make_activity(session, make_branch(session, group_chat_id=GROUP), NOW + timedelta(days=1))
        for n, spec in enumerate(cards):
            session.add(models.OutboxMessage(
                dedup_key=f"card-{n}", activity_id=activity.id, kind=OutboxKind.GROUP_ANNOUNCEMENT.value,
                recipient=f"chat:{GROUP}", chat_id=GROUP, due_at=NOW - timedelta(days=1), state=spec["state"],
                telegram_message_id=spec["message_id"], edited_at=spec["edited_at"]))
        activity_id = activity.id
    with transaction(session_factory) as session:
        assert claim_edits(session, activity_id, OutboxKind.GROUP_ANNOUNCEMENT, NOW, EVERY) == expected
    with transaction(session_factory) as session:  # another process, at the same moment: what was claimed is held
        again = claim_edits(session, activity_id, OutboxKind.GROUP_ANNOUNCEMENT, NOW, EVERY)
    assert again.claimed == ()
    assert sorted(again.held) == sorted(expected.claimed + expected.held)
