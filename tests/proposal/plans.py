"""The plans the proposal tests read, with what a reader finds in each, and the same plans as .docx and .pdf.

Each expectation table was written by reading the plan, item by item, before looking at the matcher's
output: catalog key → the items (as the plan numbers them) that ask for it, and the same for the
recurring items the catalog lacks (by their proposed key). "municipal_2025" is a plan written for these
tests in the style of a 市直机关工委 plan (numbered 1–18, the supervision cycle, "3+X", 7月 tasks), and
"enterprise_2024" one in the style of a 集团公司党委 plan (（一） then 1．, with traps: 民主生活会, 党支部委员会
as a body, 党费 inspections), written after the matcher was tuned on the others and kept as it first came out;
the four seeds are real plans (copies of ../shared/seeds).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
SHARED_SEEDS = PROJECT.parent / "shared" / "seeds"
PLANS = PROJECT / "tests" / "fixtures" / "plans"
SEED_FILES = {
    "000": "000_866774aa6b53c2f3.txt",
    "001": "001_6ce7b8d12d4baa3c.txt",
    "002": "002_dd1b904fbb38516e.txt",
    "003": "003_540a0d9d71a81a59.txt",
}
THREE_MEETINGS_ONE_LECTURE = ("committee_meeting", "group_meeting", "general_assembly", "party_lecture")


def _each(keys: tuple[str, ...], sections: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    return {key: sections for key in keys}


# plan → (catalog key → items, new key → items)
EXPECTED: dict[str, tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]] = {
    "000": (
        {
            **_each(THREE_MEETINGS_ONE_LECTURE, ("1.",)),  # 依托……“三会一课”“主题党日”活动
            "theme_party_day": ("1.",),
            "ideology_report": ("3.",),  # 各党支部年终向党总支报告意识形态工作责任制落实情况
            "annual_assessment": ("3.", "10."),  # 支部书记述职评议；年底述职考核
            "probation_conversion": ("4.",),  # 年内接收正式党员xx名
            "activist_review": ("4.",),  # 确定入党积极分子xx名
            "annual_deployment": ("10.",),  # 年初专题研究部署
            "quarterly_supervision": ("10.",),  # 年中开展督导检查
        },
        {"first_topic": ("1.",), "central_group_study": ("1.",), "integrity_home_visit": ("9.",)},
    ),
    "001": (
        {
            "july_first": ("1.",),  # 举行“七一”主题党日
            "rectification": ("1.", "4.", "22.", "25."),  # 整改落实；整改措施是否到位；督促抓好整改；整改任务落实
            **_each(THREE_MEETINGS_ONE_LECTURE, ("4.",)),  # 认真落实“三会一课”……带头讲党课
            "member_appraisal": ("4.",),
            "theme_party_day": ("4.",),  # 丰富主题党日形式和内容
            "org_life_meeting": ("4.",),  # 组织生活会质量；双重组织生活
            "heart_to_heart": ("5.",),  # 落实谈心谈话制度，做到“六个必谈”
            "integrity_education_week": ("16.",),
            "term_expiry": ("18.",),  # 按期换届专项排查……及时换届提醒督促
            "annual_assessment": ("25.",),  # 党组织书记抓基层党建工作述职评议考核制度
        },
        {},
    ),
    "002": (
        {
            "party_lecture": ("一、（一）", "一、（三）", "二、（一）", "二、（三）"),  # 上党课；专题党课；“三会一课”
            "rectification": ("一、（一）",),  # 边检视、边整改；制定整改措施
            **_each(("committee_meeting", "group_meeting", "general_assembly"), ("一、（三）", "二、（三）")),
            "study_day": ("一、（三）",),  # 坚持每月开展一天集中学习
            "theme_party_day": ("一、（三）", "四、三是"),
            "xuexi_qiangguo_report": ("一、（三）",),  # 每季度对“学习强国”进行一次通报
            "semiannual_scoring": ("一、（三）",),  # 每半年在党员“全链条”打分中予以加减分
            "holiday_integrity_reminder": ("二、（三）",),  # 节假日廉政提醒*次
            "probation_conversion": ("三、（一）",),  # 转正党员*人
            "activist_review": ("三、（一）", "三、（二）"),
            "political_birthday": ("三、（二）",),  # “五个一”（其中的谈心谈话属于政治生日）
        },
        {"central_group_study": ("二、（一）", "二、（三）", "四、三是")},
    ),
    "003": (
        {
            **_each(THREE_MEETINGS_ONE_LECTURE, ("一、二是",)),
            "party_lecture": ("一、二是", "二、一是", "四、二是", "五、一是"),  # “三会一课”；讲党课；上党课
            "political_birthday": ("一、二是",),
            "theme_party_day": ("一、二是",),  # “四有”主题党日
            "heart_to_heart": ("一、二是",),
            "member_appraisal": ("一、二是",),
            "org_life_meeting": ("一、二是",),  # 双重组织生活制度；《组织生活会指南》
            "weekly_study": ("二、一是",),  # 每周一次常态化政治理论学习制度
            "activist_review": ("二、二是·一是",),  # 积极吸收入党积极分子
            "rectification": ("三、",),  # 软弱涣散党组织排查整改
        },
        {"first_topic": ("二、一是",), "central_group_study": ("二、一是",)},
    ),
    "municipal_2025": (
        {
            "study_day": ("2.",),  # 机关党支部每月开展一次集中学习
            "ideology_report": ("3.",),
            **_each(THREE_MEETINGS_ONE_LECTURE, ("4.",)),
            "theme_party_day": ("5.",),
            "org_life_meeting": ("6.",),
            "member_appraisal": ("6.",),
            "heart_to_heart": ("7.",),
            "political_birthday": ("8.",),
            "term_expiry": ("9.",),
            "activist_review": ("10.",),
            "probation_conversion": ("10.",),
            "fifty_years_honor": ("11.",),
            "dues": ("12.",),
            "monthly_reminder": ("13.",),
            "quarterly_supervision": ("13.",),  # 15. 的“督导检查中发现的问题”不是开展督导
            "semiannual_review": ("13.",),
            "annual_assessment": ("13.", "14."),
            "rectification": ("15.",),
            "holiday_integrity_reminder": ("16.",),
            "integrity_education_week": ("16.",),
        },
        {
            "first_topic": ("1.",),
            "central_group_study": ("2.",),
            "plan_8c50a78b": ("3.",),  # 每半年分析研判一次意识形态形势
            "integrity_home_visit": ("17.",),
        },
    ),
}

EXPECTED["enterprise_2024"] = (
    {
        "org_life_meeting": ("4．",),  # 民主生活会 is not 组织生活会; 组织生活会 is
        "committee_meeting": ("5．",),
        "general_assembly": ("5．",),
        "party_lecture": ("6．",),
        "term_expiry": ("7．",),  # 8． 选优配强党支部委员会 is the committee as a body, not its meeting
        "activist_review": ("9．",),
        "probation_conversion": ("9．",),
        "dues": ("10．",),
        "theme_party_day": ("11．",),
        "semiannual_review": ("12．",),
        "annual_assessment": ("12．",),
        "rectification": ("13．",),  # 完成一项、销号一项
        "holiday_integrity_reminder": ("14．",),  # 重要节日前发送廉洁提醒
    },
    {"first_topic": ("1．",), "central_group_study": ("2．",), "plan_256663d8": ("3．",)},  # 每月组织一次政治理论学习
)

# What each plan says about timing, where it says anything: key → (its words, agrees with the catalog).
EXPECTED_TIMING: dict[str, dict[str, tuple[str, bool | None]]] = {
    "000": {"ideology_report": ("年终", True), "annual_deployment": ("年初", True),
            "quarterly_supervision": ("年中", False), "annual_assessment": ("年底", True)},
    "001": {"july_first": ("七一", True)},
    "002": {"study_day": ("每月", True), "xuexi_qiangguo_report": ("每季度", True),
            "semiannual_scoring": ("每半年", True), "holiday_integrity_reminder": ("节假日", True)},
    "003": {"weekly_study": ("每周", True)},
    "enterprise_2024": {
        "committee_meeting": ("每月", True), "general_assembly": ("每季度", True), "party_lecture": ("每年", False),
        "theme_party_day": ("每月10日", False), "semiannual_review": ("每半年", True), "annual_assessment": ("年底", True),
        "holiday_integrity_reminder": ("重要节日", True),
    },
    "municipal_2025": {
        "committee_meeting": ("每月", True), "group_meeting": ("每月", True), "general_assembly": ("每季度", True),
        "party_lecture": ("每季度", True), "theme_party_day": ("每月", True), "study_day": ("每月", True),
        "org_life_meeting": ("年底", True), "heart_to_heart": ("每年", True),
        "integrity_education_week": ("每年6月", True), "fifty_years_honor": ("七一", None),
        "term_expiry": ("年底", None), "monthly_reminder": ("每月", True), "quarterly_supervision": ("每季", True),
        "semiannual_review": ("半年一", True), "annual_assessment": ("全年一", True),
        "holiday_integrity_reminder": ("重要节日", True), "dues": ("按月", True), "ideology_report": ("年底", True),
    },
}

# One-off dated tasks: (when, title, item).
EXPECTED_ACTIVITIES: dict[str, list[tuple[str, str, str]]] = {
    "000": [], "001": [], "002": [], "003": [],
    "enterprise_2024": [("9月", "组织开展党务工作者业务培训", "15．"), ("11月底前", "完成党建工作考核细则修订", "15．")],
    "municipal_2025": [
        ("7月", "开展庆祝建党104周年系列活动", "5."),
        ("年底前", "完成全部到期支部的换届工作", "9."),
        ("上半年", "完成对各类党建工作台账的清理规范", "18."),
    ],
}


def plan_text(plan: str) -> str:
    if plan in SEED_FILES:
        return (PLANS / "seeds" / SEED_FILES[plan]).read_text(encoding="utf-8")
    return (PLANS / f"{plan}.txt").read_text(encoding="utf-8")


def docx_bytes(text: str) -> bytes:
    """The plan as a Word document: one paragraph per line, numbered headings in bold as plans have them."""
    import docx

    document = docx.Document()
    for line in text.splitlines():
        paragraph = document.add_paragraph()
        run = paragraph.add_run(line)
        run.bold = re.match(r"\s*[一二三四五六七八九十]+、", line) is not None
    stream = io.BytesIO()
    document.save(stream)
    return stream.getvalue()


def pdf_bytes(text: str) -> bytes:
    """The plan as a PDF with a text layer; long paragraphs wrap over several lines, as PDFs do."""
    from fpdf import FPDF
    import mplfonts

    font = Path(mplfonts.__file__).parent / "fonts" / "SimHei.ttf"
    pdf = FPDF(format="A4")
    pdf.add_font("plan", fname=str(font))
    pdf.set_font("plan", size=11)
    pdf.add_page()
    for line in text.splitlines():
        pdf.multi_cell(0, 7, line or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
