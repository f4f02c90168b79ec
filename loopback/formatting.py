"""Telegram's text formatting: parse_mode (HTML, MarkdownV2, Markdown) into plain text and UTF-16 entities."""

from __future__ import annotations

import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

from loopback.spec import ValidationError

PARSE_MODES = ("HTML", "MarkdownV2", "Markdown")
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")


def utf16_length(text: str) -> int:
    """Telegram measures offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


class _Builder:
    """Accumulates plain text and open/closed entities while a parser walks the marked-up source."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0  # in UTF-16 units
        self.entities: list[dict[str, Any]] = []

    def add(self, text: str) -> None:
        if text:
            self.parts.append(text)
            self.length += utf16_length(text)

    def open(self, entity_type: str, **extra: Any) -> dict[str, Any]:
        return {"type": entity_type, "offset": self.length, **extra}

    def close(self, entity: dict[str, Any]) -> None:
        entity["length"] = self.length - entity["offset"]
        if entity["length"] > 0:
            self.entities.append(entity)

    def text(self) -> str:
        return "".join(self.parts)


def _parse_error(message: str) -> ValidationError:
    return ValidationError(f"can't parse entities: {message}")


_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough", "tg-spoiler": "spoiler",
    "code": "code", "pre": "pre", "a": "text_link", "span": "spoiler", "blockquote": "blockquote",
    "tg-emoji": "custom_emoji", "tg-time": "date_time",
}
# Telegram knows only these named entities; numeric ones all work. Anything else stays as typed.
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_DATE_TIME_FORMAT = re.compile(r"r|w?[dD]?[tT]?")
_USER_LINK = re.compile(r"tg://user\?id=(\d+)$")


def _date_time(unix: str | None, date_format: str | None, where: str) -> dict[str, Any]:
    if unix is None or not unix.lstrip("-").isdigit():
        raise _parse_error(f"Invalid Unix time specified {where}")
    extra: dict[str, Any] = {"unix_time": int(unix)}
    if date_format:
        if not _DATE_TIME_FORMAT.fullmatch(date_format):
            raise _parse_error(f"Invalid date-time format \"{date_format}\" specified {where}")
        extra["date_time_format"] = date_format
    return extra


