"""`branchbot leave approve|refuse ACTIVITY_ID MEMBER_NO`: the approver's approve / refuse at the command line."""

from __future__ import annotations

import argparse

from bot.commands import activity
from bot.settings import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    return activity.run(args, settings, {"approve": activity.decide_leave, "refuse": activity.decide_leave})
