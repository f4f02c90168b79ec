"""Plans to catalog entries, for the CLI and the chat alike: propose from a document, accept into the override.

The matching is pure (`schedules.proposal`); the configuration comes read (`bot.deployment`); this module edits
`config/overrides/<ORG>.yaml` keeping the comments and order a person wrote (ruamel.yaml round trip),
validates the result through the catalog's own override validation, and, for the chat, keeps the
proposal as the secretary's pending input, checks who may accept it and audits every decision.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from sqlalchemy.orm import Session

from schedules.catalog import OVERRIDES_DIR, Catalog, parse_override, without_override
from schedules.proposal.accept import entry_keys, override_changes
from schedules.proposal.documents import document_text
from schedules.proposal.lexicon import Lexicon
from schedules.proposal.match import offered_to, propose
from schedules.proposal.model import Proposal
from schedules.roster import OrgType
from storage.errors import AlreadyHandled, InvalidInput, PermissionDenied
from storage.repositories import attendance as attendance_repo
from storage.repositories import bindings as binding_repo
from storage.services.actors import Actor, OrgTree
from storage.services.permissions import audit_fields, proposal_org

PENDING_PROPOSAL = "catalog_proposal"
PROPOSAL_TTL = timedelta(days=1)
_ORG_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")


class ProposalConfig(Protocol):
    """What proposals need of the deployment's configuration (a `bot.deployment.Deployment`)."""

    @property
    def catalog(self) -> Catalog: ...

    @property
    def config_dir(self) -> Path: ...

    def require_lexicon(self) -> Lexicon: ...


def propose_document(
    config: ProposalConfig, data: bytes, filename: str, *, org_code: str | None = None, lineage: Sequence[str] = (),
    org_type: OrgType | None = None,
) -> Proposal:
    """The proposal for a document, read against the entries the organisation (top-down `lineage`) has now;
    with `org_type`, only what can apply to it or below it."""
    catalog, lexicon = config.catalog, config.require_lexicon()
    entries = catalog.for_org(lineage or ([org_code] if org_code else []))
    proposal = propose(document_text(data, filename), entries, lexicon, source=filename, org=org_code)
    return offered_to(proposal, org_type) if org_type is not None else proposal


# --- the override file ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverrideEdit:
    """An organisation's override file before and after accepting, already validated."""

    org_code: str
    path: Path
    before: str
    after: str
    changes: dict[str, dict[str, Any]]

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        return "".join(difflib.unified_diff(
            self.before.splitlines(keepends=True), self.after.splitlines(keepends=True),
            fromfile=f"{self.path}（原）", tofile=f"{self.path}（新）",
        ))


def _round_trip() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _styled(name: str, value: Any) -> Any:
    if isinstance(value, dict):
        styled = CommentedMap(value)
        styled.fa.set_flow_style()
        return styled
    if isinstance(value, list):
        styled_list = CommentedSeq(value)
        styled_list.fa.set_flow_style()
        return styled_list
    if name == "time" and isinstance(value, str):
        return DoubleQuotedScalarString(value)  # 15:00 unquoted is a number in YAML 1.1
    return value


def plan_override_edit(
    config: ProposalConfig, org_code: str, proposal: Proposal, *, keys: Collection[str] | None = None,
    lineage: Sequence[str] = (),
) -> OverrideEdit:
    """What accepting `keys` of `proposal` (default: all) does to `config/overrides/<org_code>.yaml`.

    The new text is checked by the catalog's override validation on top of everything else in config/,
    so a proposal that would make a bad override is refused (CatalogError) before anything is written.
    """
    if not _ORG_CODE.fullmatch(org_code):
        raise InvalidInput(f"组织编码 {org_code!r} 无效（只能有英文字母、数字、- 和 _）。")
    catalog = config.catalog
    unknown = set(keys or ()) - set(entry_keys(proposal))
    if unknown:
        raise InvalidInput(f"提议中没有这些事项：{'、'.join(sorted(unknown))}。")
    path = Path(config.config_dir) / OVERRIDES_DIR / f"{org_code}.yaml"
    before = path.read_text(encoding="utf-8") if path.is_file() else ""
    yaml = _round_trip()
    document = yaml.load(before) if before.strip() else None
    if document is None:
        document = CommentedMap()
        document.yaml_set_start_comment(
            f"{org_code} 的覆盖：branchbot catalog accept 按年度计划写入，可手工修改（见 config/overrides/README.md）")
    if not isinstance(document, CommentedMap):
        raise InvalidInput(f"{path} 不是“事项键 → 字段”的键值对，请先手工修正。")
    current = {str(key): dict(value or {}) for key, value in document.items() if isinstance(value, dict) or value is None}
    entries = catalog.for_org(lineage or [org_code])
    changes = override_changes(proposal, entries, current, keys=keys)
    for key, fields in changes.items():
        target = document.get(key)
        if not isinstance(target, CommentedMap):
            target = CommentedMap()
            document[key] = target
        for name, value in fields.items():
            target[name] = _styled(name, value)
    after = before
    if changes:
        stream = io.StringIO()
        yaml.dump(document, stream)
        after = stream.getvalue()
    parse_override(without_override(catalog, org_code), org_code, after or None, str(path))
    return OverrideEdit(org_code=org_code, path=path, before=before, after=after, changes=changes)


