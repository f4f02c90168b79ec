"""`branchbot calendar status` and `branchbot calendar import` as an administrator runs them."""

from __future__ import annotations

import shutil
from pathlib import Path

import docx
import pytest

from bot.deployment import load_official_calendar
from tests.calendar_cut import packages_through_2026  # noqa: F401 - a fixture
from tests.cli_runner import runner

ROOT = Path(__file__).resolve().parents[1]
NOTICES = ROOT / "tests" / "fixtures" / "holiday_notices"

pytestmark = pytest.mark.usefixtures("packages_through_2026")

TABLE_2025 = """《国务院办公厅关于2025年部分节假日安排的通知》
节日            放假                              天数  调休上班
元旦            1月1日（周三）                    1     —
春节            1月28日（周二）至2月4日（周二）   8     1月26日（周日）、2月8日（周六）
清明节          4月4日（周五）至4月6日（周日）    3     —
劳动节          5月1日（周四）至5月5日（周一）    5     4月27日（周日）
端午节          5月31日（周六）至6月2日（周一）   3     —
国庆节、中秋节  10月1日（周三）至10月8日（周三）  8     9月28日（周日）、10月11日（周六）
"""


@pytest.fixture
def config(tmp_path, monkeypatch):  # noqa: ANN001, ANN201
    target = tmp_path / "config"
    shutil.copytree(ROOT / "config", target, ignore=shutil.ignore_patterns("[0-9][0-9][0-9][0-9].yaml"))
    monkeypatch.setenv("BRANCHBOT_CONFIG_DIR", str(target))
    return target


@pytest.fixture
def cli(config, capsys):  # noqa: ANN001, ANN201
    return runner(capsys)


def test_import_is_a_dry_run_by_default(cli, config):
    code, out, err = cli("calendar", "import", str(NOTICES / "2025.txt"))
    assert (code, err) == (0, "")
    assert out == TABLE_2025 + (
        "与程序包 chinesecalendar的数据逐日一致。\n"
        f"（试运行：未写入。确认无误后加 --write 写入 {config / 'holidays' / '2025.yaml'}。）\n"
    )
    assert not (config / "holidays" / "2025.yaml").exists()


def test_import_writes_the_year_file_and_status_shows_where_each_year_comes_from(cli, config):
    code, out, _ = cli("calendar", "import", str(NOTICES / "2026.txt"), "--write", "--yes")
    target = config / "holidays" / "2026.yaml"
    assert code == 0 and out.endswith(f"已写入 {target}；运行中的机器人会在1分钟内按正式安排重新排期，并通知各支部书记。\n")
    assert load_official_calendar(config / "holidays").source_of(2026) == str(target)
    code, out, _ = cli("calendar", "status", "--from", "2025", "--to", "2028")
    assert code == 0
    assert out == (
        "节假日安排（各年份）：\n"
        "  2025 年  正式（程序包 chinesecalendar）\n"
        f"  2026 年  正式（文件 {target}）\n"
        "  2027 年  暂定：按法定节假日和周末排期，调休未公布（通知发布后运行 branchbot calendar import 导入）\n"
        "  2028 年  未知：不排期（需要该年的节假日安排通知）\n"
    )


def test_import_reads_the_notice_as_a_docx(cli, tmp_path):
    document = docx.Document()
    for line in (NOTICES / "2025.txt").read_text(encoding="utf-8").splitlines():
        document.add_paragraph(line)
    path = tmp_path / "通知.docx"
    document.save(str(path))
    code, out, _ = cli("calendar", "import", str(path))
    assert code == 0 and out.startswith(TABLE_2025 + "与程序包 chinesecalendar的数据逐日一致。\n")


def test_writing_without_confirmation_writes_nothing(cli, config):
    code, _, err = cli("calendar", "import", str(NOTICES / "2024.txt"), "--write")
    assert code == 1 and err == "未写入。（非交互运行时请加 --yes 确认。）\n"
    assert not (config / "holidays" / "2024.yaml").exists()


def test_a_malformed_notice_is_refused_with_its_line_and_writes_nothing(cli, config, tmp_path):
    path = tmp_path / "notice.txt"
    path.write_text((NOTICES / "2026.txt").read_text(encoding="utf-8").replace("共7天", "共6天"), encoding="utf-8")
    code, out, err = cli("calendar", "import", str(path), "--write", "--yes")
    assert (code, out) == (2, "")
    assert err == (
        "错误：第 19 行无法读取：七、国庆节：10月1日（周四）至7日（周三）放假调休，共6天。9月20日（周日）、10月10日（周六）上班。\n"
        "写的是共 6 天，但 2026-10-01 至 2026-10-07 是 7 天。\n通知未导入，没有写入任何文件。\n"
    )
    assert not (config / "holidays" / "2026.yaml").exists()
