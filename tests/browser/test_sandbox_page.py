"""The sandbox in a real browser: bind a member, receive a reminder, press 签到, watch the secretary's summary."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

URL_LINE = re.compile(r"(http://127\.0\.0\.1:\d+/)")
# The morning of the demo branch's 主题党日 and 党课 (局机关第一党支部, 2026-11-16).
CLOCK_START = "2026-11-16T07:00:00+08:00"
MEMBER = "1007"  # 杨帆, an ordinary member of B01
SECRETARY = "1002"  # 王建国, B01 书记
STARTUP_SECONDS = 90
MAX_CLICKS = 20
pytestmark = pytest.mark.slow


@dataclass
class RunningSandbox:
    url: str
    process: subprocess.Popen
    lines: queue.Queue[str]

    def output(self) -> str:
        collected = []
        while not self.lines.empty():
            collected.append(self.lines.get_nowait())
        return "".join(collected)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    """`branchbot sandbox --port 0` as a person would start it, on a fresh database in tmp_path."""
    env = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL")}
    env.update({
        "BRANCHBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.db'}",
        "BRANCHBOT_CLOCK_START": CLOCK_START,
        "PYTHONUNBUFFERED": "1",
    })
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "sandbox", "--port", "0"], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    url = None
    while url is None:
        try:
            line = lines.get(timeout=STARTUP_SECONDS)
        except queue.Empty:
            break
        seen.append(line)
        if (match := URL_LINE.search(line)) is not None:
            url = match.group(1)
    if url is None:
        process.kill()
        pytest.fail("the sandbox did not print its address:\n" + "".join(seen))
    running = RunningSandbox(url, process, lines)
    try:
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail("the sandbox did not stop on SIGTERM:\n" + running.output())
        assert code == 0, "the sandbox should exit cleanly on SIGTERM:\n" + running.output()


def open_as(browser, url: str, member_no: str):  # noqa: ANN001, ANN201
    """A tab playing one person: pick them in the list and bind them with a one-click invite code."""
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page.goto(url)
    page.locator(f'[data-testid="person"][data-member-no="{member_no}"]').click()
    page.get_by_test_id("bind-button").click()
    private = page.locator('[data-chat-type="private"]')
    private.get_by_text("欢迎您").wait_for()
    page.get_by_test_id("bind-banner").wait_for(state="hidden")
    return page


def advance_to_next_reminder(page) -> None:  # noqa: ANN001
    page.get_by_test_id("advance-next").click()
    page.wait_for_function("() => !document.querySelector('[data-testid=advance-next]').disabled")


def test_member_checks_in_and_the_secretary_gets_the_roll(sandbox: RunningSandbox, browser, artifacts_dir: Path) -> None:  # noqa: ANN001
    member = open_as(browser, sandbox.url, MEMBER)
    secretary = open_as(browser, sandbox.url, SECRETARY)
    assert "2026年11月16日（周一）07:00" in member.get_by_test_id("clock-now").inner_text()

    # The member runs the clock forward until a reminder's ✅ 签到 is accepted.
    member_chat = member.locator('[data-chat-type="private"]')
    answer = ""
    for _ in range(MAX_CLICKS):
        advance_to_next_reminder(member)
        buttons = member_chat.locator('[data-testid="inline-button"]', has_text="签到")
        if buttons.count() == 0:
            continue
        member.evaluate("() => document.querySelectorAll('[data-testid=notice]').forEach(n => n.remove())")
        buttons.last.click()
        answer = member.get_by_test_id("notice").last.inner_text()
        if "签到成功" in answer:
            break
    assert "签到成功" in answer, f"no reminder could be checked in; last answer: {answer!r}"
    title = re.search(r"「(.+?)」", answer).group(1)
    member_chat.get_by_text("✅ 已签到").first.wait_for()  # the reminder was edited in place

    # The secretary's tab saw the clock move too; running it on, the roll arrives when the window closes.
    secretary_chat = secretary.locator('[data-chat-type="private"]')
    rolls = secretary_chat.locator('[data-testid="message"]', has_text=f"「{title}」").filter(has_text="签到情况")
    for _ in range(MAX_CLICKS):
        if rolls.count():
            break
        advance_to_next_reminder(secretary)
    rolls.last.wait_for()
    assert re.search(r"已签到（\d+）：[^\n]*杨帆", rolls.last.inner_text())

    member.screenshot(path=str(artifacts_dir / "sandbox-member.png"), full_page=True)
    secretary.screenshot(path=str(artifacts_dir / "sandbox-secretary.png"), full_page=True)


def single_line(page, selector: str) -> list[str]:  # noqa: ANN001
    """The labels of visible buttons matching `selector` that wrapped onto more than one line."""
    return page.evaluate("""(selector) => [...document.querySelectorAll(selector)]
        .filter(b => b.offsetParent !== null)
        .filter(b => {
          const style = getComputedStyle(b);
          const inner = b.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
          return inner > parseFloat(style.lineHeight || style.fontSize * 1.5) * 1.5;
        })
        .map(b => b.textContent)""", selector)


def outside_their_pane(page) -> list[str]:  # noqa: ANN001
    """Buttons of a chat pane that stick out of it (cut off by a narrow pane)."""
    return page.evaluate("""() => [...document.querySelectorAll('[data-testid=chat] button')]
        .filter(b => b.offsetParent !== null)
        .filter(b => b.getBoundingClientRect().right > b.closest('[data-testid=chat]').getBoundingClientRect().right + 1)
        .map(b => b.textContent)""")


def test_on_a_phone_the_list_is_above_chats_open_at_the_newest_and_the_clock_stays(
        sandbox: RunningSandbox, browser, artifacts_dir: Path) -> None:  # noqa: ANN001
    page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True)
    page.goto(sandbox.url)
    assert page.get_by_test_id("who").inner_text() == "请在上方的名单中选择一个人。"
    page.screenshot(path=str(artifacts_dir / "sandbox-phone-start.png"))
    page.locator(f'[data-testid="person"][data-member-no="{SECRETARY}"]').click()
    page.get_by_test_id("bind-button").click()
    private = page.locator('[data-chat-type="private"]')
    private.get_by_text("欢迎您").wait_for()
    advance_to_next_reminder(page)
    private.get_by_text("活动提醒").first.wait_for()
    page.wait_for_timeout(300)  # the scroll to the newest message happens on the next animation frame
    newest = private.locator(".messages").evaluate("list => list.scrollHeight - list.scrollTop - list.clientHeight")
    assert newest < 5, "the private chat should show its newest message"
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    button = page.get_by_test_id("advance-next").bounding_box()
    assert button is not None and 0 <= button["y"] < 844, "the clock buttons should stay on screen"
    assert single_line(page, "button, [data-testid=inline-button]") == []
    page.screenshot(path=str(artifacts_dir / "sandbox-phone-scrolled.png"))


def test_four_chat_panes_keep_their_buttons_on_one_line(sandbox: RunningSandbox, browser, artifacts_dir: Path) -> None:  # noqa: ANN001
    secretary = open_as(browser, sandbox.url, SECRETARY)
    assert secretary.locator('[data-testid="chat"]').count() == 4
    chat = secretary.locator('[data-chat-type="private"]')
    chat.locator('input[name="text"]').fill("/schedule 专题党课 明天下午3点 三楼会议室")
    chat.get_by_role("button", name="发送").click()
    chat.locator('[data-testid="inline-button"]', has_text="确认").first.wait_for(timeout=90_000)  # a loaded machine parses slowly
    assert single_line(secretary, "button, [data-testid=inline-button]") == []
    assert outside_their_pane(secretary) == []
    secretary.screenshot(path=str(artifacts_dir / "sandbox-four-panes.png"))
