"""The deployment's configuration, read and validated in one place and handed, whole, to whoever needs it.

A `Deployment` is one frozen snapshot: the settings (environment), the catalog with every override, the
official calendar with the holiday files, the report settings (reports.yaml) and the proposal lexicon. The
files are read here and only here; `schedules/` parses what this module read (it stays pure). Every problem
becomes one Chinese line naming the file, the entry where there is one, and the problem; commands print
it and exit 2 (`DeploymentError`).

A `DeploymentSource` holds the current snapshot for a long-running process (the bot, the sandbox): it
re-reads the files when one changes and swaps the snapshot in one assignment, so the scheduler, /tasks and
every other reader see the same configuration. A change that does not validate is logged and the previous
snapshot stays.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import texts
from bot.reports.settings import REPORTS_FILE, ReportSettings, ReportSettingsError, parse_report_settings
from bot.settings import PROJECT_CONFIG_DIR, Settings
from schedules.calendar import CalendarFileError, OfficialCalendar, build_official_calendar, parse_holiday_file
from schedules.catalog import CATALOG_FILE, OVERRIDES_DIR, Catalog, CatalogError, parse_catalog, parse_override, read_yaml
from schedules.proposal.lexicon import LEXICON_FILE, Lexicon, build_lexicon

log = logging.getLogger(__name__)

HOLIDAYS_DIR = "holidays"
HOLIDAY_FILE_PATTERN = "[0-9][0-9][0-9][0-9].yaml"


class DeploymentError(ValueError):
    """The configuration cannot be used; each problem is a Chinese line naming the file (and entry)."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__(texts.config_problems(self.problems))


# --- reading one file ------------------------------------------------------------------------------------


def read_config_text(path: Path, error: Callable[[list[str]], Exception]) -> str:
    """A config file's text (UTF-8, an optional BOM allowed); `error([line])` when it cannot be read as such."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error([texts.config_unreadable(path, exc.strerror or type(exc).__name__)]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error([texts.config_not_utf8(path, exc.start + 1, data[exc.start])]) from None


def _catalog_error(problems: list[str]) -> CatalogError:
    return CatalogError(problems)


def _calendar_error(problems: list[str]) -> CalendarFileError:
    return CalendarFileError(problems[0])


def _reports_error(problems: list[str]) -> ReportSettingsError:
    return ReportSettingsError(problems[0])


# --- the parts -------------------------------------------------------------------------------------------


def load_catalog(config_dir: Path) -> Catalog:
    """config/catalog.yaml and config/overrides/<ORG_CODE>.yaml (CatalogError naming the file otherwise)."""
    path = Path(config_dir) / CATALOG_FILE
    if not path.is_file():
        raise CatalogError([texts.catalog_file_missing(path)])
    catalog = parse_catalog(read_config_text(path, _catalog_error), str(path))
    overrides_dir = Path(config_dir) / OVERRIDES_DIR
    if overrides_dir.is_dir():
        for override_path in sorted(overrides_dir.glob("*.yaml")):
            catalog = parse_override(
                catalog, override_path.stem, read_config_text(override_path, _catalog_error), str(override_path)
            )
    return catalog


def load_official_calendar(holidays_dir: Path | None, *, provisional: bool = True) -> OfficialCalendar:
    """The official calendar with the holiday files `holidays_dir/YYYY.yaml` (CalendarFileError naming the file)."""
    arrangements = []
    if holidays_dir is not None and holidays_dir.is_dir():
        for path in sorted(holidays_dir.glob(HOLIDAY_FILE_PATTERN)):
            try:
                data = read_yaml(read_config_text(path, _calendar_error), str(path))
            except CatalogError as exc:
                raise CalendarFileError(exc.problems[0]) from None
            arrangements.append(parse_holiday_file(data, str(path)))
    return build_official_calendar(arrangements, provisional=provisional)


def load_report_settings(config_dir: Path) -> ReportSettings:
    """config/reports.yaml (absent: branch comparison off everywhere); ReportSettingsError naming the file."""
    path = Path(config_dir) / REPORTS_FILE
    if not path.is_file():
        return ReportSettings()
    try:
        data = read_yaml(read_config_text(path, _reports_error), str(path))
    except CatalogError as exc:
        raise ReportSettingsError(exc.problems[0]) from None
    return parse_report_settings(data, str(path))


def load_lexicon(config_dir: Path, catalog: Catalog) -> Lexicon:
    """config/proposal_lexicon.yaml compiled against `catalog` (compiling is pure: schedules.proposal.lexicon)."""
    path = Path(config_dir) / LEXICON_FILE
    if not path.is_file():
        raise CatalogError([texts.lexicon_file_missing(path)])
    return build_lexicon(catalog, read_config_text(path, _catalog_error), str(path))


def config_files(config_dir: Path) -> list[Path]:
    """Every file a Deployment is read from (what a change is watched on)."""
    root = Path(config_dir)
    return [root / CATALOG_FILE, *sorted((root / OVERRIDES_DIR).glob("*.yaml")),
            *sorted((root / HOLIDAYS_DIR).glob(HOLIDAY_FILE_PATTERN)), root / REPORTS_FILE, root / LEXICON_FILE]


def fingerprint(config_dir: Path) -> tuple:
    """Changes when any configuration file is added, removed or written."""
    stamps = []
    for path in config_files(config_dir):
        try:
            stat = path.stat()
        except OSError:
            continue
        stamps.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(stamps)


# --- the snapshot ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    """One consistent reading of the deployment's configuration; never changes once made."""

    settings: Settings
    catalog: Catalog
    calendar: OfficialCalendar
    reports: ReportSettings
    lexicon: Lexicon | None  # None when config/ has no proposal_lexicon.yaml (proposals then refuse)
    fingerprint: tuple = ()

    @property
    def config_dir(self) -> Path:
        return self.settings.config_dir

    @property
    def zone(self) -> ZoneInfo:
        return self.settings.timezone

    def require_lexicon(self) -> Lexicon:
        if self.lexicon is None:
            raise CatalogError([texts.lexicon_file_missing(self.config_dir / LEXICON_FILE)])
        return self.lexicon

    def roster_problems(self, org_codes: Iterable[str]) -> list[str]:
        """Lines for configuration that names organisations the roster does not have (an override file, a
        reports.yaml entry): such an entry would silently do nothing. None before the first import (an empty
        roster): then every code is unknown, and the commands say to import first."""
        known = set(org_codes)
        if not known:
            return []
        problems = [texts.override_for_unknown_org(override.source_name, code)
                    for code, override in self.catalog.overrides.items() if code not in known]
        problems += [texts.comparison_for_unknown_org(self.config_dir / REPORTS_FILE, code)
                     for code in sorted(self.reports.branch_comparison) if code not in known]
        return problems


