"""`branchbot init`: creates or upgrades the database schema through Alembic; running it twice is a no-op."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.settings import Settings
from storage.migrate import SchemaMismatchError, ensure_schema


def run(args: argparse.Namespace, settings: Settings) -> int:
    shown_url = make_url(settings.database_url).render_as_string(hide_password=True)
    try:
        change = ensure_schema(settings.database_url)
    except SchemaMismatchError as exc:
        print(f"错误：{exc}。请检查 BRANCHBOT_DATABASE_URL 是否指向 branchbot 的数据库。", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        print(f"错误：无法连接或升级数据库 {shown_url}：{exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"数据库：{shown_url}")
    if change.adopted:
        print(f"已有的数据表与当前结构一致，已记录为版本 {change.after}。")
    elif change.before is None:
        print(f"已创建数据库结构（版本 {change.after}）。")
    elif change.changed:
        print(f"已将数据库结构从版本 {change.before} 升级到 {change.after}。")
    else:
        print(f"数据库结构已是最新（版本 {change.after}），无需改动。")
    return 0
