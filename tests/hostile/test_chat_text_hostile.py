"""#18, text people type: every chat entry point and command-line flag that stores text refuses control
characters and over-long text in one Chinese sentence, the same on SQLite and PostgreSQL, storing nothing; what
is accepted (`[bold]`, `<b>`, `*x*`) is stored, sent and printed verbatim; the terminal never gets a raw control."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from bot import keyboards
from bot.cli import main
from storage import models
from storage.db import transaction
from storage.text import BIDI_CONTROLS, CONTROLS
from tests.chat.dialog import Dialog, press, running_bot
from tests.chat.world import MEETING_START, add_rectification, build_world
from tests.cli_runner import cli_world  # noqa: F401  (a fixture)

T = MEETING_START  # Saturday 15 March 2025, 09:00 in Shanghai
AFTER = T + timedelta(hours=3)  # check-in closed: the secretary may record topic, lecturer and minutes
BEFORE = T - timedelta(days=2)
VERBATIM = "学习[bold]党章[/bold] <b>第一章</b> *原文*"  # rich markup, HTML and Markdown: plain text to us

# The hostile texts chat can carry (a Telegram message holds at most 4,096 characters).
HOSTILE = {
    "nul": ("第一\x00第二", "U+0000"),
    "ansi-escape": ("\x1b[2J\x1b[31m清屏", "U+001B"),
    "right-to-left-override": ("学习\u202e txt.exe", "U+202E"),
    "isolate-and-c1-csi": ("学习\u2066\x9b\u2069", "U+009B、U+2066、U+2069"),
}


def refused(what: str, codes: str) -> str:
    return f"{what}含有不可见的控制字符 {codes}，请删除后重新输入。"


async def roll_then(chat: Dialog, label: str, prompt: str) -> None:
    await chat.deliver("roll_summary", "party_day", to="secretary")
    await chat.step("secretary", press(label), prompt)


async def leave_prompt(chat: Dialog) -> None:
    await chat.step("alice", "/leave", "请选择要请假的活动：")
    await chat.step("alice", press("主题党日"), "📝 您要为「主题党日」请假。请直接回复一句话说明原因：")


async def rectify_prompt(chat: Dialog) -> None:
    await chat.step("secretary", "/rectify", "📋 登记整改事项（第一党支部）\n第1步：请用一句话写出存在的问题。")


async def close_prompt(chat: Dialog) -> None:
    markup = keyboards.rectification(chat.chat.signer, 1, ("close",))
    sent = await chat.app.bot.send_message(chat.user("secretary"), "整改卡片", reply_markup=markup)
    await chat.expect("整改卡片")
    chat.server.user_presses(chat.user("secretary"), chat.user("secretary"), sent.message_id,
                             markup.inline_keyboard[0][0].callback_data)
    await chat.expect("整改 #1「三会一课记录不规范」\n请用一句话写明销号依据（如：整改报告已报党委、制度已印发）。")


async def nothing(chat: Dialog) -> None:
    return None


def add_item(session, world) -> None:  # noqa: ANN001
    add_rectification(session, world, now=BEFORE)


@dataclass(frozen=True)
class Entry:
    """One place chat text is stored: how to get there, how the text is sent, and the whole answers."""

    who: str
    now: object
    prompt: Callable[[Dialog], Awaitable[None]]
    say: Callable[[str], str]  # the message that carries the text
    what: str  # how the refusal names it
    too_long: tuple[str, str] | None  # a text over the column's limit and its whole refusal (None: 4,096 fit)
    accepted: str  # the whole answer to VERBATIM
    stored: Callable[[object], list]  # what the entry's column holds afterwards (session -> values)
    setup: Callable | None = None


def topic_of(session) -> list:  # noqa: ANN001
    return session.scalars(select(models.Activity.topic).where(models.Activity.topic.is_not(None))).all()


ENTRIES = {
    "activity-topic": Entry(
        "secretary", AFTER, lambda chat: roll_then(chat, "记录议题", "请发送「主题党日」的议题："), str, "议题",
        ("题" * 201, "议题太长了：201 个字，最多 200 个字。"), "已记录到「主题党日」。", topic_of),
    "activity-lecturer": Entry(
        "secretary", AFTER, lambda chat: roll_then(chat, "记录主讲人", "请发送「主题党日」的主讲人："), str, "主讲人",
        ("讲" * 101, "主讲人太长了：101 个字，最多 100 个字。"), "已记录到「主题党日」。",
        lambda s: s.scalars(select(models.Activity.lecturer).where(models.Activity.lecturer.is_not(None))).all()),
    "activity-minutes": Entry(
        "secretary", AFTER,
        lambda chat: roll_then(chat, "记录会议记录/照片", "请发送「主题党日」的会议记录（文字，或直接发送照片）："), str,
        "会议记录", None, "已记录到「主题党日」。",
        lambda s: s.scalars(select(models.Activity.minutes).where(models.Activity.minutes.is_not(None))).all()),
    "leave-reason": Entry(
        "alice", BEFORE, leave_prompt, str, "请假原因", ("假" * 301, "请假原因太长了：301 个字，最多 300 个字。"),
        f"已提交请假：「主题党日」，原因：{VERBATIM}。王书记、李副书记审批后会通知您。",
        lambda s: s.scalars(select(models.Attendance.leave_reason)).all()),
    "rectification-problem": Entry(
        "secretary", BEFORE, rectify_prompt, str, "问题", ("问" * 1001, "问题太长了：1001 个字，最多 1000 个字。"),
        f"问题：{VERBATIM}\n第2步：请选择问题来源。",
        lambda s: [p.get("problem") for p in s.scalars(select(models.PendingInput.payload)).all()]),
    "rectification-evidence": Entry(
        "secretary", BEFORE, close_prompt, str, "销号依据", ("据" * 1001, "销号依据太长了：1001 个字，最多 1000 个字。"),
        f"✔️ 已销号：整改 #1「三会一课记录不规范」，依据：{VERBATIM}",
        lambda s: s.scalars(select(models.Rectification.evidence)).all(), add_item),
    "talk-topic": Entry(
        "secretary", BEFORE, nothing, lambda text: f"/talk 张三 昨天 {text}", "话题",
        ("话" * 101, "话题太长了：101 个字，最多 100 个字。"),
        "✅ 已记录：3月12日与张三谈心谈话。\n2025年您还需与 4 位同志谈话：李副书记、李四、赵老、郑新",
        lambda s: s.scalars(select(models.HeartToHeartTalk.topic)).all()),
    "schedule-title": Entry(
        "secretary", BEFORE, nothing, lambda text: f"/schedule {text} 下周三下午3点 三楼会议室", "活动名称",
        ("党" * 201, "活动名称太长了：201 个字，最多 200 个字。"),
        f"🗓 新活动\n活动：{VERBATIM}（第一党支部）\n时间：3月19日（周三）15:00\n"
        "（时间理解为：下周三（2025年3月19日 星期三）下午3点（15:00））\n地点：三楼会议室\n请确认：",
        lambda s: s.scalars(select(models.ScheduleDraft.title)).all()),
    "schedule-place": Entry(
        "secretary", BEFORE, nothing, lambda text: f"/schedule 专题党课 下周三下午3点 {text}", "地点",
        ("楼" * 201, "地点太长了：201 个字，最多 200 个字。"),
        "🗓 新活动\n活动：专题党课（第一党支部）\n时间：3月19日（周三）15:00\n"
        f"（时间理解为：下周三（2025年3月19日 星期三）下午3点（15:00））\n地点：{VERBATIM}\n请确认：",
        lambda s: s.scalars(select(models.ScheduleDraft.place)).all()),
}


@pytest.mark.parametrize("entry", ENTRIES.values(), ids=ENTRIES.keys())
async def test_chat_refuses_hostile_text_and_keeps_the_rest_verbatim(entry, session_factory):
    with transaction(session_factory) as session:
        world = build_world(session)
        if entry.setup is not None:
            entry.setup(session, world)
    async with running_bot(session_factory, world, entry.now) as chat:
        await entry.prompt(chat)
        steps = [(entry.who, entry.say(text), refused(entry.what, codes)) for text, codes in HOSTILE.values()]
        if entry.too_long is not None:
            steps.append((entry.who, entry.say(entry.too_long[0]), entry.too_long[1]))
        await chat.run(steps)
        with transaction(session_factory) as session:
            assert [v for v in entry.stored(session) if v] == []  # refused: nothing kept, the prompt still waits
        await chat.step(entry.who, entry.say(VERBATIM), entry.accepted)
        # Plain text throughout: Telegram reads no markup, so `<b>` and `*` arrive as typed.
        sent = [r for r in chat.server.requests if r.method in ("sendMessage", "editMessageText")]
        assert sent and [r.method for r in sent if "parse_mode" in r.params] == []
    with transaction(session_factory) as session:
        assert entry.stored(session) == [VERBATIM]


async def test_a_minutes_photos_caption_is_typed_text_too(session_factory):
    """The caption of a photo sent for the minutes is held to its column like any typed text: over-long or with
    a control character it is refused in Chinese and nothing is attached; within it, it is kept verbatim."""
    with transaction(session_factory) as session:
        world = build_world(session)
    photo = b"\xff\xd8\xff\xe0fake-jpeg"
    async with running_bot(session_factory, world, AFTER) as chat:
        await roll_then(chat, "记录会议记录/照片", "请发送「主题党日」的会议记录（文字，或直接发送照片）：")
        secretary = chat.user("secretary")
        for caption, answer in [("签" * 1025, "照片说明太长了：1025 个字，最多 1024 个字。"),
                                ("签到表\x1b[2J", refused("照片说明", "U+001B")),
                                (VERBATIM, "照片已保存到会议记录。可以继续发送，或发送文字记录。")]:
            chat.server.user_sends_photo(secretary, photo, caption=caption)
            await chat.expect(answer)
    with transaction(session_factory) as session:
        assert session.scalars(select(models.ActivityAttachment.caption)).all() == [VERBATIM]


@pytest.mark.parametrize(("who", "text", "expected"), [
    pytest.param("5005", "/start AB\x00CD", "绑定码不正确，请核对后重新发送，或向支部书记重新索取。", id="invite-code-nul"),
    pytest.param("5005", "/start " + "A" * 4000, "绑定码不正确，请核对后重新发送，或向支部书记重新索取。", id="invite-code-long"),
    pytest.param("secretary", "/talk 张\x00三 昨天", "本支部没有名叫“张\\x00三”的党员。", id="talk-colleague-nul"),
    pytest.param("secretary", "/talk " + "张" * 4000 + " 昨天", f"本支部没有名叫“{'张' * 4000}”的党员。",
                 id="talk-colleague-long"),
])
async def test_a_lookup_by_text_that_cannot_be_stored_finds_nothing(who, text, expected, session_factory):
    """The same answer as any unknown value on both databases (PostgreSQL refuses NUL even in a WHERE clause)."""
    with transaction(session_factory) as session:
        world = build_world(session)
    async with running_bot(session_factory, world, BEFORE) as chat:
        await chat.step(who, text, expected)


LONGEST = "长" * 100_000  # the command line has no 4,096-character limit


@pytest.mark.parametrize(("argv", "error"), [
    pytest.param(["activity", "record", "ID", "--topic", "\x1b[31m红色"], refused("议题", "U+001B"), id="record-topic-esc"),
    pytest.param(["activity", "record", "ID", "--lecturer", LONGEST], "主讲人太长了：100000 个字，最多 100 个字。",
                 id="record-lecturer-100k"),
    pytest.param(["activity", "confirm", "ID", "--held", "--minutes", "记录\u202e"], refused("会议记录", "U+202E"),
                 id="confirm-minutes-rlo"),
    pytest.param(["activity", "proxy", "ID", "P004", "--leave", "出差\x1b]0;title\x07"], refused("请假原因", "U+0007、U+001B"),
                 id="proxy-leave-osc"),
    pytest.param(["activity", "add", "--org", "B01", "--title", "党课\u2067", "--at", "2025-03-20 15:00"],
                 refused("活动名称", "U+2067"), id="add-title-isolate"),
    pytest.param(["activity", "add", "--org", "B01", "--title", "党课", "--place", LONGEST, "--at", "2025-03-20 15:00"],
                 "地点太长了：100000 个字，最多 200 个字。", id="add-place-100k"),
    pytest.param(["rectification", "add", "--org", "B01", "--problem", "问题\x9b2J", "--source", "组织生活会",
                  "--measures", "措施", "--owner", "P003", "--deadline", "本月底前", "--by", "P001"],
                 refused("问题", "U+009B"), id="rectification-problem-csi"),
    pytest.param(["rectification", "add", "--org", "B01", "--problem", "问题", "--source", "组织生活会",
                  "--measures", LONGEST, "--owner", "P003", "--deadline", "本月底前", "--by", "P001"],
                 "整改措施太长了：100000 个字，最多 1000 个字。", id="rectification-measures-100k"),
])
def test_the_command_line_refuses_the_same(argv, error, session_factory, cli_world, capsys):
    world = cli_world
    before = stored_text(session_factory)
    argv = [str(world.activities["party_day"]) if word == "ID" else word for word in argv]
    extra = ["--now", AFTER.isoformat()] if argv[0] == "activity" else []
    assert main([*argv, *extra]) == 2
    assert capsys.readouterr() == ("", f"错误：{error}\n")
    assert stored_text(session_factory) == before


def stored_text(factory) -> dict:  # noqa: ANN001
    """Every column people's text lands in, and the audit log (a refusal writes no row anywhere)."""
    with transaction(factory) as session:
        return {
            "activities": session.execute(select(models.Activity.title, models.Activity.place, models.Activity.topic,
                                                 models.Activity.lecturer, models.Activity.minutes)
                                          .order_by(models.Activity.id)).all(),
            "attendance": session.execute(select(models.Attendance.member_id, models.Attendance.leave_reason)).all(),
            "rectifications": session.execute(select(models.Rectification.problem, models.Rectification.measures)).all(),
            "audit": session.scalar(select(models.AuditEntry.id).order_by(models.AuditEntry.id.desc()).limit(1)),
        }


