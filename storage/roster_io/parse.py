"""Validates the roster's text cells into typed `schedules.roster` values, collecting every problem.

Rules a user can rely on (each message is Chinese, one per bad cell):

- Organisations: `code` unique; `type` one of 党委, 党总支, 党支部, 党小组; `parent_code` must exist in the same
  file; a 党小组 sits under a 党支部, a 党支部 under a 党委 or 党总支 (or nothing), a 党总支 under a 党委 (or
  nothing), a 党委 under a 党委 (or nothing); no cycles; `term_years` a positive integer; `group_chat_id` an
  integer; `timezone` an IANA name.
- Members belong to a 党支部 (`org_code`). Committee seats of a 党委 or 党总支 are written as `upper_roles`
  (`D01:委员`), never by putting the member into the upper organisation; that keeps 三会一课 per branch.
  `group_code`, when given, is a 党小组 of that branch; 党小组长 needs a group.
- `member_no` unique; `telegram_username` unique (case-insensitive, a leading @ is dropped).
- Categories: a 预备党员 needs `joined_on` and has no `full_member_on`; a 正式党员's `full_member_on` may be
  missing (old records often lack it) but never precedes `joined_on`; 发展对象 and 入党积极分子 have no
  `joined_on`/`full_member_on` and hold no roles. No date lies in the future.
- Each branch has at most one 书记; upper seats must be on an organisation above the member's branch.
- Every cell (#18): no control characters (C0, DEL, C1, lone surrogates, line/paragraph separators, bidi marks,
  embeddings, overrides and isolates: `storage.text.CONTROLS`); text stored as it is no longer than its database
  column (`columns.Column.max_length`, read from the models), any other cell at most `OTHER_CELL_LIMIT`
  characters. Dates lie between 1921-07-01 (the Party's founding) and today, 换届日期 too. `term_years` is 1–10;
  `group_chat_id` fits the database's 64-bit column. So a file gets the same answer on SQLite and PostgreSQL.
- A value echoed in a message is `problems.shown`: control characters escaped, cut after 40 characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from enum import Enum
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from schedules.roster import Category, Member, Organization, OrgType, Role, Roster, UpperRole
from storage.roster_io.columns import MEMBERS, ORGANIZATIONS, TableSpec
from storage.roster_io.problems import RosterError, RosterProblem, shown
from storage.text import control_codes
from storage.roster_io.sources import RosterTables, Table

# (stage in Chinese, done, total): the CLI turns these into a progress bar; tests may record them.
ProgressCallback = Callable[[str, int, int], None]
E = TypeVar("E", bound=Enum)

_DATE_FORMS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"),
)
_LIST_SEPARATORS = re.compile(r"[、;；,，]")
_TELEGRAM_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{4,31}")
_YES = {"是", "y", "yes", "true", "1", "√"}
# The Party was founded on 1 July 1921: no one joined, became a member or an activist, no committee was elected before.
EARLIEST_DATE = date(1921, 7, 1)
TERM_YEARS = range(1, 11)  # 党委 5 years, 党总支 and 党支部 3; anything past 10 is a typing error
CHAT_ID_BITS = 63  # members.group_chat_id and telegram ids are BIGINT: signed 64-bit
_NO = {"否", "n", "no", "false", "0", ""}

# Which parent types each organisation type may hang under (None: the top of a tree).
_ALLOWED_PARENTS: dict[OrgType, tuple[OrgType, ...]] = {
    OrgType.COMMITTEE: (OrgType.COMMITTEE,),
    OrgType.GENERAL_BRANCH: (OrgType.COMMITTEE,),
    OrgType.BRANCH: (OrgType.COMMITTEE, OrgType.GENERAL_BRANCH),
    OrgType.GROUP: (OrgType.BRANCH,),
}


def parse_date(text: str) -> date:
    """`2025-03-05`, `2025/3/5` or `2025年3月5日`; ValueError with the Chinese reason otherwise."""
    for form in _DATE_FORMS:
        match = form.fullmatch(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                raise ValueError(f"日期不存在：{shown(text)}") from None
    raise ValueError(f"无法识别的日期：{shown(text)}（应写作 2025-03-05、2025/3/5 或 2025年3月5日）")


def split_list(text: str) -> list[str]:
    return [part.strip() for part in _LIST_SEPARATORS.split(text) if part.strip()]


class _Row:
    """One row being validated: typed getters that record a problem and return None on bad input.

    Every cell is checked for control characters and length first; a cell that fails is reported once and
    reads as absent to the getters, so one bad cell is one line.
    """

    def __init__(
        self, table: Table, row_no: int, cells: dict[str, str], problems: list[RosterProblem], spec: TableSpec
    ) -> None:
        self.table, self.row_no, self.cells, self._problems = table, row_no, cells, problems
        self.ok = True
        self._unreadable: set[str] = set()
        # Nearly every row is clean: one scan of all its cells for control characters (a space joins them and is
        # none), and then a cell within its length needs no closer look.
        clean = control_codes(" ".join(cells.values())) is None
        for column in spec.columns:
            value = cells.get(column.key, "")
            if clean and len(value) <= column.max_length:
                continue
            message = _cell_problem(value, column.max_length)
            if message:
                self.problem(column.key, message)
                self._unreadable.add(column.key)

    def problem(self, key: str, message: str) -> None:
        self.ok = False
        self._problems.append(RosterProblem(self.table.label, self.row_no, self.table.header(key), message))

    def text(self, key: str, *, required: bool = False) -> str | None:
        if key in self._unreadable:
            return None
        value = self.cells.get(key, "")
        if not value:
            if required:
                self.problem(key, "不能为空")
            return None
        return value

    def date(self, key: str, today: date) -> date | None:
        value = self.text(key)
        if value is None:
            return None
        try:
            parsed = parse_date(value)
        except ValueError as exc:
            self.problem(key, str(exc))
            return None
        if parsed > today:
            self.problem(key, f"日期晚于今天：{shown(value)}")
            return None
        if parsed < EARLIEST_DATE:
            self.problem(key, f"日期早于 1921年7月1日（中国共产党成立）：{shown(value)}")
            return None
        return parsed

    def integer(self, key: str, message: str) -> int | None:
        value = self.text(key)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:  # also for more than 4,300 digits
            self.problem(key, f"{message}：{shown(value)}")
            return None

    def choice(self, key: str, enum: type[E], label: str) -> E | None:
        value = self.text(key, required=True)
        if value is None:
            return None
        try:
            return enum(value)
        except ValueError:
            self.problem(key, f"未知的{label}：{shown(value)}（应为 {'、'.join(e.value for e in enum)}）")
            return None


def _cell_problem(value: str, limit: int) -> str | None:
    """Why a cell cannot be stored as it is, whatever its column means (None: it can)."""
    codes = control_codes(value)
    if codes is not None:
        return f"含有不可见的控制字符 {codes}，请删除后再导入：{shown(value)}"
    if len(value) > limit:
        return f"过长：{len(value)} 个字符，最多 {limit} 个：{shown(value)}"
    return None


def parse_roster(tables: RosterTables, *, today: date, progress: ProgressCallback | None = None) -> Roster:
    """The typed roster; raises RosterError listing every problem when any row is bad."""
    problems: list[RosterProblem] = list(tables.unread)
    organizations, bad_codes = _parse_organizations(tables.organizations, today, problems)
    members = _parse_members(tables.members, organizations, bad_codes, today, problems, progress)
    if problems:
        raise RosterError(sorted(problems, key=lambda p: (p.file != tables.organizations.label, p.file, p.row)))
    return Roster.of(organizations.values(), members)


def _parse_organizations(
    table: Table, today: date, problems: list[RosterProblem]
) -> tuple[dict[str, Organization], set[str]]:
    """The valid organisations, and the codes of rows that are present but bad (already reported)."""
    parsed: dict[str, tuple[int, Organization | None]] = {}
    rows: dict[str, _Row] = {}
    for row_no, cells in table.rows:
        row = _Row(table, row_no, cells, problems, ORGANIZATIONS)
        code = row.text("code", required=True)
        name = row.text("name", required=True)
        org_type = row.choice("type", OrgType, "组织类型")
        term_years = row.integer("term_years", "任期应为正整数（年）")
        if term_years is not None and term_years < TERM_YEARS.start:
            row.problem("term_years", f"任期应为正整数（年）：{shown(cells['term_years'])}")
        elif term_years is not None and term_years not in TERM_YEARS:
            row.problem("term_years", f"任期过长：{shown(cells['term_years'])} 年（最多 {TERM_YEARS.stop - 1} 年）")
        chat_id = row.integer("group_chat_id", "群聊ID应为整数（Telegram 群的 chat id，如 -1001234567890）")
        if chat_id is not None and not -(2 ** CHAT_ID_BITS) <= chat_id < 2 ** CHAT_ID_BITS:
            row.problem("group_chat_id", f"群聊ID超出范围：{shown(cells['group_chat_id'])}")
        zone = row.text("timezone")
        if zone is not None:
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError, OSError):  # "America" is a folder: IsADirectoryError
                row.problem("timezone", f"未知的时区：{shown(zone)}（应为 IANA 时区名，如 Asia/Shanghai）")
        elected_on = row.date("elected_on", today)
        if code is not None and code in parsed:
            row.problem("code", f"组织编码重复：{shown(code)}（第 {parsed[code][0]} 行已有）")
            continue
        if not row.ok or code is None:
            if code is not None:
                parsed.setdefault(code, (row_no, None))
            continue
        parsed[code] = (row_no, Organization(
            code=code, name=name, type=org_type, parent_code=row.text("parent_code"),
            elected_on=elected_on, term_years=term_years, group_chat_id=chat_id, timezone=zone,
        ))
        rows[code] = row

    known = {code: org for code, (_, org) in parsed.items()}
    for code, row in rows.items():
        org = known[code]
        if org.parent_code is None:
            if org.type is OrgType.GROUP:
                row.problem("parent_code", "党小组必须填写上级党支部")
            continue
        if org.parent_code not in known:
            row.problem("parent_code", f"上级组织不存在：{shown(org.parent_code)}")
            continue
        parent = known[org.parent_code]
        if parent is not None and parent.type not in _ALLOWED_PARENTS[org.type]:
            allowed = "或".join(t.value for t in _ALLOWED_PARENTS[org.type])
            row.problem("parent_code", f"{org.type.value}的上级组织应为{allowed}：{parent.code} 是{parent.type.value}")
    for cycle in _cycles({code: org.parent_code for code, org in known.items() if org is not None}):
        path = " → ".join([*cycle, cycle[0]])
        for code in cycle:
            rows[code].problem("parent_code", f"组织层级存在循环：{path}")
    valid = {code: org for code, org in known.items() if org is not None and rows[code].ok}
    return valid, set(known) - set(valid)


def _cycles(parent_of: dict[str, str | None]) -> list[list[str]]:
    """Each cycle in the parent relation once, starting from its smallest code."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(parent_of):
        path: list[str] = []
        code: str | None = start
        while code is not None and code in parent_of and state.get(code) is None:
            state[code] = 1
            path.append(code)
            code = parent_of[code]
        if code is not None and state.get(code) == 1:
            cycle = path[path.index(code):]
            pivot = cycle.index(min(cycle))
            found.append(cycle[pivot:] + cycle[:pivot])
        for visited in path:
            state[visited] = 2
    return found


