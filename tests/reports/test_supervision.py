"""The supervision cycle (每月一提醒、每季一督导) brings the completion figures /report and /attendance show."""

from __future__ import annotations

from storage import models
from storage.repositories.outbox import ClaimedMessage
from tests.runtime.factories import renderers
from tests.reports.conftest import SHANGHAI, add_activity, world  # noqa: F401 - the fixture


def rendered(session, world, activity, member_no: str) -> str:  # noqa: F811
    member_id = world.members[member_no]
    row = ClaimedMessage(id=0, kind="reminder", activity_id=activity.id, member_id=member_id, chat_id=None,
                         recipient=f"member:{member_id}", lead_minutes=0, due_at=activity.starts_at, priority=0,
                         attempts=0, payload={})
    return renderers().render(session, row, SHANGHAI, activity.starts_at)[0]


def test_quarterly_supervision_tells_the_committee_which_branches_have_gaps(session, world):  # noqa: F811
    d01 = session.get(models.Organization, world.orgs["D01"])
    activity = add_activity(session, "quarterly_supervision:D01:2025Q1", d01, "quarterly_supervision",
                            "2025-03-03T09:00", "scheduled", title="每季一督导", kind="task", audience="upper_committee")
    assert rendered(session, world, activity, "M020") == (
        "⏰ 活动提醒：每季一督导\n时间：3月3日（周一）09:00（现在）\n组织：机关党委\n"
        "📊 2025年第一季度：三会一课 完成 3、补开 0、未开展 4、进行中 6\n"
        "⚠️ 第一支部：支委会 2025-02；党小组会（第一党小组） 2025-01\n"
        "⚠️ 第二支部：支委会 2025-01、2025-02"
    )


def test_monthly_reminder_tells_a_branch_secretary_about_their_own_branch(session, world):  # noqa: F811
    d01 = session.get(models.Organization, world.orgs["D01"])
    activity = add_activity(session, "monthly_reminder:D01:2025-02", d01, "monthly_reminder", "2025-02-03T09:00",
                            "scheduled", title="每月一提醒", kind="notice", audience="branch_secretaries")
    assert rendered(session, world, activity, "M010") == (
        "⏰ 活动提醒：每月一提醒\n时间：2月3日（周一）09:00（现在）\n组织：机关党委\n"
        "📊 2025年1月：三会一课 完成 1、补开 0、未开展 1、进行中 1\n⚠️ 第二支部：支委会 2025-01"
    )