HOSTILE_TITLE = "\x1b[2J[bold]党课[/bold]\u202e<b>"


def test_terminal_output_escapes_controls_and_shows_markup_as_text(session_factory, cli_world, capsys):
    """Rows written before the rule (or by hand) still reach no terminal raw: every printer goes through it."""
    world = cli_world
    with transaction(session_factory) as session:
        activity = session.get(models.Activity, world.activities["party_day"])
        activity.title, activity.status = HOSTILE_TITLE, models.ActivityStatus.HELD.value
        session.get(models.Member, world.members["alice"]).name = "张\x1b[8m三[red]"
        session.add(models.Rectification(
            org_id=world.orgs["B01"], raised_by_org_id=world.orgs["B01"], problem=HOSTILE_TITLE, source="组织生活会",
            measures="措施\x1b[0m", due_on=date(2025, 3, 31), deadline_text="本月底前", created_at=BEFORE))
    shown = "\\u001b[2J[bold]党课[/bold]\\u202e<b>"
    for argv, expected in [
        (["report", "attendance", "--org", "B01", "--from", "2025-03-01", "--to", "2025-03-31", "--format", "table"],
         shown),
        (["rectification", "list", "--org", "B01"], shown),
        (["activity", "roll", str(world.activities["party_day"]), "--now", AFTER.isoformat()], "张\\u001b[8m三[red]"),
    ]:
        assert main(argv) == 0, argv
        out, err = capsys.readouterr()
        assert expected in out, (argv, out)
        assert [c for c in CONTROLS.findall(out + err) if c not in "\n\t"] == [], argv


def test_the_control_pattern_is_the_roster_rule():
    """`CONTROLS` holds exactly C0, DEL and C1 (Cc), lone surrogates (Cs), the line and paragraph separators (Zl,
    Zp) and the bidi marks, embeddings, overrides and isolates."""
    hidden = {"Cc", "Cs", "Zl", "Zp"}
    expected = {chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) in hidden} | BIDI_CONTROLS
    assert {chr(c) for c in range(0x110000) if CONTROLS.match(chr(c))} == expected