def _parse_members(
    table: Table,
    organizations: dict[str, Organization],
    bad_codes: set[str],
    today: date,
    problems: list[RosterProblem],
    progress: ProgressCallback | None,
) -> list[Member]:
    roster = Roster.of(organizations.values())
    members: list[Member] = []
    first_row_of: dict[str, int] = {}
    username_row: dict[str, int] = {}
    secretary_row: dict[str, int] = {}
    total = len(table.rows)
    for index, (row_no, cells) in enumerate(table.rows, start=1):
        if progress is not None and (index % 1000 == 0 or index == total):
            progress("校验党员", index, total)
        row = _Row(table, row_no, cells, problems, MEMBERS)
        member_no = row.text("member_no", required=True)
        if member_no is not None:
            if member_no in first_row_of:
                row.problem("member_no", f"党员编号重复：{shown(member_no)}（第 {first_row_of[member_no]} 行已有）")
            else:
                first_row_of[member_no] = row_no
        name = row.text("name", required=True)
        branch = _branch(row, organizations, bad_codes)
        group_code = _group(row, organizations, bad_codes, branch)
        category = row.choice("category", Category, "人员类别")
        joined_on = row.date("joined_on", today)
        full_member_on = row.date("full_member_on", today)
        activist_on = row.date("activist_on", today)
        _check_category_dates(row, category, joined_on, full_member_on, cells)
        roles = _roles(row, category, group_code)
        upper_roles = _upper_roles(row, roster, bad_codes, branch)
        leading_cadre = _yes_no(row, "leading_cadre")
        username = _telegram_username(row)
        if username is not None:
            key = username.lower()
            if key in username_row:
                row.problem("telegram_username", f"Telegram 用户名重复：{shown(username)}（第 {username_row[key]} 行已有）")
            else:
                username_row[key] = row_no
        if branch is not None and Role.SECRETARY in roles:
            if branch in secretary_row:
                row.problem("roles", f"支部 {branch} 已有书记（第 {secretary_row[branch]} 行）")
            else:
                secretary_row[branch] = row_no
        if row.ok:
            members.append(Member(
                member_no=member_no, name=name, org_code=branch, group_code=group_code, category=category,
                joined_on=joined_on, full_member_on=full_member_on, activist_on=activist_on,
                roles=roles, upper_roles=upper_roles, leading_cadre=bool(leading_cadre),
                telegram_username=username,
            ))
    return members


