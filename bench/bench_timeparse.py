"""Benchmark: warm parse time over every reference time expression (the shared file and the notice forms of
tests/schedules/notice-time-expressions.tsv, with the official calendar), and the first parse in a fresh process."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.harness import report, run_main
from bot.deployment import load_official_calendar
from schedules.timeparse import TimeParseError, parse_deadline, parse_time

PROJECT = Path(__file__).resolve().parent.parent
REFERENCE = next(
    path for path in (PROJECT.parent / "shared" / "reference" / "time-expressions.tsv",
                      PROJECT / "tests" / "fixtures" / "reference" / "time-expressions.tsv")
    if path.exists()
)
NOTICES = PROJECT / "tests" / "schedules" / "notice-time-expressions.tsv"
CALENDAR = load_official_calendar(PROJECT / "config" / "holidays")
ZONE = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 3, 3, 10, 0, tzinfo=ZONE)

# Runs in a fresh interpreter: import the parser and parse one expression, timing both together.
FIRST_PARSE_SCRIPT = """
import json, sys, time
started = time.perf_counter()
from datetime import datetime
from zoneinfo import ZoneInfo
from schedules.timeparse import parse_time
zone = ZoneInfo("Asia/Shanghai")
parse_time(sys.argv[1], datetime(2025, 3, 3, 10, 0, tzinfo=zone), zone)
print(json.dumps({"ms": (time.perf_counter() - started) * 1000}))
"""


def reference_expressions() -> list[str]:
    lines = REFERENCE.read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[0] for line in lines if line.strip() and not line.startswith("#")]


def notice_expressions() -> list[tuple[str, str]]:
    """(mode, text) of the notice forms; deadlines are parsed with parse_deadline."""
    lines = NOTICES.read_text(encoding="utf-8").splitlines()
    return [(line.split("\t")[0], line.split("\t")[1]) for line in lines if line.strip() and not line.startswith("#")]


def parse_once(text: str, mode: str = "time") -> float:
    """Milliseconds one parse takes; refusals are part of the work, so they are timed too."""
    started = time.perf_counter()
    try:
        if mode == "deadline":
            parse_deadline(text, NOW, ZONE, CALENDAR)
        else:
            parse_time(text, NOW, ZONE, CALENDAR)
    except TimeParseError:
        pass
    return (time.perf_counter() - started) * 1000


def first_parse_ms(text: str) -> float:
    """Import + first parse of `text` in a new Python process (the cost a CLI call or a restarted bot pays)."""
    output = subprocess.run(
        [sys.executable, "-c", FIRST_PARSE_SCRIPT, text],
        cwd=PROJECT, capture_output=True, text=True, check=True,
    ).stdout
    return float(json.loads(output)["ms"])


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50, help="warm passes over the reference expressions")
    parser.add_argument("--fresh-runs", type=int, default=3, help="fresh processes per first-parse figure (median)")
    args = parser.parse_args(argv)

    expressions = reference_expressions()
    notices = notice_expressions()
    for text in expressions:  # warm up: dateparser's import and English locale load happen here
        parse_once(text)
    for mode, text in notices:  # and the lunar festival tables
        parse_once(text, mode)
    timings: dict[str, list[float]] = {text: [] for text in expressions}
    notice_timings: dict[tuple[str, str], list[float]] = {row: [] for row in notices}
    for _ in range(args.rounds):
        for text in expressions:
            timings[text].append(parse_once(text))
        for mode, text in notices:
            notice_timings[(mode, text)].append(parse_once(text, mode))
    all_notice = [ms for values in notice_timings.values() for ms in values]
    slowest_notice = max(notice_timings, key=lambda row: statistics.median(notice_timings[row]))
    all_timings = [ms for values in timings.values() for ms in values]
    english = [ms for text, values in timings.items() if text.isascii() and not text[0].isdigit() for ms in values]
    slowest_text = max(timings, key=lambda text: statistics.median(timings[text]))

    first_chinese = statistics.median(first_parse_ms("下周三下午3点") for _ in range(args.fresh_runs))
    first_english = statistics.median(first_parse_ms("tomorrow 9am") for _ in range(args.fresh_runs))
    report(
        "timeparse",
        expressions=len(expressions),
        rounds=args.rounds,
        warm_median_ms=statistics.median(all_timings),
        warm_p95_ms=statistics.quantiles(all_timings, n=20)[-1],
        warm_english_median_ms=statistics.median(english),
        slowest_expression=slowest_text,
        slowest_median_ms=statistics.median(timings[slowest_text]),
        notice_expressions=len(notices),
        notice_warm_median_ms=statistics.median(all_notice),
        notice_warm_p95_ms=statistics.quantiles(all_notice, n=20)[-1],
        notice_slowest_expression=slowest_notice[1],
        notice_slowest_median_ms=statistics.median(notice_timings[slowest_notice]),
        first_parse_chinese_ms=first_chinese,
        first_parse_english_ms=first_english,
        target_warm_median_ms=5,
        target_first_parse_ms=500,
    )


if __name__ == "__main__":
    run_main(main)
