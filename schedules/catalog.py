"""The obligation catalog: a validated model of config/catalog.yaml plus per-organisation overrides."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from schedules.audience import Audience
from schedules.config_errors import zh_problem

CATALOG_FILE = "catalog.yaml"
OVERRIDES_DIR = "overrides"
# An override entry for a key the catalog lacks is the organisation's own obligation (e.g. accepted from its
# plan by `branchbot catalog accept`): it must say at least what it is, how often, where and for whom.
OWN_ENTRY_FIELDS = frozenset({"name", "kind", "cadence", "applies_to", "audience"})

Kind = Literal["meeting", "task", "notice"]
Cadence = Literal[
    "weekly", "monthly", "quarterly", "semiannual", "yearly",
    "member_dates",  # dates from each member's record (政治生日, 转正, 党龄, 积极分子考察)
    "org_term",  # the committee's term (换届)
    "holidays",  # relative to each statutory holiday
    "deadlines",  # items with their own deadlines (整改): nothing to plan, only reminder rules
]
CALENDAR_CADENCES = ("weekly", "monthly", "quarterly", "semiannual", "yearly")
HolidayPolicy = Literal["next_workday", "previous_workday", "keep", "skip"]
OrgTypeName = Literal["党委", "党总支", "党支部", "党小组"]
# The audience keys are defined once, in schedules.audience.Audience (each with its rule and label).
AudienceKey = Literal[tuple(a.value for a in Audience)]  # type: ignore[valid-type]
MemberRule = Literal["political_birthday", "probation_end", "party_age", "activist_review"]
WEEKDAY_NUMBERS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "last": -1}


class CatalogError(ValueError):
    """The catalog or an override cannot be used; the message (Chinese) names the file, the entry and the problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("工作事项目录有误，已拒绝启动：\n" + "\n".join(f"  - {p}" for p in self.problems))


# --- small value parsers (run before pydantic's strict checks) ------------------------------------------

_DURATION = re.compile(r"^([+-])?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")


