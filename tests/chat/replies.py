"""Whole replies that several chat tests expect, written out once (literal text, not read from bot/texts.py)."""

from __future__ import annotations

# /help for a member without roles, in private or in a group.
MEMBER_HELP = ("📖 使用说明\n"
               "/upcoming 我接下来的活动\n"
               "/checkin 为正在进行的活动签到\n"
               "/leave 请假（随后说明原因）\n"
               "/me 我今年的出勤、政治生日和待补学内容\n"
               "/calendar 我的活动日历（.ics，可导入手机日历）\n"
               "/talk 姓名 日期 [话题] 记录一次谈心谈话（不记录谈话内容）\n"
               "/rectifications 我负责的整改事项（可添加进展、照片和文件）\n"
               "/help 显示本说明\n"
               "收到活动提醒时，也可以直接点“✅ 签到”或“📝 请假”。")

# bob's reminder of B01's 主题党日 one day before, once his leave (reason 单位值班) awaits the secretary.
PARTY_DAY_REMINDER_LEAVE_PENDING = ("⏰ 活动提醒：主题党日\n"
                                    "时间：3月15日（周六）09:00（1天后）\n"
                                    "组织：第一党支部\n"
                                    "地点：三楼会议室\n"
                                    "议程：学习党章\n"
                                    "请按时参加；如不能参加，请提前请假。\n"
                                    "\n"
                                    "📝 已请假（原因：单位值班），等待书记审批")

# The roll of B01's 主题党日 when only 张三 (alice) checked in and nobody asked for leave: /absent's, and the
# secretary's once the check-in has closed.
PARTY_DAY_ABSENT_ONLY_ALICE = ("📋 「主题党日」（3月15日（周六）09:00）签到情况\n"
                               "已签到（1）：张三\n"
                               "请假（0）：无\n"
                               "未签到（5）：王书记、李副书记、李四、赵老、郑新\n"
                               "其中无法联系（未绑定或已屏蔽，2）：赵老、郑新")
PARTY_DAY_ROLL_ONLY_ALICE = (PARTY_DAY_ABSENT_ONLY_ALICE + "\n"
                             "\n"
                             "签到已结束。请确认活动是否召开，并可记录议题、主讲人和会议记录。\n"
                             "点“✅ 已召开”后，可为未答复的 5 人逐一代签、登记请假或记为缺席，再确认召开。")


def party_day_card(signed: int, leave: int, unanswered: int) -> str:
    """The 主题党日's card in B01's group with these figures (its tally is edited as people answer)."""
    return ("📣 主题党日\n时间：3月15日（周六）09:00\n地点：三楼会议室\n议程：学习党章\n组织：第一党支部\n\n"
            f"签到时间：3月15日（周六）08:30 至 11:00\n已签到 {signed} 人 · 请假 {leave} 人 · 未答复 {unanswered} 人")

