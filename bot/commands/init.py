"""`branchbot init`: creates or upgrades the database schema through Alembic; running it twice is a no-op."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.exc import SQLAlchemyError

from bot import texts
from bot.settings import Settings
from storage.db import shown_url
from storage.migrate import SchemaMismatchError, ensure_schema


def run(args: argparse.Namespace, settings: Settings) -> int:
    shown = shown_url(settings.database_url)
    try:
        change = ensure_schema(settings.database_url)
    except SchemaMismatchError as exc:
        print(texts.cli_error(texts.cli_schema_mismatch(exc)), file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(texts.cli_error(texts.cli_schema_unreachable(shown, exc)), file=sys.stderr)
        return 1
    print(texts.cli_schema_done(shown, change))
    return 0