class _TelegramHtml(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.builder = _Builder()
        self.stack: list[tuple[str, dict[str, Any]]] = []
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", source)]

    def _offset(self) -> int:
        line, column = self.getpos()
        return _byte_offset(self.source, self._line_starts[line - 1] + column)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        entity_type = _HTML_TAGS.get(tag)
        attributes = dict(attrs)
        if entity_type is None or (tag == "span" and attributes.get("class") != "tg-spoiler"):
            raise _parse_error(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')
        extra: dict[str, Any] = {}
        if tag == "a":
            href = attributes.get("href")
            if not href:
                raise _parse_error(f"Can't find URL of a text link at byte offset {self._offset()}")
            extra["url"] = href
        elif tag == "blockquote" and "expandable" in attributes:
            entity_type = "expandable_blockquote"
        elif tag == "tg-emoji":
            extra["custom_emoji_id"] = attributes.get("emoji-id") or ""
        elif tag == "tg-time":
            extra.update(_date_time(attributes.get("unix"), attributes.get("format"),
                                    f"at byte offset {self._offset()}"))
        elif tag == "code" and self.stack and self.stack[-1][0] == "pre":
            language = (attributes.get("class") or "").removeprefix("language-")
            if language:
                self.stack[-1][1]["language"] = language
            self.stack.append((tag, {}))  # the code inside pre only names the language
            return
        self.stack.append((tag, self.builder.open(entity_type, **extra)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise _parse_error(f'Unsupported start tag "{tag}/" at byte offset {self._offset()}')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise _parse_error(f'Unexpected end tag at byte offset {self._offset()}')
        open_tag, entity = self.stack.pop()
        if open_tag != tag:
            raise _parse_error(
                f'Unmatched end tag at byte offset {self._offset()}, expected "</{open_tag}>", found "</{tag}>"'
            )
        if entity:
            self.builder.close(entity)

    def handle_data(self, data: str) -> None:
        self.builder.add(data)

    def handle_entityref(self, name: str) -> None:
        self.builder.add(_NAMED_ENTITIES.get(name, f"&{name};"))

    def handle_charref(self, name: str) -> None:
        try:
            code = int(name[1:], 16) if name[:1] in "xX" else int(name)
            self.builder.add(chr(code))
        except (ValueError, OverflowError):
            raise _parse_error(f"Invalid numeric HTML entity &#{name}; at byte offset {self._offset()}") from None

    def handle_comment(self, data: str) -> None:
        raise _parse_error(f"Unsupported start tag \"!--\" at byte offset {self._offset()}")

    def handle_decl(self, decl: str) -> None:
        raise _parse_error(f"Unsupported start tag \"!{decl.split()[0] if decl else ''}\" at byte offset {self._offset()}")

    def finish(self) -> _Builder:
        self.close()
        if self.stack:
            raise _parse_error(f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"')
        return self.builder


def _parse_html(source: str) -> _Builder:
    parser = _TelegramHtml(source)
    parser.feed(source)
    return parser.finish()


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MDV2_NAMES = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}


def _parse_markdown_v2(source: str) -> _Builder:
    builder = _Builder()
    open_marks: dict[str, tuple[dict[str, Any], int]] = {}
    link_stack: list[tuple[dict[str, Any], int]] = []
    i, n = 0, len(source)
    at_line_start = True
    quote: dict[str, Any] | None = None
    while i < n:
        char = source[i]
        if at_line_start:
            at_line_start = False
            if source.startswith("**>", i):
                if quote is not None:
                    builder.close(quote)
                quote = builder.open("expandable_blockquote")
                i += 3
                continue
            if char == ">":
                if quote is None:
                    quote = builder.open("blockquote")
                i += 1
                continue
            if quote is not None:
                builder.close(quote)
                quote = None
        if char == "\\":
            if i + 1 < n and 0 < ord(source[i + 1]) < 127:
                builder.add(source[i + 1])
                i += 2
                continue
            raise _parse_error(f"Character '\\' is reserved and must be escaped at byte offset {_byte_offset(source, i)}")
        if char == "`":
            fence = source.startswith("```", i)
            marker = "```" if fence else "`"
            start = i
            i += len(marker)
            language = ""
            if fence:
                newline = source.find("\n", i)
                closing = source.find("```", i)
                if 0 <= newline < (closing if closing >= 0 else n):
                    language = source[i:newline].strip()
                    i = newline + 1
            entity = builder.open("pre" if fence else "code", **({"language": language} if language else {}))
            while i < n and not source.startswith(marker, i):
                if source[i] == "\\" and i + 1 < n and source[i + 1] in "`\\":
                    builder.add(source[i + 1])
                    i += 2
                    continue
                builder.add(source[i])
                i += 1
            if i >= n:
                raise _parse_error(f"Can't find end of {'Pre' if fence else 'Code'} entity at byte offset {_byte_offset(source, start)}")
            i += len(marker)
            builder.close(entity)
            continue
        if char == "!" and source.startswith("![", i):
            link_stack.append((builder.open("custom_emoji"), i))
            i += 2
            continue
        if char == "[":
            link_stack.append((builder.open("text_link"), i))
            i += 1
            continue
        if char == "]" and link_stack:
            entity, start = link_stack.pop()
            if not source.startswith("(", i + 1):
                raise _parse_error(f"Can't find end of a URL at byte offset {_byte_offset(source, i)}")
            end = i + 2
            url_chars: list[str] = []
            while end < n and source[end] != ")":
                if source[end] == "\\" and end + 1 < n:
                    end += 1
                url_chars.append(source[end])
                end += 1
            if end >= n:
                raise _parse_error(f"Can't find end of a URL at byte offset {_byte_offset(source, i)}")
            url = "".join(url_chars)
            if entity["type"] == "custom_emoji":
                entity.update(_special_link(url, f"at byte offset {_byte_offset(source, start)}"))
            else:
                entity["url"] = url
            builder.close(entity)
            i = end + 1
            continue
        if (quote is not None and quote["type"] == "expandable_blockquote" and source.startswith("||", i)
                and "||" not in open_marks and (i + 2 == n or source[i + 2] == "\n")):
            builder.close(quote)  # "||" at the end of an expandable quotation marks where it folds
            quote = None
            i += 2
            continue
        mark = None
        for candidate in ("__", "||", "*", "_", "~"):
            if source.startswith(candidate, i):
                mark = candidate
                break
        if mark is not None:
            if mark in open_marks:
                entity, _ = open_marks.pop(mark)
                builder.close(entity)
            else:
                open_marks[mark] = (builder.open(_MDV2_NAMES[mark]), i)
            i += len(mark)
            continue
        if char in _MDV2_RESERVED:
            raise _parse_error(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        builder.add(char)
        if char == "\n":
            at_line_start = True
        i += 1
    if quote is not None:
        builder.close(quote)
    if open_marks or link_stack:
        starts = [start for _, start in open_marks.values()] + [start for _, start in link_stack]
        raise _parse_error(f"Can't find end of the entity starting at byte offset {_byte_offset(source, min(starts))}")
    return builder


def _special_link(url: str, where: str) -> dict[str, Any]:
    """The target of "![alt](tg://emoji?id=...)" or "![alt](tg://time?unix=...&format=...)"."""
    if url.startswith("tg://emoji?id="):
        return {"custom_emoji_id": url.removeprefix("tg://emoji?id=")}
    if url.startswith("tg://time?"):
        query = dict(part.partition("=")[::2] for part in url.removeprefix("tg://time?").split("&"))
        return {"type": "date_time", **_date_time(query.get("unix"), query.get("format"), where)}
    raise _parse_error(f"Unsupported URL \"{url}\" of a custom emoji or date-time entity {where}")


_LEGACY_NAMES = {"*": "bold", "_": "italic"}


def _parse_markdown(source: str) -> _Builder:
    builder = _Builder()
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char == "\\" and i + 1 < n and source[i + 1] in "_*`[":
            builder.add(source[i + 1])
            i += 2
            continue
        if char in "*_`" or char == "[":
            start = i
            if char == "[":
                close = source.find("](", i + 1)
                end = source.find(")", close + 2) if close >= 0 else -1
                if close < 0 or end < 0:
                    raise _parse_error(f"Can't find end of the entity starting at byte offset {_byte_offset(source, start)}")
                entity = builder.open("text_link", url=source[close + 2:end])
                builder.add(source[i + 1:close])
                builder.close(entity)
                i = end + 1
                continue
            marker = "```" if source.startswith("```", i) else char
            end = source.find(marker, i + len(marker))
            if end < 0:
                raise _parse_error(f"Can't find end of the entity starting at byte offset {_byte_offset(source, start)}")
            inner = source[i + len(marker):end]
            entity_type = {"```": "pre", "`": "code"}.get(marker) or _LEGACY_NAMES[marker]
            entity = builder.open(entity_type)
            builder.add(inner)
            builder.close(entity)
            i = end + len(marker)
            continue
        builder.add(char)
        i += 1
    return builder


def parse_formatted(text: str, parse_mode: str | None,
                    users: Mapping[int, dict[str, Any]] | None = None) -> tuple[str, list[dict[str, Any]]]:
    """The text a user sees and its entities; raises ValidationError like Telegram for bad markup.

    Links to tg://user?id=N of a user in `users` become text_mention entities, as Telegram makes them.
    """
    if parse_mode is None or parse_mode == "":
        return text, []
    if parse_mode == "HTML":
        if "<" not in text and "&" not in text:
            return text, []
        builder = _parse_html(text)
    elif parse_mode == "MarkdownV2":
        builder = _parse_markdown_v2(text)
    elif parse_mode == "Markdown":
        builder = _parse_markdown(text)
    else:
        raise ValidationError(f"unsupported parse_mode {parse_mode!r}")
    entities = sorted(builder.entities, key=lambda e: (e["offset"], -e["length"]))
    if users:
        for entity in entities:
            match = _USER_LINK.match(entity.get("url", "")) if entity["type"] == "text_link" else None
            if match and int(match.group(1)) in users:
                del entity["url"]
                entity.update(type="text_mention", user=dict(users[int(match.group(1))]))
    return builder.text(), entities


def strip_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims surrounding whitespace from message text; entities move and clip with it."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_length(text[: len(text) - len(text.lstrip())])
    total = utf16_length(stripped)
    adjusted = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            adjusted.append({**entity, "offset": start, "length": end - start})
    return stripped, adjusted


def command_entities(text: str) -> list[dict[str, Any]]:
    """bot_command entities as Telegram's clients mark them (/start, /checkin@bot)."""
    entities = []
    for match in _COMMAND.finditer(text):
        entities.append({
            "type": "bot_command",
            "offset": utf16_length(text[: match.start()]),
            "length": utf16_length(match.group(0)),
        })
    return entities