def _branch(row: _Row, organizations: dict[str, Organization], bad_codes: set[str]) -> str | None:
    code = row.text("org_code", required=True)
    if code is None:
        return None
    if code in bad_codes:
        row.ok = False  # the organisation's own row is reported; repeating it per member is noise
        return None
    org = organizations.get(code)
    if org is None:
        row.problem("org_code", f"组织不存在：{shown(code)}")
        return None
    if org.type is not OrgType.BRANCH:
        hint = "；上级组织的委员请写在 upper_roles（上级职务）中" if org.type.is_upper else ""
        row.problem("org_code", f"所在支部必须是党支部：{code} 是{org.type.value}{hint}")
        return None
    return code


def _group(row: _Row, organizations: dict[str, Organization], bad_codes: set[str], branch: str | None) -> str | None:
    code = row.text("group_code")
    if code is None:
        return None
    if code in bad_codes:
        row.ok = False
        return None
    group = organizations.get(code)
    if group is None:
        row.problem("group_code", f"党小组不存在：{shown(code)}")
    elif group.type is not OrgType.GROUP:
        row.problem("group_code", f"{code} 不是党小组，而是{group.type.value}")
    elif branch is not None and group.parent_code != branch:
        row.problem("group_code", f"党小组 {code} 不属于支部 {branch}")
    else:
        return code
    return None