def load_deployment(settings: Settings) -> Deployment:
    """Reads and validates every configuration file under `settings.config_dir`, or raises DeploymentError."""
    config_dir = Path(settings.config_dir)
    stamp = fingerprint(config_dir)
    problems: list[str] = []
    catalog = calendar = reports = lexicon = None
    try:
        catalog = load_catalog(config_dir)
    except CatalogError as exc:
        problems += exc.problems
    try:
        calendar = load_official_calendar(config_dir / HOLIDAYS_DIR)
    except CalendarFileError as exc:
        problems.append(str(exc))
    try:
        reports = load_report_settings(config_dir)
    except ReportSettingsError as exc:
        problems.append(str(exc))
    if catalog is not None and (config_dir / LEXICON_FILE).is_file():
        try:
            lexicon = load_lexicon(config_dir, catalog)
        except CatalogError as exc:
            problems += exc.problems
    if problems:
        raise DeploymentError(problems)
    assert catalog is not None and calendar is not None and reports is not None
    return Deployment(settings, catalog, calendar, reports, lexicon, stamp)


def require_roster_match(deployment: Deployment, org_codes: Iterable[str]) -> None:
    """Refuses (DeploymentError) configuration naming organisations the roster lacks (`roster_problems`)."""
    problems = deployment.roster_problems(org_codes)
    if problems:
        raise DeploymentError(problems)


def deployment_at(config_dir: Path) -> Deployment:
    """The configuration under `config_dir` with otherwise default settings (tools, tests)."""
    return load_deployment(Settings(config_dir=Path(config_dir)))


class DeploymentSource:
    """The current Deployment of a running process; re-read when a file changes, swapped in one assignment.

    `current()` looks at the files at most every `check_every` seconds (so a process that does not run the
    scheduler, e.g. a webhook follower, still follows edits); `refresh()` looks now (the scheduler's
    reconcile job, a chat command that has just written an override). With `lazy`, nothing is read before
    the first `current()` (the chat context's default source over the project's config/).
    """

    def __init__(self, settings: Settings, *, deployment: Deployment | None = None, check_every: float = 2.0,
                 monotonic: Callable[[], float] = time.monotonic, lazy: bool = False) -> None:
        self.settings = settings
        self._check_every = check_every
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._current = deployment if deployment is not None or lazy else load_deployment(settings)
        self._checked = monotonic()
        self._refused: tuple | None = None  # the fingerprint of a change already logged as invalid

    @classmethod
    def for_dir(cls, config_dir: Path = PROJECT_CONFIG_DIR, zone: ZoneInfo | None = None, *,
                lazy: bool = False, check_every: float = 2.0) -> "DeploymentSource":
        """A source over `config_dir` with otherwise default settings (tests, tools)."""
        settings = Settings(config_dir=Path(config_dir))
        if zone is not None:
            settings = replace(settings, timezone=zone)
        return cls(settings, lazy=lazy, check_every=check_every)

    def current(self) -> Deployment:
        snapshot = self._current
        if snapshot is None:
            with self._lock:
                if self._current is None:
                    self._current = load_deployment(self.settings)
                    self._checked = self._monotonic()
                return self._current
        if self._monotonic() - self._checked >= self._check_every:
            self.refresh()
        return self._current  # type: ignore[return-value]

    def fresh(self) -> Deployment:
        """The snapshot after looking at the files now (for a reader that must see a file just written)."""
        self.refresh()
        return self.current()

    def changed_on_disk(self) -> bool:
        return fingerprint(self.settings.config_dir) != self.current().fingerprint

    def refresh(self) -> bool:
        """Re-reads the files if one changed; True when a new snapshot was swapped in. An invalid change is
        logged once and the previous snapshot kept."""
        if self._current is None:
            self.current()
            return True
        with self._lock:
            self._checked = self._monotonic()
            stamp = fingerprint(self.settings.config_dir)
            if stamp == self._current.fingerprint or stamp == self._refused:
                return False
            try:
                fresh = load_deployment(self.settings)
            except DeploymentError as exc:
                self._refused = stamp
                log.warning("configuration changed but is invalid; keeping the previous one: %s", exc)
                return False
            self._current = fresh
            self._refused = None
            log.info("configuration reloaded from %s", self.settings.config_dir)
            return True
