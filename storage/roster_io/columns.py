"""The roster's two tables: their columns, with the English and Chinese headers users may write, and how long each may be."""

from __future__ import annotations

from dataclasses import dataclass

from storage import models
from storage.text import stored_length

# A cell that is not stored as it is (a date, a number, a list of roles) is still bounded: a list of a few
# seats fits easily, and a 100,000-character cell is refused once instead of item by item.
OTHER_CELL_LIMIT = 1000


_ORG = models.Organization.__table__.c
_MEMBER = models.Member.__table__.c


@dataclass(frozen=True)
class Column:
    key: str  # the canonical (English) header, also the field name in messages for English files
    zh: str  # the Chinese header
    required: bool = False
    aliases: tuple[str, ...] = ()
    max_length: int = OTHER_CELL_LIMIT  # characters; for text stored as it is, the database column's length


@dataclass(frozen=True)
class TableSpec:
    name: str  # canonical file stem and sheet name
    zh_sheet: str  # accepted Chinese sheet name
    columns: tuple[Column, ...]

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    def column_for_header(self, header: str) -> Column | None:
        wanted = _normalise_header(header)
        for column in self.columns:
            if wanted in {column.key, _normalise_header(column.zh), *map(_normalise_header, column.aliases)}:
                return column
        return None


def _normalise_header(header: str) -> str:
    # Excel users add stray spaces, full-width spaces and capitals; "Member No" means member_no.
    return header.replace("\ufeff", "").replace("\u3000", " ").strip().lower().replace(" ", "_")


ORGANIZATIONS = TableSpec(
    name="organizations",
    zh_sheet="组织",
    columns=(
        Column("code", "组织编码", required=True, max_length=stored_length(_ORG.code)),
        Column("name", "组织名称", required=True, max_length=stored_length(_ORG.name)),
        Column("type", "组织类型", required=True),
        Column("parent_code", "上级组织编码", aliases=("上级组织",), max_length=stored_length(_ORG.code)),
        Column("elected_on", "换届日期"),
        Column("term_years", "任期", aliases=("任期（年）", "任期(年)")),
        Column("group_chat_id", "群聊ID", aliases=("群聊id", "群聊编号")),
        Column("timezone", "时区", max_length=stored_length(_ORG.timezone)),  # extension: IANA zone of an organisation abroad
    ),
)

MEMBERS = TableSpec(
    name="members",
    zh_sheet="党员",
    columns=(
        Column("member_no", "党员编号", required=True, max_length=stored_length(_MEMBER.member_no)),
        Column("name", "姓名", required=True, max_length=stored_length(_MEMBER.name)),
        Column("org_code", "所在支部", required=True, aliases=("所在支部编码",), max_length=stored_length(_ORG.code)),
        Column("group_code", "党小组", aliases=("党小组编码",), max_length=stored_length(_ORG.code)),
        Column("category", "人员类别", required=True),
        Column("joined_on", "入党日期"),
        Column("full_member_on", "转正日期"),
        Column("activist_on", "确定积极分子日期"),
        Column("roles", "职务"),
        Column("upper_roles", "上级职务"),
        Column("leading_cadre", "领导干部"),
        Column("telegram_username", "Telegram用户名", aliases=("telegram", "telegram_用户名", "电报用户名"),
               max_length=stored_length(_MEMBER.telegram_username)),
    ),
)
