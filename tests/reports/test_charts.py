"""Charts render Chinese with the shipped CJK font: no missing-glyph warnings, the font covers every label."""

from __future__ import annotations

import io
import warnings

import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from bot.reports import charts
from schedules.completion import quarter_period
from storage.services import reports
from tests.reports.conftest import SHANGHAI, local


@pytest.fixture
def report(session, world):
    return reports.load_report(session, "D01", quarter_period(2025, 1), SHANGHAI, local("2025-04-02T10:00"),
                               branch_comparison=True)


def test_matplotlib_resolves_the_cjk_family_to_a_font_with_chinese_glyphs():
    # The shipped font registers the family; a system copy of the same family (fonts-noto-cjk) may win the
    # lookup, which is as good: what matters is that the family resolves to a real CJK font, never a fallback.
    family = charts.cjk_font_name()
    found = font_manager.findfont(font_manager.FontProperties(family=family), fallback_to_default=False)
    index = getattr(found, "face_index", 0)
    with TTFont(str(found), fontNumber=index, lazy=True) as font:
        names = {record.toUnicode() for record in font["name"].names if record.nameID in (1, 16)}  # 16: typographic family
        cmap = font.getBestCmap()
    assert family in names
    assert all(ord(ch) in cmap for ch in "党支部委员会出勤率")


def test_the_shipped_font_has_a_glyph_for_every_character_the_charts_draw(report):
    with TTFont(charts.cjk_font_path(), lazy=True) as font:
        cmap = font.getBestCmap()
    texts = charts.chart_texts(report) + ["一二三四五六七八九十月年至合计期次支委会党小组会党员大会党课按季度"]
    missing = sorted({ch for text in texts for ch in text if not ch.isspace() and ord(ch) not in cmap})
    assert missing == []


def test_missing_glyph_detection_works_on_a_latin_only_font():
    # The control case: the same check must fail when Chinese is drawn with DejaVu Sans.
    figure = Figure()
    FigureCanvasAgg(figure)
    figure.add_subplot().set_title("出勤率", fontfamily="DejaVu Sans")
    with pytest.warns(UserWarning, match="missing from font"):
        figure.savefig(io.BytesIO(), format="png")


@pytest.mark.parametrize("draw", [pytest.param(charts.attendance_rate_chart, id="attendance-rate-by-month"),
                                  pytest.param(charts.completion_chart, id="three-meetings-completion")])
def test_charts_render_without_missing_glyphs_and_are_real_images(report, draw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would fail here
        warnings.simplefilter("ignore", ResourceWarning)  # other tests' files being collected is not our concern
        png = draw(report)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width >= 800 and image.height >= 300
    colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50  # text, lines and bars, not a blank canvas


def test_a_branch_completion_chart_has_a_bar_per_meeting_type(session, world):
    report = reports.load_report(session, "B01", quarter_period(2025, 1), SHANGHAI, local("2025-04-02T10:00"))
    groups = dict(charts._completion_groups(report))
    assert list(groups) == ["支委会", "党员大会", "党课", "党小组会（第一党小组）"]
    assert groups["支委会"][charts.CompletionState.MET] == 1 and groups["支委会"][charts.CompletionState.MISSED] == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ResourceWarning)
        assert Image.open(io.BytesIO(charts.completion_chart(report))).format == "PNG"
