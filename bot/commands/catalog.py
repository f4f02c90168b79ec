"""`branchbot catalog propose|accept`: a plan document becomes proposed catalog entries, then an override."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from bot import proposal_format as fmt
from bot.deployment import Deployment, load_deployment
from bot.settings import Settings
from schedules.catalog import CatalogError, read_yaml
from schedules.proposal.documents import SUFFIXES, DocumentError
from schedules.proposal.model import Proposal
from schedules.roster import OrgType
from storage.db import make_engine, make_session_factory, transaction
from storage.repositories.roster import load_roster
from storage.services.errors import ServiceError
from storage.services.proposals import plan_override_edit, propose_document, write_override


class CatalogInputError(ValueError):
    """A path, organisation or proposal file that cannot be used."""


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.action == "propose":
            return _propose(args, settings)
        return _accept(args, settings)
    except (CatalogError, DocumentError, CatalogInputError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except ServiceError as exc:
        print(f"错误：{exc.message}", file=sys.stderr)
        return 2


def _lineage(settings: Settings, org_code: str, *, required: bool) -> tuple[list[str], OrgType | None]:
    """The organisation's codes from the top down (its override inherits theirs) and its type, from the roster."""
    engine = make_engine(settings.database_url)
    try:
        with transaction(make_session_factory(engine)) as session:
            roster = load_roster(session)
    except SQLAlchemyError as exc:
        if required:
            raise CatalogInputError(
                f"无法从数据库读取名册（{type(exc).__name__}）。请先运行 branchbot init 并导入名册。") from None
        print(f"提示：无法读取名册，按 {org_code} 没有上级组织的覆盖处理。", file=sys.stderr)
        return [org_code], None
    finally:
        engine.dispose()
    if org_code not in roster.by_code:
        if required:
            raise CatalogInputError(f"没有编码为 {org_code} 的组织")
        print(f"提示：名册中没有组织 {org_code}，这份覆盖在导入该组织后才会生效。", file=sys.stderr)
        return [org_code], None
    return [o.code for o in roster.ancestors(org_code)][::-1] + [org_code], roster.by_code[org_code].type


def _read_document(path: Path) -> bytes:
    if not path.is_file():
        raise CatalogInputError(f"找不到文件 {path}")
    if path.suffix.lower() not in SUFFIXES:
        raise CatalogInputError(f"不支持 {path.suffix or '无扩展名'} 文件；请使用 {'、'.join(SUFFIXES)}。")
    return path.read_bytes()


def _propose(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.path)
    lineage, org_type = _lineage(settings, args.org, required=True) if args.org else ([], None)
    proposal = propose_document(load_deployment(settings), _read_document(path), path.name, org_code=args.org,
                                lineage=lineage, org_type=org_type)
    data = proposal.model_dump(mode="json")
    if args.format == "json":
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    elif args.format == "yaml":
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=4096)
    else:
        text = render_table(proposal)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"已写入 {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def render_table(proposal: Proposal) -> str:
    """Readable Chinese text: one block per entry with its timing, state and every quoted sentence."""
    lines = [fmt.summary(proposal, proposal.org)]
    for heading, entries in (("一、对应目录事项", proposal.obligations),
                             ("二、目录中没有的经常性工作（接受前不启用）", proposal.new)):
        if entries:
            lines += ["", heading]
        for entry in entries:
            lines.append(f"  {entry.key}  {entry.name}  条目：{fmt.sections_zh(entry.evidence)}")
            lines += [f"    {line}" for line in fmt.details(entry)]
            lines += [f"    依据{line}" for line in fmt.evidence_lines(entry.evidence)]
    if proposal.activities:
        lines += ["", "三、一次性任务（可用 branchbot activity add 安排）"]
        lines += [f"  {fmt.activity_line(activity)}" for activity in proposal.activities]
    if not (proposal.obligations or proposal.new or proposal.activities):
        lines += ["", "计划中没有找到与工作事项目录对应的内容。"]
    return "\n".join(lines) + "\n"


def _read_proposal(path: Path, deployment: Deployment, org_code: str, lineage: list[str],
                   org_type: OrgType | None) -> Proposal:
    """A proposal file written by `catalog propose` (.json/.yaml), or a plan document proposed on the spot."""
    if path.suffix.lower() in SUFFIXES:
        return propose_document(deployment, _read_document(path), path.name, org_code=org_code,
                                lineage=lineage, org_type=org_type)
    if not path.is_file():
        raise CatalogInputError(f"找不到文件 {path}")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else read_yaml(text, str(path))
        return Proposal.model_validate(data)
    except (json.JSONDecodeError, ValidationError) as exc:
        raise CatalogInputError(f"{path} 不是 branchbot catalog propose 输出的提议文件（{type(exc).__name__}）") from None


def _accept(args: argparse.Namespace, settings: Settings) -> int:
    deployment = load_deployment(settings)
    lineage, org_type = _lineage(settings, args.org, required=False)
    proposal = _read_proposal(Path(args.proposal), deployment, args.org, lineage, org_type)
    keys = [k.strip() for k in args.only.split(",") if k.strip()] if args.only else None
    edit = plan_override_edit(deployment, args.org, proposal, keys=keys, lineage=lineage)
    if not edit.changed:
        print(f"无变化：{edit.path} 已包含这份提议。")
        return 0
    sys.stdout.write(edit.diff())
    if args.dry_run:
        print(f"（试运行，未写入 {edit.path}：{len(edit.changes)} 项）")
        return 0
    write_override(edit)
    print(f"已写入 {edit.path}（{len(edit.changes)} 项）；运行中的机器人会在一分钟内按新的设置重新安排。")
    return 0