def parse_duration(value: Any) -> timedelta:
    """'3d', '1h', '30m', '2h30m', '-30m' → timedelta; plain numbers are refused (unit unclear)."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(f"应为带单位的时长，如 3d、1h、30m，而不是 {value!r}")
    match = _DURATION.match(value.strip().replace(" ", ""))
    if not match or not any(match.groups()[1:]):
        raise ValueError(f"无法识别的时长 {value!r}（写法如 3d、1h、30m、2h30m、-30m）")
    sign, days, hours, minutes = match.groups()
    delta = timedelta(days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0))
    return -delta if sign == "-" else delta


def parse_clock(value: Any) -> time:
    """'15:00' → time(15, 0)."""
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", value.strip())
        if match and int(match[1]) < 24 and int(match[2]) < 60:
            return time(int(match[1]), int(match[2]))
    raise ValueError(f"应为 24 小时制时刻，如 \"09:00\"、\"15:30\"，而不是 {value!r}")


def _parse_nth(value: Any) -> Any:
    if isinstance(value, str) and value in _ORDINALS:
        return _ORDINALS[value]
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Clock = Annotated[time, BeforeValidator(parse_clock)]


class _Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class When(_Strict):
    """Which day of each period: one of `day`, `weekday` (+`nth`), `workday`, `same_day_as`, `workdays_before`."""

    month: int | Literal["last"] | None = None  # month of the period: quarterly 1–3, semiannual 1–6, yearly 1–12
    day: int | Literal["last"] | None = None  # day of the month; 31 in a 30-day month means its last day
    weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] | None = None
    nth: Annotated[int | None, BeforeValidator(_parse_nth)] = None  # 1–4 or -1 (last); first/second/…/last
    workday: int | None = None  # the nth workday of the month (negative: from the end)
    same_day_as: str | None = None  # the same day as another obligation's occurrence in that month
    workdays_before: int | None = None  # holidays cadence: this many workdays before the holiday starts

    @model_validator(mode="after")
    def _one_rule(self) -> "When":
        rules = [name for name in ("day", "weekday", "workday", "same_day_as", "workdays_before")
                 if getattr(self, name) is not None]
        if len(rules) > 1:
            raise ValueError(f"只能用一种方式指定日期，现在同时写了 {'、'.join(rules)}")
        if isinstance(self.day, int) and not 1 <= self.day <= 31:
            raise ValueError(f"day 应在 1 到 31 之间（或 last），而不是 {self.day}")
        if self.nth is not None:
            if self.weekday is None:
                raise ValueError("写了 nth 就必须写 weekday（例如 weekday: tuesday, nth: first）")
            if self.nth not in (1, 2, 3, 4, -1):
                raise ValueError(f"nth 应为 first/second/third/fourth/last（或 1–4、-1），而不是 {self.nth}"
                                 "；每月第五个星期几并不总存在")
        if self.workday is not None and (self.workday == 0 or not -10 <= self.workday <= 15):
            raise ValueError(f"workday 应为 1–15（第几个工作日）或 -1–-10（倒数），而不是 {self.workday}")
        if self.workdays_before is not None and not 0 <= self.workdays_before <= 10:
            raise ValueError(f"workdays_before 应在 0 到 10 之间，而不是 {self.workdays_before}")
        return self

    @property
    def month_index(self) -> int:
        if self.month is None:
            return 1
        return -1 if self.month == "last" else self.month


class CheckinWindow(_Strict):
    """When members may check in, relative to the start: opens before (negative) and closes after."""

    opens: Duration = timedelta(minutes=-30)
    closes: Duration = timedelta(hours=2)

    @model_validator(mode="after")
    def _ordered(self) -> "CheckinWindow":
        if self.closes <= self.opens:
            raise ValueError("签到窗口的 closes 必须晚于 opens")
        return self


_MONTHS_IN_PERIOD = {"quarterly": 3, "semiannual": 6, "yearly": 12}

# The reserved entry of an override file that holds settings of the organisation rather than of an obligation.
ORGANIZATION_ENTRY = "organization"


class OrgSettings(_Strict):
    """An organisation's own settings (`organization:` in its override file), inherited down the tree."""

    # Members check themselves in (✅ 签到). Off: only the secretary's roll and 代签 record presence, and
    # reminders carry 📝 请假 alone — the 2024 rules against 指尖上的形式主义 forbid making 打卡 compulsory.
    self_checkin: bool = True


