"""parse_mode like Telegram: the text users see, entities in UTF-16 units, and the markup errors Telegram reports."""

from __future__ import annotations

import pytest

from bot.sandbox.botapi.formatting import command_entities, parse_formatted, strip_text, utf16_length
from bot.sandbox.spec import ValidationError


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