def write_override(edit: OverrideEdit) -> None:
    if not edit.changed:
        return
    edit.path.parent.mkdir(parents=True, exist_ok=True)
    temporary = edit.path.with_suffix(".yaml.tmp")
    temporary.write_text(edit.after, encoding="utf-8")
    temporary.replace(edit.path)  # the running bot polls the directory: it never sees half a file


# --- the chat's proposal: pending input, permission, decisions ---------------------------------------------


@dataclass(frozen=True)
class PendingProposal:
    pending_id: int
    org_code: str
    org_name: str
    proposal: Proposal


def waiting_for_other_input(session: Session, telegram_user_id: int, now: datetime) -> bool:
    """The bot is waiting for something else from this account (minutes, a 整改 progress file): a document
    sent now answers that, not a plan."""
    pending = binding_repo.pending_input(session, telegram_user_id, now)
    return pending is not None and pending.kind != PENDING_PROPOSAL


def start_proposal(
    session: Session, actor: Actor, now: datetime, config: ProposalConfig, data: bytes, filename: str,
) -> PendingProposal:
    """Reads the document the actor sent and keeps its proposal as their pending input."""
    if actor.telegram_user_id is None:
        raise InvalidInput("请在私聊中发送年度计划。")
    tree = OrgTree.load(session)
    org_id = proposal_org(actor, tree)
    code = tree.code[org_id]
    proposal = propose_document(config, data, filename, org_code=code, lineage=list(tree.lineage_codes(org_id)),
                                org_type=OrgType(tree.type[org_id]))
    pending = binding_repo.set_pending_input(
        session, actor.telegram_user_id, PENDING_PROPOSAL,
        {"org_id": org_id, "proposal": proposal.model_dump(mode="json"), "decided": {}}, now + PROPOSAL_TTL,
    )
    attendance_repo.add_audit(
        session, now=now, action="catalog.propose", entity="override", entity_id=code,
        details={"file": filename, "title": proposal.title, "entries": entry_keys(proposal)}, **audit_fields(actor),
    )
    return PendingProposal(pending.id, code, tree.name.get(org_id, code), proposal)


@dataclass(frozen=True)
class Decision:
    key: str
    name: str
    accepted: bool
    org_code: str
    edit: OverrideEdit | None  # None for a rejection


def decide(
    session: Session, actor: Actor, pending_id: int, index: int, accept: bool, now: datetime,
    config: Callable[[], ProposalConfig],
) -> Decision:
    """✅ writes entry `index` of the pending proposal into the override (validated, audited); ❌ records no.

    `config` is asked after the row lock below, so a second press validates against the first one's file."""
    if actor.telegram_user_id is None:
        raise InvalidInput("请在私聊中操作。")
    pending = binding_repo.pending_input(session, actor.telegram_user_id, now)
    if pending is None or pending.id != pending_id or pending.kind != PENDING_PROPOSAL:
        raise AlreadyHandled("这份计划的提议已经失效，请重新发送计划文件。", pending_id=pending_id)
    # Two quick presses on two cards must not both read the override before either wrote it: the row lock
    # holds the second press until the first has written the file and committed.
    session.refresh(pending, with_for_update=True)
    payload = dict(pending.payload)
    proposal = Proposal.model_validate(payload["proposal"])
    keys = entry_keys(proposal)
    if not 0 <= index < len(keys):
        raise AlreadyHandled("这张卡片已经失效，请重新发送计划文件。", index=index)
    key = keys[index]
    decided = dict(payload.get("decided") or {})
    if key in decided:
        raise AlreadyHandled("这一项已经处理过了。", key=key)
    tree = OrgTree.load(session)
    org_id = int(payload["org_id"])
    if proposal_org(actor, tree) != org_id:
        raise PermissionDenied("您已不再负责这个组织，不能处理这份提议。", actor=actor.member_no)
    code = tree.code[org_id]
    name = next((o.name for o in proposal.obligations if o.key == key), None) or \
        next(n.name for n in proposal.new if n.key == key)
    edit = None
    if accept:
        edit = plan_override_edit(config(), code, proposal, keys=[key], lineage=list(tree.lineage_codes(org_id)))
    decided[key] = "accepted" if accept else "rejected"
    pending.payload = {**payload, "decided": decided}
    attendance_repo.add_audit(
        session, now=now, action="catalog.accept" if accept else "catalog.reject", entity="override",
        entity_id=code, details={"key": key, "title": proposal.title, "changes": edit.changes if edit else {}},
        **audit_fields(actor),
    )
    session.flush()
    if edit is not None:
        write_override(edit)  # last: a refused or failed transaction above leaves the file untouched
    return Decision(key=key, name=name, accepted=accept, org_code=code, edit=edit)