class Obligation(_Strict):
    """One catalog entry, after defaults and any organisation's overrides are applied."""

    key: str
    name: str
    kind: Kind
    enabled: bool
    cadence: Cadence
    when: When = When()
    time: Clock = time(9, 0)
    duration: Duration | Literal["period"] | None = None  # "period": lasts until the period ends
    all_day: bool = False  # a date rather than a meeting; `time` is when the notice goes out
    applies_to: list[OrgTypeName]
    audience: AudienceKey
    reminders: list[Duration] = []
    checkin: CheckinWindow | None = None
    requires_confirmation: bool = False
    holiday_policy: HolidayPolicy = "next_workday"
    checklist: list[str] = []
    rule: MemberRule | None = None  # member_dates: which date of the member's record
    years: int | None = None  # party_age: the anniversary that counts (50)
    every_months: int | None = None  # activist_review
    notices_months_before: list[int] = []  # org_term: 6, 3, 1
    overdue_every: Duration | None = None  # org_term / deadlines: repeat while overdue
    escalate_after: Duration | None = None  # deadlines, unconfirmed meetings: tell the upper committee this long after
    secretary_notice_at_month_start: bool = False  # political_birthday: tell the secretary on the 1st
    source: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Obligation":
        when = self.when
        if self.cadence == "weekly":
            if when.weekday is None or any(
                v is not None for v in (when.day, when.nth, when.workday, when.same_day_as, when.month)
            ):
                raise ValueError("weekly 事项只需写 when.weekday（例如 friday）")
        elif self.cadence in _MONTHS_IN_PERIOD or self.cadence == "monthly":
            if not any(v is not None for v in (when.day, when.weekday, when.workday, when.same_day_as)):
                raise ValueError(f"{self.cadence} 事项需要 when.day、when.weekday+nth、when.workday 或 when.same_day_as 之一")
            if when.weekday is not None and when.nth is None:
                raise ValueError("按星期几安排时需写 nth（first/second/third/fourth/last）")
            if when.workdays_before is not None:
                raise ValueError("workdays_before 只用于 holidays 事项")
            limit = _MONTHS_IN_PERIOD.get(self.cadence)
            if when.month is not None:
                if limit is None:
                    raise ValueError("monthly 事项不能写 when.month")
                if when.month != "last" and not 1 <= when.month <= limit:
                    raise ValueError(f"{self.cadence} 事项的 when.month 应在 1 到 {limit} 之间（或 last），而不是 {when.month}")
            if when.same_day_as == self.key:
                raise ValueError("same_day_as 不能指向自己")
        elif self.cadence == "holidays":
            if when.workdays_before is None:
                raise ValueError("holidays 事项需要 when.workdays_before（节前第几个工作日）")
        elif self.cadence == "member_dates":
            if self.rule is None:
                raise ValueError("member_dates 事项需要 rule（political_birthday/probation_end/party_age/activist_review）")
            if self.rule == "party_age" and (self.years is None or self.years < 1):
                raise ValueError("rule: party_age 需要 years（如 50）")
            if self.rule == "activist_review" and (self.every_months is None or self.every_months < 1):
                raise ValueError("rule: activist_review 需要 every_months（如 6）")
        elif self.cadence == "org_term":
            if any(m < 1 or m > 24 for m in self.notices_months_before):
                raise ValueError("notices_months_before 中的月数应在 1 到 24 之间")
        if self.overdue_every is not None and self.overdue_every <= timedelta(0):
            raise ValueError("overdue_every 必须是正的时长")
        if self.escalate_after is not None and self.escalate_after <= timedelta(0):
            # A follow-up comes after what it follows (the deadline, the window's close): 0 would tell the upper
            # committee together with the roll or the overdue notice, before anyone could act on them.
            raise ValueError("escalate_after 是逾期或签到结束后多久，必须是正的时长（如 3d），不能为 0 或负数")
        if any(lead < timedelta(0) for lead in self.reminders):
            raise ValueError("reminders 是提前量，不能为负")
        if isinstance(self.duration, timedelta) and self.duration <= timedelta(0):
            raise ValueError("duration 必须是正的时长")
        if self.rule is not None and self.cadence != "member_dates":
            raise ValueError("rule 只用于 member_dates 事项")
        if not self.applies_to:
            raise ValueError("applies_to 至少要有一种组织类型")
        return self

    @property
    def weekday_number(self) -> int | None:
        return None if self.when.weekday is None else WEEKDAY_NUMBERS[self.when.weekday]


# --- Chinese error messages -----------------------------------------------------------------------------

_FIELD_LABELS = {
    "name": "名称", "kind": "类型", "enabled": "是否启用", "cadence": "周期", "when": "日期规则",
    "time": "时刻", "duration": "时长", "applies_to": "适用组织", "audience": "对象", "reminders": "提前提醒",
    "checkin": "签到窗口", "requires_confirmation": "需书记确认", "holiday_policy": "节假日规则",
    "checklist": "清单", "day": "日", "weekday": "星期", "nth": "第几个", "workday": "第几个工作日",
    "month": "月份", "same_day_as": "同日事项", "opens": "开始", "closes": "截止",
}


def _field_path(loc: Sequence[Any]) -> str:
    # A union like `int | Literal["last"]` adds the branch name to loc; keep only the user's path.
    parts = [str(p) for p in loc if not (isinstance(p, str) and (p.startswith(("literal[", "function-")) or p in
                                                                   ("int", "str", "bool", "none")))]
    text = ".".join(parts)
    label = _FIELD_LABELS.get(parts[-1]) if parts and not parts[-1].isdigit() else None
    return f"{text}（{label}）" if label else text


