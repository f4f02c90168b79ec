"""`branchbot init`: creates or upgrades the database schema through Alembic; running it twice is a no-op."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot import texts
from bot.settings import Settings
from storage.migrate import SchemaMismatchError, ensure_schema


def run(args: argparse.Namespace, settings: Settings) -> int:
    shown_url = make_url(settings.database_url).render_as_string(hide_password=True)
    try:
        change = ensure_schema(settings.database_url)
    except SchemaMismatchError as exc:
        print(texts.cli_error(texts.cli_schema_mismatch(exc)), file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(texts.cli_error(texts.cli_schema_unreachable(shown_url, exc)), file=sys.stderr)
        return 1
    print(texts.cli_schema_done(shown_url, change))
    return 0
