"""An organisation's own settings in its override file (`organization:`): self check-in, inherited down the tree."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.deployment import load_catalog
from schedules.catalog import CatalogError, parse_override

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(ROOT / "config")


@pytest.mark.parametrize("overrides, lineage, expected", [
    pytest.param({}, ("D01", "B01"), True, id="default-on"),
    pytest.param({"D01": "organization:\n  self_checkin: false\n"}, ("D01", "B01"), False, id="committee-turns-off-below"),
    pytest.param({"D01": "organization:\n  self_checkin: false\n", "B01": "organization:\n  self_checkin: true\n"},
                 ("D01", "B01"), True, id="branch-own-setting-wins"),
    pytest.param({"B02": "organization:\n  self_checkin: false\n"}, ("D01", "B01"), True, id="sibling-does-not-leak"),
    pytest.param({"B01": "organization:\n  self_checkin: false\ntheme_party_day:\n  when: {day: 10}\n"},
                 ("D01", "B01", "B01G1"), False, id="group-inherits-with-obligation-overrides"),
])
def test_self_checkin_follows_the_tree(catalog, overrides, lineage, expected):
    for code, text in overrides.items():
        catalog = parse_override(catalog, code, text, f"{code}.yaml")
    assert catalog.org_settings(lineage).self_checkin is expected


@pytest.mark.parametrize("text, problem", [
    pytest.param("organization:\n  self_checkin: 关闭\n", "B01.yaml，条目 organization，字段 self_checkin", id="not-a-bool"),
    pytest.param("organization:\n  ranking: true\n", "B01.yaml，条目 organization，字段 ranking", id="unknown-setting"),
    pytest.param("organization: false\n", "B01.yaml，条目 organization：应为组织设置", id="not-a-mapping"),
])
def test_bad_settings_are_refused_with_file_and_entry(catalog, text, problem):
    with pytest.raises(CatalogError) as refused:
        parse_override(catalog, "B01", text, "B01.yaml")
    assert problem in str(refused.value)
