"""parse_mode like Telegram: the text users see, entities in UTF-16 units, and the markup errors Telegram reports."""

from __future__ import annotations

import pytest

from loopback.formatting import command_entities, parse_formatted, strip_text, utf16_length
from loopback.spec import ValidationError


def entity(kind: str, offset: int, length: int, **extra: object) -> dict:
    return {"type": kind, "offset": offset, "length": length, **extra}


@pytest.mark.parametrize(
    ("source", "mode", "text", "entities"),
    [
        pytest.param("plain *not bold*", None, "plain *not bold*", [], id="no-parse-mode"),
        pytest.param("<b>主题党日</b> 提醒", "HTML", "主题党日 提醒", [entity("bold", 0, 4)], id="html-bold-chinese"),
        pytest.param("😀<i>x</i>", "HTML", "😀x", [entity("italic", 2, 1)], id="html-offsets-in-utf16"),
        pytest.param('<a href="https://t.me/x">链接</a>', "HTML", "链接",
                     [entity("text_link", 0, 2, url="https://t.me/x")], id="html-link"),
        pytest.param('<pre><code class="language-python">x=1</code></pre>', "HTML", "x=1",
                     [entity("pre", 0, 3, language="python")], id="html-pre-language"),
        pytest.param("a &lt;b&gt; &amp; c", "HTML", "a <b> & c", [], id="html-escapes"),
        pytest.param("<b>粗<i>斜</i></b>", "HTML", "粗斜", [entity("bold", 0, 2), entity("italic", 1, 1)],
                     id="html-nested"),
        pytest.param("*粗* _斜_ __下__ ~删~ ||剧透||", "MarkdownV2", "粗 斜 下 删 剧透",
                     [entity("bold", 0, 1), entity("italic", 2, 1), entity("underline", 4, 1),
                      entity("strikethrough", 6, 1), entity("spoiler", 8, 2)], id="mdv2-styles"),
        pytest.param(r"2025\-03\-05 10:00\.", "MarkdownV2", "2025-03-05 10:00.", [], id="mdv2-escaped-reserved"),
        pytest.param("[链接](https://t.me/x)", "MarkdownV2", "链接", [entity("text_link", 0, 2, url="https://t.me/x")],
                     id="mdv2-link"),
        pytest.param("`a.b`", "MarkdownV2", "a.b", [entity("code", 0, 3)], id="mdv2-code-needs-no-escapes"),
        pytest.param('<tg-time unix="1647531900" format="wDT">明天 22:45</tg-time>', "HTML", "明天 22:45",
                     [entity("date_time", 0, 8, unix_time=1647531900, date_time_format="wDT")], id="html-date-time"),
        pytest.param("a&nbsp;b &#20826; &#x515A;", "HTML", "a&nbsp;b 党 党", [], id="html-only-four-named-entities"),
        pytest.param("![22:45](tg://time?unix=1647531900&format=t)", "MarkdownV2", "22:45",
                     [entity("date_time", 0, 5, unix_time=1647531900, date_time_format="t")], id="mdv2-date-time"),
        pytest.param("**>折叠的引用\n>第二行||", "MarkdownV2", "折叠的引用\n第二行",
                     [entity("expandable_blockquote", 0, 9)], id="mdv2-expandable-quote"),
        pytest.param(">引用\n正文", "MarkdownV2", "引用\n正文", [entity("blockquote", 0, 3)], id="mdv2-quote"),
        pytest.param("*粗* _斜_ `码`", "Markdown", "粗 斜 码",
                     [entity("bold", 0, 1), entity("italic", 2, 1), entity("code", 4, 1)], id="markdown-legacy"),
    ],
)
def test_parse_formatted(source, mode, text, entities) -> None:
    assert parse_formatted(source, mode) == (text, entities)


@pytest.mark.parametrize(
    ("source", "mode", "error"),
    [
        pytest.param("<b>未闭合", "HTML", 'Can\'t find end tag corresponding to start tag "b"', id="html-unclosed"),
        pytest.param("<b>x</i>", "HTML", 'expected "</b>", found "</i>"', id="html-mismatched"),
        pytest.param("<div>x</div>", "HTML", 'Unsupported start tag "div" at byte offset 0', id="html-unsupported-tag"),
        pytest.param("会议于10:00开始.", "MarkdownV2", "Character '.' is reserved", id="mdv2-unescaped-dot"),
        pytest.param("签到-请假", "MarkdownV2", "Character '-' is reserved", id="mdv2-unescaped-dash"),
        pytest.param("*粗", "MarkdownV2", "Can't find end of the entity starting at byte offset 0", id="mdv2-unclosed"),
        pytest.param('<tg-time unix="x">t</tg-time>', "HTML", "Invalid Unix time", id="html-date-time-bad-unix"),
        pytest.param('<tg-time unix="1" format="q">t</tg-time>', "HTML", 'Invalid date-time format "q"',
                     id="html-date-time-bad-format"),
        pytest.param("<!-- note -->x", "HTML", "Unsupported start tag", id="html-comment"),
        pytest.param("*粗", "Markdown", "Can't find end of the entity starting at byte offset 0", id="markdown-unclosed"),
    ],
)
def test_markup_errors(source, mode, error) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_formatted(source, mode)
    assert caught.value.description.startswith("can't parse entities: ")
    assert error in caught.value.description


def test_surrounding_whitespace_is_trimmed_and_entities_follow() -> None:
    assert strip_text("  粗体  ", [entity("bold", 2, 2)]) == ("粗体", [entity("bold", 0, 2)])


@pytest.mark.parametrize(
    ("text", "commands"),
    [
        pytest.param("/start CODE", [entity("bot_command", 0, 6)], id="start-with-code"),
        pytest.param("/checkin@branchbot_sandbox_bot", [entity("bot_command", 0, 30)], id="addressed-command"),
        pytest.param("请 /leave 明天", [entity("bot_command", 2, 6)], id="command-mid-text"),
        pytest.param("http://a/b", [], id="slash-in-url-is-no-command"),
    ],
)
def test_command_entities(text, commands) -> None:
    assert command_entities(text) == commands


def test_utf16_length_counts_surrogate_pairs() -> None:
    assert (utf16_length("党"), utf16_length("😀")) == (1, 2)


def test_links_to_known_users_become_text_mentions() -> None:
    zhang = {"id": 2001, "is_bot": False, "first_name": "张三"}
    text, entities = parse_formatted('<a href="tg://user?id=2001">张三</a> 请签到', "HTML", {2001: zhang})
    assert (text, entities) == ("张三 请签到", [entity("text_mention", 0, 2, user=zhang)])
    assert parse_formatted('<a href="tg://user?id=9">某人</a>', "HTML", {2001: zhang})[1][0]["type"] == "text_link"