def _check_category_dates(
    row: _Row, category: Category | None, joined_on: date | None, full_member_on: date | None, cells: dict[str, str]
) -> None:
    if category is Category.PROBATIONARY:
        if joined_on is None and not cells.get("joined_on"):
            row.problem("joined_on", "预备党员必须填写入党日期")
        if full_member_on is not None:
            row.problem("full_member_on", "预备党员尚未转正，不应填写转正日期")
    elif category is Category.FULL:
        if joined_on is not None and full_member_on is not None and full_member_on < joined_on:
            row.problem("full_member_on", f"转正日期 {full_member_on} 早于入党日期 {joined_on}")
    elif category is not None:
        for key, value in (("joined_on", joined_on), ("full_member_on", full_member_on)):
            if value is not None:
                row.problem(key, f"{category.value}尚未入党，不应填写{'入党日期' if key == 'joined_on' else '转正日期'}")


def _roles(row: _Row, category: Category | None, group_code: str | None) -> frozenset[Role]:
    text = row.text("roles")
    if text is None:
        return frozenset()
    roles: set[Role] = set()
    for name in split_list(text):
        try:
            roles.add(Role(name))
        except ValueError:
            row.problem("roles", f"未知的职务：{shown(name)}（应为 {'、'.join(r.value for r in Role)}）")
    if roles and category is not None and not category.is_party_member:
        row.problem("roles", f"{category.value}不能担任党内职务")
    if Role.GROUP_LEADER in roles and group_code is None and not row.cells.get("group_code"):
        row.problem("roles", "党小组长必须填写所在党小组（group_code）")
    return frozenset(roles)


def _upper_roles(row: _Row, roster: Roster, bad_codes: set[str], branch: str | None) -> frozenset[UpperRole]:
    text = row.text("upper_roles")
    if text is None:
        return frozenset()
    seats: set[UpperRole] = set()
    for item in split_list(text):
        code, sep, role_name = item.replace("：", ":").partition(":")
        code, role_name = code.strip(), role_name.strip()
        if not sep or not code or not role_name:
            row.problem("upper_roles", f"应写作 组织编码:职务（如 D01:委员）：{shown(item)}")
            continue
        org = roster.by_code.get(code)
        if code in bad_codes:
            row.ok = False
            continue
        if org is None:
            row.problem("upper_roles", f"组织不存在：{shown(code)}")
            continue
        try:
            role = Role(role_name)
        except ValueError:
            row.problem("upper_roles", f"未知的职务：{shown(role_name)}")
            continue
        if not org.type.is_upper:
            row.problem("upper_roles", f"上级职务只能是党委或党总支的职务：{code} 是{org.type.value}")
        elif role is Role.GROUP_LEADER:
            row.problem("upper_roles", f"党委或党总支没有党小组长：{shown(item)}")
        elif branch is not None and code not in {a.code for a in roster.ancestors(branch)}:
            row.problem("upper_roles", f"{code} 不是支部 {branch} 的上级组织")
        else:
            seats.add(UpperRole(code, role))
    return frozenset(seats)


def _yes_no(row: _Row, key: str) -> bool | None:
    value = (row.text(key) or "").lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    row.problem(key, f"应为 是 或 否：{shown(row.cells[key])}")
    return None


def _telegram_username(row: _Row) -> str | None:
    value = row.text("telegram_username")
    if value is None:
        return None
    username = value.removeprefix("@").removeprefix("https://t.me/").removeprefix("t.me/")
    if not _TELEGRAM_USERNAME.fullmatch(username):
        row.problem("telegram_username", f"Telegram 用户名无效：{shown(value)}（5–32 位字母、数字或下划线）")
        return None
    return username
