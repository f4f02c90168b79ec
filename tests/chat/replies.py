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
