"""Text formatting as Telegram applies it: parse modes, bot-command entities and UTF-16 offsets.

Telegram answers 400 `can't parse entities` for malformed markup; the sandbox does too, so a bridge that
relays unescaped user text with a parse mode fails here as it would in production.
See https://core.telegram.org/bots/api#formatting-options.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from sandboxes.telegram.errors import ApiError, bad_request
from sandboxes.telegram.model import Entity

_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "a": "text_link",
    "span": "spoiler",
}
_MD_MARKERS = {"||": "spoiler", "__": "underline", "*": "bold", "_": "italic", "~": "strikethrough"}
_MD_RESERVED = set("_*[]()~`>#+-=|{}.!")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> tuple[Entity, ...]:
    """`bot_command` entities for each /command, so PTB's CommandHandler matches injected text."""
    return tuple(
        Entity("bot_command", utf16_len(text[: m.start()]), utf16_len(m.group())) for m in _COMMAND.finditer(text)
    )


def _parse_error(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


class _HtmlToEntities(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""
        self.entities: list[Entity] = []
        self.open: list[tuple[str, int, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag not in _HTML_TAGS or (tag == "span" and attributes.get("class") != "tg-spoiler"):
            raise _parse_error(f'Unsupported start tag "{tag}"')
        self.open.append((tag, utf16_len(self.text), attributes.get("href")))

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1][0] != tag:
            raise _parse_error(f'Unmatched end tag "{tag}"')
        _, start, href = self.open.pop()
        length = utf16_len(self.text) - start
        if length:
            self.entities.append(Entity(_HTML_TAGS[tag], start, length, href))

    def handle_data(self, data: str) -> None:
        self.text += data


def _parse_html(text: str) -> tuple[str, tuple[Entity, ...]]:
    parser = _HtmlToEntities()
    parser.feed(text)
    parser.close()
    if parser.open:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{parser.open[-1][0]}"')
    return parser.text, tuple(sorted(parser.entities, key=lambda e: e.offset))


def _md_marker(text: str, index: int) -> str | None:
    for marker in _MD_MARKERS:
        if text.startswith(marker, index):
            return marker
    return None


class _MarkdownV2:
    """A lenient MarkdownV2 reader: checks escaping and turns paired markers into entities.

    Links keep their brackets as plain text; inside `code` only the backtick toggles.
    """

    def __init__(self, text: str) -> None:
        self.src = text
        self.out: list[str] = []
        self.open_at: dict[str, int] = {}
        self.entities: list[Entity] = []

    def here(self) -> int:
        return utf16_len("".join(self.out))

    def toggle(self, marker: str, entity_type: str) -> None:
        if marker in self.open_at:
            start = self.open_at.pop(marker)
            self.entities.append(Entity(entity_type, start, self.here() - start))
        else:
            self.open_at[marker] = self.here()

    def step(self, index: int) -> int:
        char = self.src[index]
        if char == "\\" and index + 1 < len(self.src):
            self.out.append(self.src[index + 1])
            return index + 2
        if char == "`":
            fence = "```" if self.src.startswith("```", index) else "`"
            self.toggle(fence, "pre" if len(fence) == 3 else "code")
            return index + len(fence)
        marker = None if "`" in self.open_at else _md_marker(self.src, index)
        if marker is not None:
            self.toggle(marker, _MD_MARKERS[marker])
            return index + len(marker)
        at_line_start = index == 0 or self.src[index - 1] == "\n"
        in_code = "`" in self.open_at or "```" in self.open_at
        if char == ">" and at_line_start:
            return index + 1
        if char in _MD_RESERVED and char not in "[]()" and not in_code:
            raise _parse_error(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
        self.out.append(char)
        return index + 1

    def parse(self) -> tuple[str, tuple[Entity, ...]]:
        index = 0
        while index < len(self.src):
            index = self.step(index)
        if self.open_at:
            marker = next(iter(self.open_at))
            name = {"`": "code", "```": "pre"}.get(marker) or _MD_MARKERS[marker]
            raise _parse_error(f"Can't find end of {name.title()} entity")
        return "".join(self.out), tuple(sorted(self.entities, key=lambda e: e.offset))


def apply_parse_mode(text: str, parse_mode: str | None) -> tuple[str, tuple[Entity, ...]]:
    """The text and entities Telegram stores for `text` sent with `parse_mode`."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _MarkdownV2(text).parse()
    if mode in ("", "markdown"):
        return text, ()
    raise bad_request(f"unsupported parse_mode {parse_mode}")
