"""The sandbox's state model: frozen values for users, chats, topics, files and messages.

These are the sandbox's own records, not python-telegram-bot objects; `wire` renders them as Bot API
JSON. A message is immutable: an edit stores a new version with `edit_date` set and `version` increased.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

JsonObject = dict[str, Any]

# The six colours Telegram allows for forum topic icons; the first is the default.
TOPIC_ICON_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)


class ChatType(enum.StrEnum):
    """Telegram's chat types."""

    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


class MediaKind(enum.StrEnum):
    """The attachment kinds the sandbox stores; the value is the Message field name."""

    PHOTO = "photo"
    DOCUMENT = "document"
    VOICE = "voice"
    STICKER = "sticker"


@dataclass(frozen=True)
class User:
    """A Telegram account: a person or a bot."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    is_bot: bool = False
    language_code: str | None = None


@dataclass(frozen=True)
class Chat:
    """A chat as Telegram describes it in `Message.chat`."""

    id: int
    type: ChatType
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    is_forum: bool = False


@dataclass(frozen=True)
class Topic:
    """A forum topic; its `thread_id` is the id of the service message that created it, as in Telegram."""

    chat_id: int
    thread_id: int
    name: str
    icon_color: int = TOPIC_ICON_COLORS[0]
    closed: bool = False


@dataclass(frozen=True)
class FileMeta:
    """What `getFile` tells about a stored file."""

    file_id: str
    file_unique_id: str
    file_size: int
    file_path: str


@dataclass(frozen=True)
class Media:
    """An attachment of a message; `thumb` is the smaller photo size Telegram adds to photos."""

    kind: MediaKind
    file: FileMeta
    thumb: FileMeta | None = None
    width: int = 0
    height: int = 0
    duration: int = 0
    file_name: str | None = None
    mime_type: str | None = None
    emoji: str | None = None


@dataclass(frozen=True)
class Entity:
    """A MessageEntity; offsets and lengths count UTF-16 code units, as Telegram's do."""

    type: str
    offset: int
    length: int
    url: str | None = None


@dataclass(frozen=True)
class Message:
    """One version of a message in a chat.

    `text` and `caption` are "" when absent (Telegram never allows an empty text message). `service` holds a
    service-message field such as `{"forum_topic_created": {...}}`.
    """

    message_id: int
    chat: Chat
    date: int
    sender: User | None
    thread_id: int | None = None
    text: str = ""
    entities: tuple[Entity, ...] = ()
    caption: str = ""
    caption_entities: tuple[Entity, ...] = ()
    media: Media | None = None
    reply_markup: JsonObject | None = None
    reply_to: Message | None = None
    edit_date: int | None = None
    version: int = 1
    service: Mapping[str, Any] = field(default_factory=dict)
    forward_from: User | None = None
    reply_keyboard: JsonObject | None = None  # a custom keyboard or removal; Telegram does not echo it back
    bot_id: int | None = None  # private chats: the bot whose chat with the user this message is in

    @property
    def chat_id(self) -> int:
        """The chat's id."""
        return self.chat.id

    @property
    def sender_id(self) -> int | None:
        """The sending account's id (None for channel posts)."""
        return self.sender.id if self.sender else None

    @property
    def kind(self) -> str:
        """ "text", "service" or the media kind ("photo", "document", "voice", "sticker")."""
        if self.media is not None:
            return self.media.kind.value
        return "service" if self.service else "text"

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """The inline keyboard as (label, callback_data) pairs, row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data")) for row in rows for b in row]

    @property
    def body(self) -> str:
        """The text, or the caption for media messages."""
        return self.text or self.caption


@dataclass(frozen=True)
class CallbackQuery:
    """A button press injected by the control API, and the bot's answer once it arrives."""

    id: str
    user: User
    message: Message
    data: str
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False


@dataclass(frozen=True)
class ChatAction:
    """A `sendChatAction` the bot made ("typing", ...)."""

    bot_id: int
    chat_id: int
    thread_id: int | None
    action: str
    at: float
