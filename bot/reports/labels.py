"""Chinese labels the report formats share: obligation names, attendance marks, verdicts."""

from __future__ import annotations

# Short names as a 三会一课 record book uses them; unknown keys fall back to the activity's title.
OBLIGATION_LABELS: dict[str, str] = {
    "committee_meeting": "支委会",
    "group_meeting": "党小组会",
    "general_assembly": "党员大会",
    "party_lecture": "党课",
    "theme_party_day": "主题党日",
    "study_day": "集中学习日",
    "weekly_study": "每周政治理论学习",
    "july_first": "七一主题党日",
    "org_life_meeting": "组织生活会",
    "member_appraisal": "民主评议党员",
    "integrity_education_week": "廉政警示教育周",
    "annual_deployment": "年初专题研究部署",
    "semiannual_review": "半年一研究",
    "heart_to_heart": "谈心谈话",
    "political_birthday": "政治生日",
    "probation_conversion": "预备党员转正",
    "fifty_years_honor": "光荣在党50年纪念章",
    "term_expiry": "支部换届",
    "activist_review": "入党积极分子培养考察",
    "monthly_reminder": "每月一提醒",
    "quarterly_supervision": "每季一督导",
    "annual_assessment": "全年一考核",
    "holiday_integrity_reminder": "节假日廉政提醒",
    "xuexi_qiangguo_report": "学习强国通报",
    "semiannual_scoring": "党员全链条打分",
    "dues": "党费交纳",
    "ideology_report": "意识形态工作责任制落实情况报告",
    "rectification": "问题整改",
}
OBLIGATION_ORDER = list(OBLIGATION_LABELS)
ADHOC_LABEL = "其他活动"

ATTENDANCE_MARKS: dict[str, str] = {"present": "出席", "leave": "请假", "absent": "缺席", "proxy": "代签"}
ACTIVITY_STATUS_LABELS: dict[str, str] = {
    "scheduled": "待确认",
    "held": "已召开",
    "not_held": "未召开",
    "cancelled": "已取消",
}


def obligation_label(key: str | None) -> str:
    if key is None:
        return ADHOC_LABEL
    return OBLIGATION_LABELS.get(key, key)


def obligation_sort_key(key: str | None) -> tuple[int, str]:
    if key in OBLIGATION_LABELS:
        return (OBLIGATION_ORDER.index(key), "")
    return (len(OBLIGATION_ORDER), key or "~")


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"
