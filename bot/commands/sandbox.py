"""`branchbot sandbox` (and `branchbot run` without a token): the whole bot on this machine, in a browser."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.settings import Settings


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.sandbox.app import SandboxOptions, SandboxStartError, serve_until_stopped

    options = SandboxOptions(
        port=getattr(args, "port", None),
        load_demo=not getattr(args, "no_demo", False),
    )
    try:
        return asyncio.run(serve_until_stopped(settings, options))
    except SandboxStartError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # a second Ctrl-C while shutting down
        return 130
