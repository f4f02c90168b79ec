"""When the branch group's announcement of a meeting goes out: a day ahead as usual; as soon as possible (quiet
hours respected) when that moment passed before the meeting was planned or moved, or falls after its window
closes; once per revision; never once the window has closed or the meeting was cancelled."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.runtime.quiet_hours import DEFAULT_QUIET_HOURS, deliverable_at
from storage import models
from storage.outbox_kinds import OutboxKind
from storage.repositories import outbox
from storage.services import activity_changes, delivery, followup
from tests.runtime.factories import SHANGHAI, at, make_activity, make_branch

GROUP = -100001
STEP = timedelta(hours=1)  # the simulated sweep and dispatcher run this often (the real sweep every minute)
SATURDAY = at("2025-03-15 09:00")  # the meeting, unless moved
DAY = 24 * 60


def deliver_at(due, starts, zone):  # noqa: ANN001, ANN201 - the runtime's quiet hours, 22:00-08:00
    return deliverable_at(due, starts, zone, DEFAULT_QUIET_HOURS)


def no_reminders(_session, _activities, _now) -> int:  # noqa: ANN001
    return 0


@dataclass(frozen=True)
class Case:
    created: str  # when the meeting is planned (the first run of the sweep)
    window: tuple[int | None, int | None] = (None, None)  # check-in opens / closes, minutes from the start
    move: tuple[str, str] | None = None  # (when, to)
    cancel: str | None = None
    down: tuple[str, str] | None = None  # the dispatcher is not running in between (the sweep is)
    until: str = "2025-03-15 12:00"


def shown(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%m-%d %H:%M")


def run(session, case: Case) -> list[tuple[str, int]]:  # noqa: ANN001
    """Runs the sweep and the dispatcher's checks every STEP (and at each event) from `created` to `until`;
    returns when each group announcement was delivered (Shanghai time) and for which revision."""
    org = make_branch(session, members=2, group_chat_id=GROUP)
    activity = make_activity(session, org, SATURDAY, leads="")
    activity.checkin_opens_minutes, activity.checkin_closes_minutes = case.window
    session.flush()
    events = {at(moment) for moment in (case.move[0] if case.move else None, case.cancel) if moment}
    now, end = at(case.created), at(case.until)
    ticks = sorted({now + STEP * i for i in range(int((end - now) / STEP) + 1)} | events)
    down = (at(case.down[0]), at(case.down[1])) if case.down else None
    delivered: list[tuple[str, int]] = []
    for now in ticks:
        if case.move and now == at(case.move[0]):
            activity_changes.move(session, activity_changes.PLAN_OPERATOR, activity.id, starts_at=at(case.move[1]),
                                  now=now, zone=SHANGHAI, reminders=no_reminders)
        if case.cancel and now == at(case.cancel):
            activity_changes.cancel(session, activity_changes.PLAN_OPERATOR, activity.id, now=now, zone=SHANGHAI)
        followup.enqueue_followups(session, now)
        if down and down[0] <= now < down[1]:
            continue
        claimed = outbox.claim_due(session, now=now, worker="w", limit=100)
        checked = delivery.check_claimed(session, claimed, now, zone=SHANGHAI, deliver_at=deliver_at, worker="w",
                                         watch=delivery.Watch(since=now))
        for item in checked.deliver:
            if item.message.kind == OutboxKind.GROUP_ANNOUNCEMENT:
                assert item.chat_id == GROUP
                key = session.get(models.OutboxMessage, item.message.id).dedup_key
                revision = re.search(r":r(\d+):", key)
                delivered.append((shown(now), int(revision.group(1)) if revision else 0))
        outbox.mark_sent(session, [(item.message.id, 1) for item in checked.deliver], now=now, worker="w")
    pending = session.scalars(select(models.OutboxMessage).where(
        models.OutboxMessage.kind == OutboxKind.GROUP_ANNOUNCEMENT, models.OutboxMessage.state == "pending")).all()
    assert pending == [], "nothing is left to go out later"
    return delivered


@pytest.mark.parametrize(("case", "expected"), [
    pytest.param(Case("2025-03-13 08:00"), [("03-14 09:00", 0)], id="usual-a-day-ahead"),
    pytest.param(Case("2025-03-15 08:30"), [("03-15 08:30", 0)], id="planned-late-goes-out-at-once"),
    pytest.param(Case("2025-03-14 23:00"), [("03-15 08:00", 0)],
                 id="planned-late-in-quiet-hours-goes-out-when-they-end"),
    pytest.param(Case("2025-03-14 23:00", window=(-120, -90)), [],
                 id="planned-late-in-quiet-hours-window-closes-before-they-end-none"),
    pytest.param(Case("2025-03-12 08:00", move=("2025-03-13 10:00", "2025-03-13 15:00")),
                 [("03-13 10:00", 1)], id="moved-late-goes-out-at-the-move"),
    pytest.param(Case("2025-03-13 08:00", move=("2025-03-14 12:00", "2025-03-14 18:00")),
                 [("03-14 09:00", 0), ("03-14 12:00", 1)], id="moved-late-after-it-was-shown-once-per-revision"),
    pytest.param(Case("2025-03-10 08:00", window=(-3 * DAY, -2 * DAY)), [("03-12 09:00", 0)],
                 id="window-closing-before-the-usual-moment-announced-as-it-opens"),
    pytest.param(Case("2025-03-12 15:00", window=(-3 * DAY, -2 * DAY)), [("03-12 15:00", 0)],
                 id="window-closing-before-the-usual-moment-planned-late-at-once"),
    pytest.param(Case("2025-03-15 11:30"), [], id="window-already-closed-none"),
    pytest.param(Case("2025-03-13 10:00", window=(-3 * DAY, -2 * DAY)), [],
                 id="window-closing-days-ahead-already-closed-none"),
    pytest.param(Case("2025-03-13 08:00", down=("2025-03-14 08:00", "2025-03-15 11:30")), [],
                 id="dispatcher-down-until-the-window-closed-none"),
    pytest.param(Case("2025-03-13 08:00", cancel="2025-03-14 08:00"), [], id="cancelled-before-none"),
    pytest.param(Case("2025-03-13 08:00", cancel="2025-03-14 09:00", down=("2025-03-14 08:00", "2025-03-14 10:00")),
                 [], id="cancelled-while-queued-none"),
])
def test_when_the_group_announcement_goes_out(session, case, expected):
    assert run(session, case) == expected
