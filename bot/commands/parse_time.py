"""`branchbot parse-time TEXT [--now ISO] [--deadline]`: show how a natural-language time resolves, or why it cannot."""

from __future__ import annotations

import argparse
import sys

from bot import texts
from bot.clock import parse_now_option
from bot.deployment import load_deployment
from bot.settings import Settings
from schedules.timeparse import TimeParseError, parse_deadline, parse_time

EXIT_UNREADABLE = 2


def run(args: argparse.Namespace, settings: Settings) -> int:
    zone = settings.timezone
    now = parse_now_option(args.now, zone)  # without --now, the only place this command reads the clock
    calendar = load_deployment(settings).calendar  # DeploymentError: the CLI prints it, exit 2
    try:
        if args.deadline:
            deadline = parse_deadline(args.text, now, zone, calendar)
            lines = [deadline.due.isoformat(), texts.cli_reading(deadline.reading)]
        else:
            parsed = parse_time(args.text, now, zone, calendar)
            lines = [parsed.at.isoformat(), *([parsed.end.isoformat()] if parsed.end else []),
                     texts.cli_reading(parsed.reading)]
    except TimeParseError as exc:
        print(texts.cli_time_unreadable(exc.message), file=sys.stderr)
        if exc.examples:
            print(texts.examples_line(exc.examples), file=sys.stderr)
        return EXIT_UNREADABLE
    print("\n".join(lines))
    return 0
