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
from bot import texts
from bot.deployment import Deployment, load_deployment
from bot.runtime.jobs import RECONCILE_EVERY
from bot.settings import Settings
from schedules.catalog import CatalogError, read_yaml
from schedules.proposal.documents import SUFFIXES, DocumentError
from schedules.proposal.model import Proposal
from schedules.roster import OrgType
from storage.db import command_transaction
from storage.errors import ServiceError
from storage.services.reports import UnknownOrganizationError
from storage.repositories.roster import load_roster
from storage.services.proposals import plan_override_edit, propose_document, write_override


class CatalogInputError(ValueError):
    """A path, organisation or proposal file that cannot be used."""


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.action == "propose":
            return _propose(args, settings)
        return _accept(args, settings)
    except (CatalogError, DocumentError, CatalogInputError) as exc:
        print(texts.cli_error(exc), file=sys.stderr)
        return 2
    except ServiceError as exc:
        print(texts.cli_error(exc.message), file=sys.stderr)
        return 2


def _lineage(settings: Settings, org_code: str, *, required: bool) -> tuple[list[str], OrgType | None]:
    """The organisation's codes from the top down (its override inherits theirs) and its type, from the roster."""
    try:
        with command_transaction(settings.database_url) as session:
            roster = load_roster(session)
    except SQLAlchemyError as exc:
        if required:
            raise CatalogInputError(texts.roster_unreadable(exc)) from None
        print(texts.cli_hint(texts.override_without_roster(org_code)), file=sys.stderr)
        return [org_code], None
    if org_code not in roster.by_code:
        if required:
            raise CatalogInputError(str(UnknownOrganizationError(org_code)))
        print(texts.cli_hint(texts.override_org_not_in_roster(org_code)), file=sys.stderr)
        return [org_code], None
    return [o.code for o in roster.ancestors(org_code)][::-1] + [org_code], roster.by_code[org_code].type


def _read_document(path: Path) -> bytes:
    if not path.is_file():
        raise CatalogInputError(texts.file_missing(path))
    if path.suffix.lower() not in SUFFIXES:
        raise CatalogInputError(texts.document_unsupported(path.suffix, SUFFIXES))
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
        text = fmt.cli_table(proposal)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(texts.written(args.output), file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _read_proposal(path: Path, deployment: Deployment, org_code: str, lineage: list[str],
                   org_type: OrgType | None) -> Proposal:
    """A proposal file written by `catalog propose` (.json/.yaml), or a plan document proposed on the spot."""
    if path.suffix.lower() in SUFFIXES:
        return propose_document(deployment, _read_document(path), path.name, org_code=org_code,
                                lineage=lineage, org_type=org_type)
    if not path.is_file():
        raise CatalogInputError(texts.file_missing(path))
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else read_yaml(text, str(path))
        return Proposal.model_validate(data)
    except (json.JSONDecodeError, ValidationError) as exc:
        raise CatalogInputError(texts.not_a_proposal(path, exc)) from None


def _accept(args: argparse.Namespace, settings: Settings) -> int:
    deployment = load_deployment(settings)
    lineage, org_type = _lineage(settings, args.org, required=False)
    proposal = _read_proposal(Path(args.proposal), deployment, args.org, lineage, org_type)
    keys = [k.strip() for k in args.only.split(",") if k.strip()] if args.only else None
    edit = plan_override_edit(deployment, args.org, proposal, keys=keys, lineage=lineage)
    if not edit.changed:
        print(texts.override_unchanged(edit.path))
        return 0
    sys.stdout.write(edit.diff())
    if args.dry_run:
        print(texts.override_dry_run(edit.path, len(edit.changes)))
        return 0
    write_override(edit)
    print(texts.override_written(edit.path, len(edit.changes), RECONCILE_EVERY))
    return 0