def describe_validation_error(exc: ValidationError, source_name: str, entry: str) -> list[str]:
    problems = []
    seen: set[str] = set()
    for err in exc.errors():
        path = _field_path(err["loc"])
        message = f"{source_name}，条目 {entry}" + (f"，字段 {path}" if path else "") + f"：{zh_problem(err)}"
        if message not in seen:
            seen.add(message)
            problems.append(message)
    return problems


# --- YAML without YAML 1.1 surprises --------------------------------------------------------------------


class _CatalogLoader(yaml.SafeLoader):
    """SafeLoader that does not read 15:00 as the sexagesimal integer 900."""


_CatalogLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:int"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_CatalogLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"), list("-+0123456789")
)


_NOT_A_DATE = "不是有效的日期"


def _timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    # A date-shaped value that is no date (2026-13-01) would escape as a bare ValueError with no line.
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        raise yaml.constructor.ConstructorError(
            None, None, f"{node.value} {_NOT_A_DATE}", node.start_mark) from None


_CatalogLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def read_yaml(text: str, source_name: str) -> Any:
    """Parsed YAML; a CatalogError naming the file and the line when it is not YAML we can read."""
    try:
        return yaml.load(text, Loader=_CatalogLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.reader.ReaderError as exc:
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise CatalogError([f"{source_name}：含有不允许的字符（第 {exc.position + 1} 个字符，U+{code:04X}），"
                            "不是文本格式的 YAML"]) from None
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        where = f"，第 {mark.line + 1} 行" if mark else ""
        problem = str(exc.problem)
        said = problem if problem.endswith(_NOT_A_DATE) else f"不是有效的 YAML（{problem}）"
        raise CatalogError([f"{source_name}{where}：{said}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"，第 {mark.line + 1} 行" if mark else ""
        raise CatalogError([f"{source_name}{where}：不是有效的 YAML（{getattr(exc, 'problem', exc)}）"]) from None
    except RecursionError:
        raise CatalogError([f"{source_name}：嵌套层次过深，不是有效的工作事项配置"]) from None


# --- the catalog ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Override:
    """One organisation's changes to some entries; fields replace the inherited ones whole."""

    org_code: str
    entries: Mapping[str, Mapping[str, Any]]
    source_name: str
    settings: Mapping[str, Any] = field(default_factory=dict)  # the `organization:` entry, validated as OrgSettings


@dataclass(frozen=True, eq=False)
class Catalog:
    """Every obligation by key (file order), with per-organisation overrides that inherit down the tree."""

    obligations: Mapping[str, Obligation]
    raw_entries: Mapping[str, Mapping[str, Any]]
    source_name: str
    overrides: Mapping[str, Override] = field(default_factory=dict)
    _resolved: dict[tuple[str, ...], dict[str, Obligation]] = field(default_factory=dict, repr=False)
    defaults: Mapping[str, Any] = field(default_factory=dict)  # the catalog's `defaults`, for organisations' own entries

    def __getitem__(self, key: str) -> Obligation:
        return self.obligations[key]

    def __contains__(self, key: object) -> bool:
        return key in self.obligations

    @property
    def keys(self) -> list[str]:
        return list(self.obligations)

    def override_chain(self, lineage: Iterable[str]) -> tuple[str, ...]:
        """The codes among `lineage` (top-most first) that have an override."""
        return tuple(code for code in lineage if code in self.overrides)

    def resolved(self, chain: tuple[str, ...]) -> dict[str, Obligation]:
        """Entries as seen by an organisation whose ancestors-and-self with overrides are `chain`."""
        cached = self._resolved.get(chain)
        if cached is not None:
            return cached
        if not chain:
            result = dict(self.obligations)
        else:
            result = {}
            problems: list[str] = []
            sources = "、".join(self.overrides[code].source_name for code in chain)
            own = {key: {**self.defaults, "key": key} for code in chain for key in self.overrides[code].entries
                   if key not in self.raw_entries}
            for key, raw in {**self.raw_entries, **own}.items():
                merged = dict(raw)
                touched = False
                for code in chain:
                    change = self.overrides[code].entries.get(key)
                    if change:
                        merged.update(change)
                        touched = True
                if not touched:
                    result[key] = self.obligations[key]
                    continue
                _validate_entry(merged, sources, key, result, problems)
            _refuse_problems(result, sources, problems)
        self._resolved[chain] = result
        return result

    def for_org(self, lineage: Iterable[str]) -> dict[str, Obligation]:
        """Entries for the organisation whose codes from the top down to itself are `lineage`."""
        return self.resolved(self.override_chain(lineage))

    def longest_escalate_after(self) -> timedelta | None:
        """The longest `escalate_after` any organisation's entry has, or None when none sets one. Each value an
        override chain gives comes from one layer (the base entries with the defaults, or one override on top of
        them, as `with_override` validated it), so those layers are all there is to look at."""
        layers = (self.obligations, *(self.resolved((code,)) for code in self.overrides))
        return max((entry.escalate_after for entries in layers for entry in entries.values()
                    if entry.escalate_after is not None), default=None)

    def org_settings(self, lineage: Iterable[str]) -> OrgSettings:
        """The settings of the organisation whose codes from the top down to itself are `lineage`."""
        merged: dict[str, Any] = {}
        for code in self.override_chain(lineage):
            merged.update(self.overrides[code].settings)
        return OrgSettings.model_validate(merged) if merged else OrgSettings()

    def any_org_setting(self, name: str, value: Any) -> bool:
        """Whether some override sets organisation setting `name` to `value` (lets callers skip the tree)."""
        return any(o.settings.get(name, not value) == value for o in self.overrides.values())

    def with_override(self, override: Override) -> "Catalog":
        """A catalog that also carries `override`, validated against the base entries."""
        problems = []
        for key, change in override.entries.items():
            own = key not in self.raw_entries
            if own and not (isinstance(change, Mapping) and OWN_ENTRY_FIELDS <= set(change)):
                problems.append(f"{override.source_name}，条目 {key}：目录中没有这个事项（可用：{'、'.join(self.raw_entries)}）"
                                f"；组织自己的事项须写全 {'、'.join(sorted(OWN_ENTRY_FIELDS))}")
            elif not isinstance(change, Mapping):
                problems.append(f"{override.source_name}，条目 {key}：应为要修改的字段（键值对），而不是 {change!r}")
            elif "key" in change:
                problems.append(f"{override.source_name}，条目 {key}：不能修改 key")
            elif own and not re.fullmatch(r"[a-z][a-z0-9_]*", key):
                problems.append(f"{override.source_name}，条目 {key!r}：键应为小写英文、数字和下划线")
        if override.settings:
            try:
                OrgSettings.model_validate(dict(override.settings))
            except ValidationError as exc:
                problems.extend(describe_validation_error(exc, override.source_name, ORGANIZATION_ENTRY))
        if problems:
            raise CatalogError(problems)
        overrides = {**self.overrides, override.org_code: override}
        catalog = Catalog(self.obligations, self.raw_entries, self.source_name, overrides, defaults=self.defaults)
        catalog.resolved((override.org_code,))  # validates the override on top of the base entries
        return catalog


def without_override(catalog: "Catalog", org_code: str) -> "Catalog":
    """`catalog` as it would be without `org_code`'s override (to validate a replacement for it)."""
    overrides = {code: o for code, o in catalog.overrides.items() if code != org_code}
    return Catalog(catalog.obligations, catalog.raw_entries, catalog.source_name, overrides, defaults=catalog.defaults)


def _validate_entry(raw: Mapping[str, Any], source_name: str, key: str, into: dict[str, Obligation],
                    problems: list[str]) -> None:
    """One entry read into `into`, or its problems (named by source and key) added to `problems`."""
    try:
        into[key] = Obligation.model_validate(raw)
    except ValidationError as exc:
        problems.extend(describe_validation_error(exc, source_name, key))


def _refuse_problems(entries: Mapping[str, Obligation], source_name: str, problems: list[str]) -> None:
    """The entries read so far are a catalog only if no entry had a problem and no two clash on a day."""
    problems.extend(_same_day_problems(entries, source_name))
    if problems:
        raise CatalogError(problems)


def _same_day_problems(entries: Mapping[str, Obligation], source_name: str) -> list[str]:
    problems = []
    for key, entry in entries.items():
        target = entry.when.same_day_as
        if target is None:
            continue
        other = entries.get(target)
        if other is None:
            problems.append(f"{source_name}，条目 {key}，字段 when.same_day_as：没有事项 {target!r}")
        elif other.cadence != "monthly":
            problems.append(f"{source_name}，条目 {key}，字段 when.same_day_as：{target} 不是每月事项，无法取同日")
        elif other.when.same_day_as is not None:
            problems.append(f"{source_name}，条目 {key}，字段 when.same_day_as：{target} 本身也是 same_day_as，不能链式引用")
    return problems


def parse_catalog(data: str | Mapping[str, Any], source_name: str) -> Catalog:
    """The validated catalog from YAML text or its parsed mapping (`defaults`, `obligations`, `overrides`)."""
    if isinstance(data, str):
        data = read_yaml(data, source_name)
    if not isinstance(data, Mapping):
        raise CatalogError([f"{source_name}：文件应为键值对，包含 obligations（以及可选的 defaults、overrides）"])
    unknown = set(data) - {"version", "defaults", "obligations", "overrides"}
    if unknown:
        raise CatalogError([f"{source_name}：不认识的顶层字段 {'、'.join(sorted(map(str, unknown)))}"])
    defaults = data.get("defaults") or {}
    entries = data.get("obligations")
    if not isinstance(defaults, Mapping):
        raise CatalogError([f"{source_name}，defaults：应为键值对"])
    if not isinstance(entries, Mapping) or not entries:
        raise CatalogError([f"{source_name}：缺少 obligations（事项列表）"])
    problems: list[str] = []
    raw_entries: dict[str, dict[str, Any]] = {}
    obligations: dict[str, Obligation] = {}
    for key, fields in entries.items():
        if not isinstance(key, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            problems.append(f"{source_name}，条目 {key!r}：键应为小写英文、数字和下划线")
            continue
        if not isinstance(fields, Mapping):
            problems.append(f"{source_name}，条目 {key}：应为键值对，而不是 {fields!r}")
            continue
        raw = {**defaults, **fields, "key": key}
        raw_entries[key] = raw
        _validate_entry(raw, source_name, key, obligations, problems)
    _refuse_problems(obligations, source_name, problems)
    catalog = Catalog(obligations, raw_entries, source_name, defaults=dict(defaults))
    inline = data.get("overrides") or {}
    if not isinstance(inline, Mapping):
        raise CatalogError([f"{source_name}，overrides：应为 组织编码 → 事项修改 的键值对"])
    for org_code, changes in inline.items():
        catalog = catalog.with_override(_override(str(org_code), changes, f"{source_name} overrides.{org_code}"))
    return catalog


def _override(org_code: str, data: Any, source_name: str) -> Override:
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise CatalogError([f"{source_name}：应为 事项键 → 要修改的字段 的键值对"])
    settings = data.get(ORGANIZATION_ENTRY)
    settings = {} if settings is None else settings
    if not isinstance(settings, Mapping):
        raise CatalogError([f"{source_name}，条目 {ORGANIZATION_ENTRY}：应为组织设置（键值对），如 self_checkin: false"])
    entries = {str(k): v for k, v in data.items() if k != ORGANIZATION_ENTRY}
    return Override(org_code, entries, source_name, dict(settings))


def parse_override(catalog: Catalog, org_code: str, data: str | Mapping[str, Any] | None, source_name: str) -> Catalog:
    """`catalog` plus one organisation's override (YAML text or mapping: obligation key → changed fields)."""
    if isinstance(data, str):
        data = read_yaml(data, source_name)
    if org_code in catalog.overrides:
        raise CatalogError([f"{source_name}：组织 {org_code} 的覆盖已在 {catalog.overrides[org_code].source_name} 中定义"])
    return catalog.with_override(_override(org_code, data, source_name))
